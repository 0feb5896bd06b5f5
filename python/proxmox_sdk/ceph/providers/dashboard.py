"""``DashboardCephClient``: the Ceph Manager Dashboard's REST API (``/api/*``), for
Proxmox-managed and standalone clusters alike. A JWT from ``POST /api/auth`` authorizes
every request; each names its API version in ``Accept``
(``application/vnd.ceph.api.v1.0+json``; the block-image API is ``v2.0``). Destructive
writes need ``confirm_destroy=True``."""

from __future__ import annotations

from typing import Any

from proxmox_sdk.ceph._confirm import require_confirm
from proxmox_sdk.ceph.providers import models as m
from proxmox_sdk.ceph.providers._http import (
    DEFAULT_TIMEOUT,
    AsyncTransport,
    BaseHttpProvider,
    HttpResponse,
    JSONValue,
)
from proxmox_sdk.ceph.providers.capability import ProviderCapability
from proxmox_sdk.sdk.exceptions import (
    AuthenticationError,
    CephCapabilityUnsupportedError,
    ProxmoxSDKError,
)

__all__ = ["DashboardCephClient"]

_BLOCK_IMAGE_VERSION = "2.0"

_OPERATIONS = (
    "pool:create",
    "pool:update",
    "pool:set",
    "pool:delete",
    "rbd_image:create",
    "rbd_image:update",
    "rbd_image:delete",
    "rbd_snapshot:create",
    "rbd_snapshot:delete",
    "rgw_bucket:read",
    "rgw_user:read",
)


def _media_type(version: str) -> str:
    return f"application/vnd.ceph.api.v{version}+json"


def _items(body: Any) -> list[dict[str, Any]]:
    if isinstance(body, dict):
        for key in ("items", "results", "data"):
            if isinstance(body.get(key), list):
                body = body[key]
                break
    return [i for i in body if isinstance(i, dict)] if isinstance(body, list) else []


