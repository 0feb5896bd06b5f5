"""The Ceph writes PVE manages: pools, cluster flags, OSDs, monitors, managers, metadata
servers, CephFS, the Ceph services. Destructive ones need ``confirm_destroy=True``; task
answers are checked to be UPIDs."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from proxmox_sdk._response_utils import unwrap_data
from proxmox_sdk.ceph import models as m
from proxmox_sdk.ceph._confirm import require_confirm
from proxmox_sdk.sdk.exceptions import ProxmoxSDKError

if TYPE_CHECKING:
    from pydantic import BaseModel

    from proxmox_sdk.sdk.api import ProxmoxSDK

__all__ = ["CephWrite"]


def _params(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(by_alias=True, exclude_none=True)


def _upid(result: Any) -> str:
    upid = unwrap_data(result)
    if not isinstance(upid, str):
        raise ProxmoxSDKError(
            f"expected a Proxmox task UPID string, got {type(upid).__name__}: {upid!r}"
        )
    return upid


class CephWrite:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    def _at(self, node: str, *segments: str | int) -> Any:
        return self._sdk(["nodes", node, "ceph", *segments])

    # -- pools -------------------------------------------------------------------------

    async def pool_create(
        self,
        node: str,
        name: str,
        *,
        add_storages: bool | None = None,
        application: m.CephPoolApplication | str | None = None,
        crush_rule: str | None = None,
        erasure_coding: str | None = None,
        min_size: int | None = None,
        pg_autoscale_mode: m.CephPGAutoscaleMode | str | None = None,
        pg_num: int | None = None,
        pg_num_min: int | None = None,
        size: int | None = None,
        target_size: str | None = None,
        target_size_ratio: float | None = None,
    ) -> str:
        """Creates a pool; the UPID of PVE's task."""
        params = m.CephPoolCreateParams.model_validate(
            {
                "name": name,
                "add_storages": add_storages,
                "application": application,
                "crush_rule": crush_rule,
                "erasure-coding": erasure_coding,
                "min_size": min_size,
                "pg_autoscale_mode": pg_autoscale_mode,
                "pg_num": pg_num,
                "pg_num_min": pg_num_min,
                "size": size,
                "target_size": target_size,
                "target_size_ratio": target_size_ratio,
            }
        )
        return _upid(await self._at(node, "pool").post(**_params(params)))

    async def pool_set(
        self,
        node: str,
        name: str,
        *,
        application: m.CephPoolApplication | str | None = None,
        crush_rule: str | None = None,
        min_size: int | None = None,
        pg_autoscale_mode: m.CephPGAutoscaleMode | str | None = None,
        pg_num: int | None = None,
        pg_num_min: int | None = None,
        size: int | None = None,
        target_size: str | None = None,
        target_size_ratio: float | None = None,
    ) -> str:
        params = m.CephPoolSetParams(
            application=application,
            crush_rule=crush_rule,
            min_size=min_size,
            pg_autoscale_mode=pg_autoscale_mode,
            pg_num=pg_num,
            pg_num_min=pg_num_min,
            size=size,
            target_size=target_size,
            target_size_ratio=target_size_ratio,
        )
        return _upid(await self._at(node, "pool", name).put(**_params(params)))

    async def pool_delete(
        self,
        node: str,
        name: str,
        *,
        confirm_destroy: bool = False,
        force: bool | None = None,
        remove_ecprofile: bool | None = None,
        remove_storages: bool | None = None,
    ) -> str:
        require_confirm("pool_delete", confirm_destroy)
        params = m.CephPoolDeleteParams(
            force=force, remove_ecprofile=remove_ecprofile, remove_storages=remove_storages
        )
        return _upid(await self._at(node, "pool", name).delete(**_params(params)))

    # -- flags -------------------------------------------------------------------------

    async def flag_set(self, flag: m.CephFlagName | str) -> Any:
        return await self._flag(flag, True)

    async def flag_unset(self, flag: m.CephFlagName | str) -> Any:
        return await self._flag(flag, False)

    async def _flag(self, flag: str, value: bool) -> Any:
        params = _params(m.CephFlagUpdateParams(value=value))
        return unwrap_data(await self._sdk(["cluster", "ceph", "flags", flag]).put(**params))

    # -- OSDs --------------------------------------------------------------------------

    async def osd_create(
        self,
        node: str,
        dev: str,
        *,
        crush_device_class: str | None = None,
        db_dev: str | None = None,
        db_dev_size: float | None = None,
        encrypted: bool | None = None,
        osds_per_device: int | None = None,
        wal_dev: str | None = None,
        wal_dev_size: float | None = None,
    ) -> str:
        params = m.CephOSDCreateParams.model_validate(
            {
                "dev": dev,
                "crush-device-class": crush_device_class,
                "db_dev": db_dev,
                "db_dev_size": db_dev_size,
                "encrypted": encrypted,
                "osds-per-device": osds_per_device,
                "wal_dev": wal_dev,
                "wal_dev_size": wal_dev_size,
            }
        )
        return _upid(await self._at(node, "osd").post(**_params(params)))

    async def osd_delete(
        self,
        node: str,
        osdid: int | str,
        *,
        confirm_destroy: bool = False,
        cleanup: bool | None = None,
    ) -> str:
        require_confirm("osd_delete", confirm_destroy)
        params = _params(m.CephOSDDeleteParams(cleanup=cleanup))
        return _upid(await self._at(node, "osd", osdid).delete(**params))

    async def osd_in(self, node: str, osdid: int | str) -> Any:
        return unwrap_data(await self._at(node, "osd", osdid, "in").post())

    async def osd_out(self, node: str, osdid: int | str) -> Any:
        return unwrap_data(await self._at(node, "osd", osdid, "out").post())

    # -- monitors, managers, metadata servers ------------------------------------------

    async def mon_create(self, node: str, monid: str, *, mon_address: str | None = None) -> str:
        params = _params(m.CephMonCreateParams.model_validate({"mon-address": mon_address}))
        return _upid(await self._at(node, "mon", monid).post(**params))

    async def mon_delete(self, node: str, monid: str, *, confirm_destroy: bool = False) -> str:
        require_confirm("mon_delete", confirm_destroy)
        return _upid(await self._at(node, "mon", monid).delete())

    async def mgr_create(self, node: str, mgr_id: str) -> str:
        return _upid(await self._at(node, "mgr", mgr_id).post())

    async def mgr_delete(self, node: str, mgr_id: str, *, confirm_destroy: bool = False) -> str:
        require_confirm("mgr_delete", confirm_destroy)
        return _upid(await self._at(node, "mgr", mgr_id).delete())

    async def mds_create(self, node: str, name: str, *, hotstandby: bool | None = None) -> str:
        params = _params(m.CephMDSCreateParams(hotstandby=hotstandby))
        return _upid(await self._at(node, "mds", name).post(**params))

    async def mds_delete(self, node: str, name: str, *, confirm_destroy: bool = False) -> str:
        require_confirm("mds_delete", confirm_destroy)
        return _upid(await self._at(node, "mds", name).delete())

    # -- CephFS and services -----------------------------------------------------------

    async def cephfs_create(
        self, node: str, name: str, *, add_storage: bool | None = None, pg_num: int | None = None
    ) -> str:
        params = m.CephFSCreateParams.model_validate({"add-storage": add_storage, "pg_num": pg_num})
        return _upid(await self._at(node, "fs", name).post(**_params(params)))

    async def service_start(self, node: str, service: str | None = None) -> str:
        return _upid(
            await self._at(node, "start").post(**_params(m.CephServiceParams(service=service)))
        )

    async def service_stop(self, node: str, service: str | None = None) -> str:
        return _upid(
            await self._at(node, "stop").post(**_params(m.CephServiceParams(service=service)))
        )

    async def service_restart(self, node: str, service: str | None = None) -> str:
        return _upid(
            await self._at(node, "restart").post(**_params(m.CephServiceParams(service=service)))
        )
