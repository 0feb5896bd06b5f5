"""A PVE remote through PDM: nodes, guests (``qemu``, ``lxc``), resources, tasks."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

from proxmox_sdk._response_utils import normalize_list, unwrap_data
from proxmox_sdk.pdm import models as m

if TYPE_CHECKING:
    from proxmox_sdk.sdk.api import ProxmoxSDK

__all__ = ["PVEDomain"]


def _rrd(params: dict[str, Any], timeframe: str, cf: str | None) -> dict[str, Any]:
    """PDM's RRD parameters; it requires the consolidation function (``AVERAGE`` unless
    ``MAX`` is asked for)."""
    params["timeframe"] = timeframe
    params["cf"] = cf or "AVERAGE"
    return params


class _GuestOps:
    """Life cycle, configuration, migration and metrics of one kind of guest."""

    _kind = "qemu"

    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    def _of(self, remote: str) -> Any:
        return getattr(self._sdk.pve.remotes(remote), self._kind)

    async def list(self, remote: str) -> builtins.list[m.PDMGuest]:
        data = await self._of(remote).get()
        return [
            m.PDMGuest.model_validate({"remote": remote, "type": self._kind, **entry})
            for entry in normalize_list(data)
        ]

    async def config(self, remote: str, vmid: int) -> m.PDMGuestConfig:
        data = unwrap_data(await self._of(remote)(vmid).config.get())
        return m.PDMGuestConfig.model_validate(data or {})

    async def start(self, remote: str, vmid: int) -> Any:
        return unwrap_data(await self._of(remote)(vmid).start.post())

    async def stop(self, remote: str, vmid: int) -> Any:
        return unwrap_data(await self._of(remote)(vmid).stop.post())

    async def shutdown(self, remote: str, vmid: int) -> Any:
        return unwrap_data(await self._of(remote)(vmid).shutdown.post())

    async def migrate(
        self, remote: str, vmid: int, *, target: str, online: bool | None = None
    ) -> Any:
        """To another node of the same cluster."""
        params: dict[str, Any] = {"target": target}
        if online is not None:
            params["online"] = online
        return unwrap_data(await self._of(remote)(vmid).migrate.post(**params))

    async def remote_migrate(
        self,
        remote: str,
        vmid: int,
        *,
        target_remote: str,
        target_vmid: int | None = None,
        target_node: str | None = None,
        online: bool | None = None,
        **params: Any,
    ) -> Any:
        """To another remote (PDM's ``target``); ``target_node`` is the endpoint to reach
        it by (``target-endpoint``); PDM's other parameters (``target-storage``,
        ``target-bridge``, ...) pass as they are."""
        params["target"] = target_remote
        if target_vmid is not None:
            params["target-vmid"] = target_vmid
        if target_node is not None:
            params["target-endpoint"] = target_node
        if online is not None:
            params["online"] = online
        return unwrap_data(await self._of(remote)(vmid)("remote-migrate").post(**params))

    async def rrddata(
        self, remote: str, vmid: int, *, timeframe: str = "hour", cf: str | None = None
    ) -> builtins.list[m.PDMRRDData]:
        data = await self._of(remote)(vmid).rrddata.get(**_rrd({}, timeframe, cf))
        return [m.PDMRRDData.model_validate(item) for item in normalize_list(data)]


class _QemuOps(_GuestOps):
    _kind = "qemu"


class _LxcOps(_GuestOps):
    _kind = "lxc"


# PDM's `kind` filter of /pve/remotes/{remote}/resources, by the resource types callers use.
_KINDS = {"qemu": "vm", "lxc": "vm", "vm": "vm", "node": "node", "storage": "storage", "sdn": "sdn"}


class PVEDomain:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk
        self.qemu = _QemuOps(sdk)
        self.lxc = _LxcOps(sdk)

    async def nodes(self, remote: str) -> builtins.list[m.PDMNode]:
        data = await self._sdk.pve.remotes(remote).nodes.get()
        return [m.PDMNode.model_validate({"remote": remote, **e}) for e in normalize_list(data)]

    async def node_rrddata(
        self, remote: str, node: str, *, timeframe: str = "hour", cf: str | None = None
    ) -> builtins.list[m.PDMRRDData]:
        data = (
            await self._sdk.pve.remotes(remote).nodes(node).rrddata.get(**_rrd({}, timeframe, cf))
        )
        return [m.PDMRRDData.model_validate(item) for item in normalize_list(data)]

    async def resources(
        self, remote: str, *, type: str | None = None
    ) -> builtins.list[m.PDMResource]:
        """The remote's resources; ``type`` is ``qemu``, ``lxc``, ``vm``, ``node``,
        ``storage`` or ``sdn`` (``qemu``/``lxc`` narrow PDM's ``vm`` further)."""
        params: dict[str, Any] = {}
        if type is not None:
            if type not in _KINDS:
                raise ValueError(f"type: expected one of {', '.join(_KINDS)}, got {type!r}")
            params["kind"] = _KINDS[type]
        data = await self._sdk.pve.remotes(remote).resources.get(**params)
        items = [
            m.PDMResource.model_validate({"remote": remote, **e}) for e in normalize_list(data)
        ]
        if type in ("qemu", "lxc"):
            items = [r for r in items if r.type in (type, f"pve-{type}")]
        return items

    async def tasks(self, remote: str) -> builtins.list[m.PDMTask]:
        data = await self._sdk.pve.remotes(remote).tasks.get()
        return [m.PDMTask.model_validate(item) for item in normalize_list(data)]
