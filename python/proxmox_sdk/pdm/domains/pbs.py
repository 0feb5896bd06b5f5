"""A PBS remote through PDM: datastores, snapshots, tasks, metrics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from proxmox_sdk._response_utils import normalize_list, unwrap_data
from proxmox_sdk.pdm import models as m
from proxmox_sdk.pdm.domains.pve import _rrd

if TYPE_CHECKING:
    from proxmox_sdk.sdk.api import ProxmoxSDK

__all__ = ["PBSDomain"]


class PBSDomain:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    async def datastores(self, remote: str) -> list[m.PDMPBSDatastore]:
        """The remote's datastores (PDM lists their configuration: ``name`` is ``store``)."""
        data = await self._sdk.pbs.remotes(remote).datastore.get()
        return [
            m.PDMPBSDatastore.model_validate({"remote": remote, "store": e.get("name"), **e})
            for e in normalize_list(data)
        ]

    async def datastore_rrddata(
        self, remote: str, store: str, *, timeframe: str = "hour", cf: str | None = None
    ) -> list[m.PDMRRDData]:
        api = self._sdk.pbs.remotes(remote).datastore(store).rrddata
        data = await api.get(**_rrd({}, timeframe, cf))
        return [m.PDMRRDData.model_validate(item) for item in normalize_list(data)]

    async def snapshots(
        self, remote: str, store: str, *, namespace: str | None = None
    ) -> list[m.PDMPBSSnapshot]:
        params: dict[str, Any] = {} if namespace is None else {"ns": namespace}
        data = await self._sdk.pbs.remotes(remote).datastore(store).snapshots.get(**params)
        base: dict[str, Any] = {"remote": remote, "store": store}
        if namespace is not None:
            base["namespace"] = namespace
        return [m.PDMPBSSnapshot.model_validate({**base, **e}) for e in normalize_list(data)]

    async def node_rrddata(
        self, remote: str, *, timeframe: str = "hour", cf: str | None = None
    ) -> list[m.PDMRRDData]:
        data = await self._sdk.pbs.remotes(remote).rrddata.get(**_rrd({}, timeframe, cf))
        return [m.PDMRRDData.model_validate(item) for item in normalize_list(data)]

    async def tasks(self, remote: str) -> list[m.PDMTask]:
        data = await self._sdk.pbs.remotes(remote).tasks.get()
        out = []
        for e in normalize_list(data):
            # PDM names the PBS task's type and id `worker_type` / `worker_id`.
            e = {"type": e.get("worker_type"), "id": e.get("worker_id"), **e}
            out.append(m.PDMTask.model_validate(e))
        return out

    async def task_status(self, remote: str, upid: str) -> m.PDMTaskStatus:
        data = unwrap_data(await self._sdk.pbs.remotes(remote).tasks(upid).status.get())
        return m.PDMTaskStatus.model_validate(data or {"upid": upid})
