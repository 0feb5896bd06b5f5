"""``RBDClient``: RBD images and snapshots through the Dashboard's block API (RBD has no
HTTP API of its own), with RBD's own safety gates: shrinking needs ``allow_shrink=True``,
deleting and trashing ``confirm_destroy=True``."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from proxmox_sdk.ceph._confirm import require_confirm
from proxmox_sdk.ceph.providers import models as m
from proxmox_sdk.ceph.providers._http import JSONValue
from proxmox_sdk.ceph.providers.capability import ProviderCapability
from proxmox_sdk.ceph.providers.dashboard import DashboardCephClient
from proxmox_sdk.sdk.exceptions import CephCapabilityUnsupportedError

__all__ = ["RBDClient"]


def _image_spec(pool_name: str, image_name: str, namespace: str | None = None) -> str:
    """``pool[/namespace]/image``, URL-encoded as one path segment (the API's form)."""
    parts = [pool_name, *([namespace] if namespace else []), image_name]
    return quote("/".join(parts), safe="")


class RBDClient:
    provider = "rbd"

    def __init__(self, dashboard: DashboardCephClient) -> None:
        self._dashboard = dashboard

    async def list_images(self, pool_name: str | None = None) -> list[m.DashboardRBDImage]:
        return await self._dashboard.rbd_images(pool_name)

    async def get_image(self, pool_name: str, image_name: str) -> m.DashboardRBDImage | None:
        return next(
            (i for i in await self._dashboard.rbd_images(pool_name) if i.name == image_name), None
        )

    async def create_image(
        self,
        pool_name: str,
        image_name: str,
        size_bytes: int,
        *,
        features: list[str] | None = None,
        namespace: str | None = None,
        data_pool: str | None = None,
        obj_size: int | None = None,
        stripe_unit: int | None = None,
        stripe_count: int | None = None,
        configuration: dict[str, Any] | None = None,
    ) -> JSONValue:
        payload: dict[str, Any] = {"pool_name": pool_name, "name": image_name, "size": size_bytes}
        optional = {
            "namespace": namespace or None,
            "features": features,
            "data_pool": data_pool or None,
            "obj_size": obj_size,
            "stripe_unit": stripe_unit,
            "stripe_count": stripe_count,
            "configuration": configuration or None,
        }
        payload.update({k: v for k, v in optional.items() if v is not None})
        return await self._dashboard.rbd_create(payload)

    async def resize_image(
        self,
        pool_name: str,
        image_name: str,
        size_bytes: int,
        *,
        namespace: str | None = None,
        current_size_bytes: int | None = None,
        allow_shrink: bool = False,
    ) -> JSONValue:
        if current_size_bytes is not None and size_bytes < current_size_bytes and not allow_shrink:
            raise ValueError("resize would shrink the image; pass allow_shrink=True to proceed.")
        spec = _image_spec(pool_name, image_name, namespace)
        return await self._dashboard.rbd_edit(spec, {"size": size_bytes})

    async def update_metadata(
        self,
        pool_name: str,
        image_name: str,
        *,
        namespace: str | None = None,
        features: list[str] | None = None,
        configuration: dict[str, Any] | None = None,
    ) -> JSONValue:
        payload = {
            k: v
            for k, v in (("features", features), ("configuration", configuration))
            if v is not None
        }
        return await self._dashboard.rbd_edit(
            _image_spec(pool_name, image_name, namespace), payload
        )

    async def delete_image(
        self,
        pool_name: str,
        image_name: str,
        *,
        namespace: str | None = None,
        confirm_destroy: bool = False,
    ) -> JSONValue:
        require_confirm("delete_image", confirm_destroy)
        spec = _image_spec(pool_name, image_name, namespace)
        return await self._dashboard.rbd_delete(spec, confirm_destroy=True)

    async def move_to_trash(
        self,
        pool_name: str,
        image_name: str,
        *,
        namespace: str | None = None,
        confirm_destroy: bool = False,
    ) -> JSONValue:
        require_confirm("move_to_trash", confirm_destroy)
        spec = _image_spec(pool_name, image_name, namespace)
        return await self._dashboard.rbd_move_trash(spec, confirm_destroy=True)

    async def create_snapshot(
        self, pool_name: str, image_name: str, snapshot_name: str, *, namespace: str | None = None
    ) -> JSONValue:
        spec = _image_spec(pool_name, image_name, namespace)
        return await self._dashboard.rbd_snapshot_create(spec, snapshot_name)

    async def delete_snapshot(
        self,
        pool_name: str,
        image_name: str,
        snapshot_name: str,
        *,
        namespace: str | None = None,
        confirm_destroy: bool = False,
    ) -> JSONValue:
        require_confirm("delete_snapshot", confirm_destroy)
        spec = _image_spec(pool_name, image_name, namespace)
        return await self._dashboard.rbd_snapshot_delete(spec, snapshot_name, confirm_destroy=True)

    async def capabilities(self) -> ProviderCapability:
        caps = await self._dashboard.capabilities()
        if not caps.available:
            return ProviderCapability(
                provider=self.provider,
                available=False,
                notes=["rbd requires a reachable Ceph Dashboard provider"],
            )
        return ProviderCapability(
            provider=self.provider,
            available=True,
            version=caps.version,
            read=True,
            write=True,
            operations=dict.fromkeys(
                (
                    "rbd_image:create",
                    "rbd_image:update",
                    "rbd_image:resize",
                    "rbd_image:delete",
                    "rbd_image:trash",
                    "rbd_snapshot:create",
                    "rbd_snapshot:delete",
                ),
                True,
            ),
        )

    def require(self, kind: str, action: str, capability: ProviderCapability) -> None:
        if not capability.supports(kind, action):
            raise CephCapabilityUnsupportedError(f"{kind}:{action}", provider=self.provider)
