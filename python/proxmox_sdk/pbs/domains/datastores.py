"""``/admin/datastore``: the datastores and their usage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from proxmox_sdk._response_utils import normalize_list, unwrap_data
from proxmox_sdk.pbs import models as m

if TYPE_CHECKING:
    from proxmox_sdk.sdk.api import ProxmoxSDK

__all__ = ["Datastores"]


def _gc_state(status: dict[str, Any]) -> dict[str, Any]:
    """PBS reports garbage collection as an object (its last run's figures and task);
    ``gc_status`` is its state word: ``running`` while the task runs, ``ok`` after a
    run, ``pending`` before any. The object itself stays as ``gc_status_detail``."""
    gc = status.get("gc-status")
    if isinstance(gc, dict):
        status = dict(status)
        status["gc_status_detail"] = gc
        if gc.get("error"):
            status["gc-status"] = "error"
        elif gc.get("upid"):
            status["gc-status"] = "ok"
        else:
            status["gc-status"] = "pending"
    return status


class Datastores:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    async def list(self) -> list[m.PBSDatastore]:
        """``GET /admin/datastore``."""
        data = await self._sdk.admin.datastore.get()
        return [m.PBSDatastore.model_validate(item) for item in normalize_list(data)]

    async def usage(self, store: str) -> m.PBSDatastore:
        """One datastore with its sizes (``GET /admin/datastore/{store}/status``)."""
        data = unwrap_data(await self._sdk.admin.datastore(store).status.get()) or {}
        return m.PBSDatastore.model_validate(_gc_state({"store": store, **data}))
