"""``RGWAdminClient``: the RADOS Gateway's Admin Ops API (``/admin/*``): users, buckets,
quotas, usage. Requests are signed as S3's signature version 2 (HMAC-SHA1 over method,
date and resource, with the admin user's key pair); the secret key only ever signs, it is
never logged, shown or kept on a result. Destructive writes need ``confirm_destroy=True``.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
from collections.abc import Callable
from email.utils import formatdate
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
from proxmox_sdk.sdk.exceptions import ProxmoxSDKError

__all__ = ["RGWAdminClient"]

#: Sub-resources S3 v2 signs as part of the resource (``/admin/user?quota``).
_SIGNED_SUBRESOURCES = ("quota",)


def _dashed(fields: dict[str, Any]) -> dict[str, Any]:
    """``display_name=`` -> ``display-name`` (the API's names); ``None`` dropped."""
    return {k.replace("_", "-"): v for k, v in fields.items() if v is not None}


class RGWAdminClient(BaseHttpProvider):
    provider = "rgw_admin"

    def __init__(
        self,
        base_url: str,
        *,
        access_key: str,
        secret_key: str,
        admin_path: str = "admin",
        verify_ssl: bool = True,
        timeout: int = DEFAULT_TIMEOUT,
        transport: AsyncTransport | None = None,
        clock: Callable[[], str] | None = None,
    ) -> None:
        super().__init__(base_url, verify_ssl=verify_ssl, timeout=timeout, transport=transport)
        if not access_key or not secret_key:
            raise ValueError("RGW Admin Ops requires access_key and secret_key")
        self._access_key = access_key
        self._secret_key = secret_key
        self._admin_path = admin_path.strip("/")
        self._clock = clock or (lambda: formatdate(usegmt=True))

    def __repr__(self) -> str:
        return f"RGWAdminClient({self._base_url!r}, access_key={self._access_key!r})"

    def _path(self, resource: str) -> str:
        resource = resource.strip("/")
        return f"/{self._admin_path}/{resource}" if resource else f"/{self._admin_path}"

    def signature(self, method: str, resource: str, date: str) -> str:
        """The S3 v2 signature of a request (no body hash or content type: the Admin Ops
        requests carry their arguments in the query string)."""
        text = f"{method}\n\n\n{date}\n{resource}"
        digest = hmac.new(self._secret_key.encode(), text.encode(), hashlib.sha1).digest()
        return base64.b64encode(digest).decode("ascii")

    async def _request(
        self,
        method: str,
        resource: str,
        *,
        params: dict[str, Any] | None = None,
        json: Any | None = None,
    ) -> HttpResponse:
        path = self._path(resource)
        query: dict[str, Any] = {"format": "json", **(params or {})}
        signed = sorted(k for k in _SIGNED_SUBRESOURCES if k in query)
        canonical = f"{path}?{'&'.join(signed)}" if signed else path
        date = self._clock()
        headers = {
            "Date": date,
            "Authorization": f"AWS {self._access_key}:{self.signature(method, canonical, date)}",
            "Accept": "application/json",
        }
        response = await self._transport.request(
            method, self._url(path), headers=headers, params=query, json=json
        )
        self._raise_for_status(response, context=f"rgw_admin {method} {path}")
        return response

    # -- reads -------------------------------------------------------------------------

    async def list_user_ids(self) -> list[str]:
        body = (await self._request("GET", "metadata/user")).json_body
        return [str(u) for u in body] if isinstance(body, list) else []

    async def get_user(self, uid: str) -> m.RGWUser:
        body = (await self._request("GET", "user", params={"uid": uid})).json_body
        return m.RGWUser.model_validate(body if isinstance(body, dict) else {})

    async def list_users(self) -> list[m.RGWUser]:
        """Every user; one that fails to load (removed meanwhile) is skipped."""
        results = await asyncio.gather(
            *(self.get_user(uid) for uid in await self.list_user_ids()), return_exceptions=True
        )
        users = []
        for r in results:
            if isinstance(r, m.RGWUser):
                users.append(r)
            elif not isinstance(r, ProxmoxSDKError) and isinstance(r, BaseException):
                raise r
        return users

    async def list_buckets(self) -> list[str]:
        body = (await self._request("GET", "bucket")).json_body
        return [str(b) for b in body] if isinstance(body, list) else []

    async def get_bucket(self, bucket: str) -> m.RGWBucket:
        body = (
            await self._request("GET", "bucket", params={"bucket": bucket, "stats": "true"})
        ).json_body
        return m.RGWBucket.model_validate(body if isinstance(body, dict) else {})

    async def usage(self, *, show_summary: bool = True) -> m.RGWUsage:
        params = {"show-summary": "true" if show_summary else "false"}
        body = (await self._request("GET", "usage", params=params)).json_body
        return m.RGWUsage.model_validate(body if isinstance(body, dict) else {})

    # -- writes ------------------------------------------------------------------------

    async def create_user(self, uid: str, *, display_name: str, **fields: Any) -> m.RGWUser:
        params = {"uid": uid, "display-name": display_name, **_dashed(fields)}
        body = (await self._request("PUT", "user", params=params)).json_body
        return m.RGWUser.model_validate(body if isinstance(body, dict) else {})

    async def modify_user(self, uid: str, **fields: Any) -> m.RGWUser:
        body = (
            await self._request("POST", "user", params={"uid": uid, **_dashed(fields)})
        ).json_body
        return m.RGWUser.model_validate(body if isinstance(body, dict) else {})

    async def set_user_suspended(self, uid: str, *, suspended: bool) -> m.RGWUser:
        return await self.modify_user(uid, suspended=suspended)

    async def _quota(
        self, uid: str, kind: str, max_size: int | None, max_objects: int | None
    ) -> JSONValue:
        params: dict[str, Any] = {"uid": uid, "quota-type": kind, "enabled": "true", "quota": ""}
        if max_size is not None:
            params["max-size"] = max_size
        if max_objects is not None:
            params["max-objects"] = max_objects
        return (await self._request("PUT", "user", params=params)).json_body

    async def set_user_quota(
        self, uid: str, *, max_size: int | None = None, max_objects: int | None = None
    ) -> JSONValue:
        return await self._quota(uid, "user", max_size, max_objects)

    async def set_bucket_quota(
        self, uid: str, *, max_size: int | None = None, max_objects: int | None = None
    ) -> JSONValue:
        return await self._quota(uid, "bucket", max_size, max_objects)

    async def remove_user(
        self, uid: str, *, purge_data: bool = False, confirm_destroy: bool = False
    ) -> JSONValue:
        require_confirm("remove_user", confirm_destroy)
        params = {"uid": uid, "purge-data": "true" if purge_data else "false"}
        return (await self._request("DELETE", "user", params=params)).json_body

    async def link_bucket(self, *, bucket: str, uid: str) -> JSONValue:
        return (
            await self._request("PUT", "bucket", params={"bucket": bucket, "uid": uid})
        ).json_body

    async def remove_bucket(
        self, bucket: str, *, purge_objects: bool = False, confirm_destroy: bool = False
    ) -> JSONValue:
        require_confirm("remove_bucket", confirm_destroy)
        params = {"bucket": bucket, "purge-objects": "true" if purge_objects else "false"}
        return (await self._request("DELETE", "bucket", params=params)).json_body

    async def capabilities(self) -> ProviderCapability:
        try:
            await self.list_user_ids()
        except ProxmoxSDKError as exc:
            return ProviderCapability(
                provider=self.provider, available=False, notes=[f"rgw admin ops unavailable: {exc}"]
            )
        return ProviderCapability(
            provider=self.provider,
            available=True,
            read=True,
            write=True,
            operations=dict.fromkeys(
                (
                    "rgw_user:create",
                    "rgw_user:update",
                    "rgw_user:suspend",
                    "rgw_user:delete",
                    "rgw_bucket:create",
                    "rgw_bucket:update",
                    "rgw_bucket:delete",
                    "rgw_user:quota",
                    "rgw_bucket:quota",
                ),
                True,
            ),
        )
