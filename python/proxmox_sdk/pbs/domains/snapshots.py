"""``/admin/datastore/{store}/groups`` and ``.../snapshots``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from proxmox_sdk._response_utils import normalize_list
from proxmox_sdk.pbs import models as m

if TYPE_CHECKING:
    from proxmox_sdk.sdk.api import ProxmoxSDK

__all__ = ["Snapshots"]


class Snapshots:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    async def groups(self, store: str, *, namespace: str | None = None) -> list[m.PBSBackupGroup]:
        """The backup groups of ``store`` (of ``namespace``: beyond the original)."""
        params: dict[str, Any] = {} if namespace is None else {"ns": namespace}
        data = await self._sdk.admin.datastore(store).groups.get(**params)
        return [m.PBSBackupGroup.model_validate(item) for item in normalize_list(data)]

    async def list(
        self,
        store: str,
        *,
        backup_type: m.BackupType | None = None,
        backup_id: str | None = None,
        namespace: str | None = None,
    ) -> list[m.PBSSnapshot]:
        """The snapshots of ``store``, of one type or group if asked."""
        params: dict[str, Any] = {}
        if backup_type is not None:
            params["backup-type"] = backup_type
        if backup_id is not None:
            params["backup-id"] = backup_id
        if namespace is not None:
            params["ns"] = namespace
        data = await self._sdk.admin.datastore(store).snapshots.get(**params)
        return [m.PBSSnapshot.model_validate(item) for item in normalize_list(data)]
