"""``/nodes/{node}/ceph``: configuration, daemons, OSDs, pools, rules, log."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from proxmox_sdk._response_utils import normalize_list, unwrap_data
from proxmox_sdk.ceph import models as m

if TYPE_CHECKING:
    from proxmox_sdk.sdk.api import ProxmoxSDK

__all__ = ["NodeCeph"]


class NodeCeph:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    def _at(self, node: str, *segments: str | int) -> Any:
        return self._sdk(["nodes", node, "ceph", *segments])

    async def _daemons(self, node: str, segment: str) -> list[m.CephDaemon]:
        data = await self._at(node, segment).get()
        return [
            m.CephDaemon.model_validate({**item, "type": segment})
            for item in normalize_list(data)
            if isinstance(item, dict)
        ]

    async def index(self, node: str) -> list[dict[str, Any]]:
        return normalize_list(await self._at(node).get())

    async def config_db(self, node: str) -> Any:
        return unwrap_data(await self._at(node, "cfg", "db").get())

    async def config_raw(self, node: str) -> Any:
        return unwrap_data(await self._at(node, "cfg", "raw").get())

    async def config_value(self, node: str, **params: Any) -> Any:
        return unwrap_data(await self._at(node, "cfg", "value").get(**params))

    async def cmd_safety(self, node: str, **params: Any) -> Any:
        return unwrap_data(await self._at(node, "cmd-safety").get(**params))

    async def crush(self, node: str) -> Any:
        return unwrap_data(await self._at(node, "crush").get())

    async def filesystems(self, node: str) -> list[m.CephFilesystem]:
        return [
            m.CephFilesystem.model_validate(i)
            for i in normalize_list(await self._at(node, "fs").get())
        ]

    async def monitors(self, node: str) -> list[m.CephDaemon]:
        return await self._daemons(node, "mon")

    async def managers(self, node: str) -> list[m.CephDaemon]:
        return await self._daemons(node, "mgr")

    async def metadata_servers(self, node: str) -> list[m.CephDaemon]:
        return await self._daemons(node, "mds")

    async def osds(self, node: str) -> list[m.CephOSD]:
        """PVE answers the OSD tree (``{"root": {...}, "flags": ...}``); its OSD leaves are
        listed (a flat list, from other releases or seeds, is taken as it is)."""
        data = unwrap_data(await self._at(node, "osd").get())
        return [m.CephOSD.model_validate(i) for i in _osd_leaves(data)]

    async def osd(self, node: str, osdid: int | str) -> m.CephOSD:
        data = unwrap_data(await self._at(node, "osd", osdid).get())
        payload = {**data, "id": osdid} if isinstance(data, dict) else {"id": osdid}
        return m.CephOSD.model_validate(payload)

    async def osd_lv_info(self, node: str, osdid: int | str) -> Any:
        return unwrap_data(await self._at(node, "osd", osdid, "lv-info").get())

    async def osd_metadata(self, node: str, osdid: int | str) -> Any:
        return unwrap_data(await self._at(node, "osd", osdid, "metadata").get())

    async def pools(self, node: str) -> list[m.CephPool]:
        return [
            m.CephPool.model_validate(i) for i in normalize_list(await self._at(node, "pool").get())
        ]

    async def pool(self, node: str, name: str) -> m.CephPool:
        data = unwrap_data(await self._at(node, "pool", name).get())
        payload = {**data, "name": name} if isinstance(data, dict) else {"name": name}
        return m.CephPool.model_validate(payload)

    async def pool_status(self, node: str, name: str) -> Any:
        return unwrap_data(await self._at(node, "pool", name, "status").get())

    async def rules(self, node: str) -> list[m.CephCrushRule]:
        return [
            m.CephCrushRule.model_validate(i)
            for i in normalize_list(await self._at(node, "rules").get())
        ]

    async def log(self, node: str, **params: Any) -> list[m.CephLogLine]:
        data = await self._at(node, "log").get(**params)
        return [m.CephLogLine.model_validate(i) for i in normalize_list(data)]


def _osd_leaves(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, list):
        return [i for i in data if isinstance(i, dict)]
    if not isinstance(data, dict):
        return []
    out: list[dict[str, Any]] = []
    stack = [data.get("root", data)]
    while stack:
        item = stack.pop()
        if not isinstance(item, dict):
            continue
        children = item.get("children")
        if isinstance(children, list) and children:
            stack.extend(reversed(children))
        elif item.get("type") == "osd" or str(item.get("name", "")).startswith("osd."):
            out.append(item)
    return out