class DashboardCephClient(BaseHttpProvider):
    provider = "dashboard"

    def __init__(
        self,
        base_url: str,
        *,
        username: str | None = None,
        password: str | None = None,
        token: str | None = None,
        verify_ssl: bool = True,
        timeout: int = DEFAULT_TIMEOUT,
        api_version: str = "1.0",
        transport: AsyncTransport | None = None,
    ) -> None:
        super().__init__(base_url, verify_ssl=verify_ssl, timeout=timeout, transport=transport)
        self._username = username
        self._password = password
        self._token = token
        self._api_version = api_version

    def __repr__(self) -> str:
        return f"DashboardCephClient({self._base_url!r}, username={self._username!r})"

    async def login(self) -> str:
        """Logs in and keeps the token."""
        if not (self._username and self._password):
            raise AuthenticationError("Dashboard login requires username and password")
        response = await self._transport.request(
            "POST",
            self._url("api/auth"),
            headers={"Accept": _media_type(self._api_version), "Content-Type": "application/json"},
            json={"username": self._username, "password": self._password},
        )
        if response.status >= 400 or not isinstance(response.json_body, dict):
            raise AuthenticationError(f"Dashboard authentication failed (HTTP {response.status})")
        token = response.json_body.get("token")
        if not isinstance(token, str) or not token:
            raise AuthenticationError("Dashboard authentication returned no token")
        self._token = token
        return token

    async def logout(self) -> None:
        if not self._token:
            return
        try:
            await self._request("POST", "api/auth/logout")
        except ProxmoxSDKError:
            pass
        finally:
            self._token = None

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any | None = None,
        version: str | None = None,
    ) -> HttpResponse:
        token = self._token or await self.login()
        headers = {
            "Accept": _media_type(version or self._api_version),
            "Authorization": f"Bearer {token}",
        }
        if json is not None:
            headers["Content-Type"] = "application/json"
        response = await self._transport.request(
            method, self._url(path), headers=headers, params=params, json=json
        )
        self._raise_for_status(response, context=f"dashboard {method} /{path}")
        return response

    # -- reads -------------------------------------------------------------------------

    async def summary(self) -> dict[str, Any]:
        body = (await self._request("GET", "api/summary")).json_body
        return body if isinstance(body, dict) else {}

    async def version(self) -> str | None:
        try:
            version = (await self.summary()).get("version")
        except ProxmoxSDKError:
            return None
        return version if isinstance(version, str) else None

    async def health(self) -> m.DashboardHealth:
        body = (await self._request("GET", "api/health/minimal")).json_body
        body = body if isinstance(body, dict) else {}
        health = body.get("health", body)
        if isinstance(health, dict):
            return m.DashboardHealth.model_validate(health)
        return m.DashboardHealth(status=str(health) if health else "unknown")

    async def hosts(self) -> list[m.DashboardHost]:
        return [
            m.DashboardHost.model_validate(i)
            for i in _items((await self._request("GET", "api/host")).json_body)
        ]

    async def osds(self) -> list[m.DashboardOSD]:
        return [
            m.DashboardOSD.model_validate(i)
            for i in _items((await self._request("GET", "api/osd")).json_body)
        ]

    async def pools(self, *, stats: bool = True) -> list[m.DashboardPool]:
        body = (await self._request("GET", "api/pool", params={"stats": stats})).json_body
        return [m.DashboardPool.model_validate(i) for i in _items(body)]

    async def filesystems(self) -> list[m.DashboardFilesystem]:
        body = (await self._request("GET", "api/cephfs")).json_body
        return [m.DashboardFilesystem.model_validate(i) for i in _items(body)]

    async def rbd_images(self, pool_name: str | None = None) -> list[m.DashboardRBDImage]:
        """Every image (the API groups them per pool: ``[{"pool_name", "value": [...]}]``)."""
        params = {"pool_name": pool_name} if pool_name else None
        body = (
            await self._request(
                "GET", "api/block/image", params=params, version=_BLOCK_IMAGE_VERSION
            )
        ).json_body
        images: list[dict[str, Any]] = []
        if isinstance(body, list):
            for group in body:
                if isinstance(group, dict) and isinstance(group.get("value"), list):
                    images.extend(i for i in group["value"] if isinstance(i, dict))
                elif isinstance(group, dict):
                    images.append(group)
        else:
            images = _items(body)
        return [m.DashboardRBDImage.model_validate(i) for i in images]

    async def rgw_daemons(self) -> list[m.DashboardRGWDaemon]:
        body = (await self._request("GET", "api/rgw/daemon")).json_body
        return [m.DashboardRGWDaemon.model_validate(i) for i in _items(body)]

    async def rgw_buckets(self) -> list[m.DashboardRGWBucket]:
        body = (await self._request("GET", "api/rgw/bucket", params={"stats": True})).json_body
        return [m.DashboardRGWBucket.model_validate(i) for i in _items(body)]

    # -- writes ------------------------------------------------------------------------

    async def pool_create(self, payload: dict[str, Any]) -> JSONValue:
        return (await self._request("POST", "api/pool", json=payload)).json_body

    async def pool_edit(self, pool_name: str, payload: dict[str, Any]) -> JSONValue:
        return (await self._request("PUT", f"api/pool/{pool_name}", json=payload)).json_body

    async def pool_delete(self, pool_name: str, *, confirm_destroy: bool = False) -> JSONValue:
        require_confirm("pool_delete", confirm_destroy)
        return (await self._request("DELETE", f"api/pool/{pool_name}")).json_body

    async def rbd_create(self, payload: dict[str, Any]) -> JSONValue:
        r = await self._request(
            "POST", "api/block/image", json=payload, version=_BLOCK_IMAGE_VERSION
        )
        return r.json_body

    async def rbd_edit(self, image_spec: str, payload: dict[str, Any]) -> JSONValue:
        r = await self._request(
            "PUT", f"api/block/image/{image_spec}", json=payload, version=_BLOCK_IMAGE_VERSION
        )
        return r.json_body

    async def rbd_delete(self, image_spec: str, *, confirm_destroy: bool = False) -> JSONValue:
        require_confirm("rbd_delete", confirm_destroy)
        r = await self._request(
            "DELETE", f"api/block/image/{image_spec}", version=_BLOCK_IMAGE_VERSION
        )
        return r.json_body

    async def rbd_move_trash(self, image_spec: str, *, confirm_destroy: bool = False) -> JSONValue:
        require_confirm("rbd_move_trash", confirm_destroy)
        r = await self._request(
            "POST",
            f"api/block/image/{image_spec}/move_trash",
            json={},
            version=_BLOCK_IMAGE_VERSION,
        )
        return r.json_body

    async def rbd_snapshot_create(self, image_spec: str, snapshot_name: str) -> JSONValue:
        r = await self._request(
            "POST",
            f"api/block/image/{image_spec}/snap",
            json={"snapshot_name": snapshot_name},
            version=_BLOCK_IMAGE_VERSION,
        )
        return r.json_body

    async def rbd_snapshot_delete(
        self, image_spec: str, snapshot_name: str, *, confirm_destroy: bool = False
    ) -> JSONValue:
        require_confirm("rbd_snapshot_delete", confirm_destroy)
        r = await self._request(
            "DELETE",
            f"api/block/image/{image_spec}/snap/{snapshot_name}",
            version=_BLOCK_IMAGE_VERSION,
        )
        return r.json_body

    # -- capabilities ------------------------------------------------------------------

    async def capabilities(self) -> ProviderCapability:
        """What this Dashboard can do; ``available=False`` (never an exception) when it
        cannot be reached or logged in to."""
        try:
            summary = await self.summary()
        except (ProxmoxSDKError, AuthenticationError) as exc:
            return ProviderCapability(
                provider=self.provider, available=False, notes=[f"dashboard unavailable: {exc}"]
            )
        version = summary.get("version")
        return ProviderCapability(
            provider=self.provider,
            available=True,
            version=version if isinstance(version, str) else None,
            read=True,
            write=True,
            metrics=False,
            operations=dict.fromkeys(_OPERATIONS, True),
        )

    def require(self, kind: str, action: str, capability: ProviderCapability) -> None:
        if not capability.supports(kind, action):
            raise CephCapabilityUnsupportedError(f"{kind}:{action}", provider=self.provider)
