"""``/remotes/remote``: register, change, remove remotes; their versions."""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from proxmox_sdk._response_utils import normalize_list, unwrap_data
from proxmox_sdk.pdm import models as m

if TYPE_CHECKING:
    from proxmox_sdk.sdk.api import ProxmoxSDK

__all__ = ["RemotesDomain"]

RemoteNodeInput = str | m.PDMRemoteNode | Mapping[str, Any]


def _node(node: RemoteNodeInput, fingerprint: str | None) -> str:
    """A node as PDM takes it: the address, with its fingerprint as a property string
    (``hostname=10.0.0.1,fingerprint=AA:...``) when one is known."""
    if isinstance(node, str):
        entry = m.PDMRemoteNode(hostname=node.strip(), fingerprint=None)
    elif isinstance(node, m.PDMRemoteNode):
        entry = node
    else:
        entry = m.PDMRemoteNode.model_validate(node)
    host = entry.hostname.strip()
    if not host:
        raise ValueError("PDM remote nodes require a non-empty hostname or IP address")
    fp = entry.fingerprint or fingerprint
    return f"hostname={host},fingerprint={fp}" if fp else host


def _nodes(nodes: Any, fingerprint: str | None = None) -> builtins.list[str]:
    if not isinstance(nodes, list):
        raise ValueError("PDM remote nodes must be provided as a list")
    return [_node(n, fingerprint) for n in nodes]


class RemotesDomain:
    """The registered PVE clusters and PBS servers."""

    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    async def list(self) -> builtins.list[m.PDMRemote]:
        data = await self._sdk.remotes.remote.get()
        return [m.PDMRemote.model_validate(item) for item in normalize_list(data)]

    async def get(self, remote: str) -> m.PDMRemote:
        data = unwrap_data(await self._sdk.remotes.remote(remote).get())
        return m.PDMRemote.model_validate(data or {"id": remote})

    async def add(
        self,
        *,
        id: str,
        type: m.RemoteType,
        nodes: builtins.list[RemoteNodeInput] | None = None,
        authid: str | None = None,
        token: str | None = None,
        fingerprint: str | None = None,
        web_url: str | None = None,
    ) -> Any:
        """Registers a remote; ``fingerprint`` goes with each node (PDM keeps one per
        node)."""
        if fingerprint is not None and nodes is None:
            raise ValueError("fingerprint: PDM keeps fingerprints per node; give nodes too")
        payload: dict[str, Any] = {"id": id, "type": type}
        if nodes is not None:
            payload["nodes"] = _nodes(nodes, fingerprint)
        if authid is not None:
            payload["authid"] = authid
        if token is not None:
            payload["token"] = token
        if web_url is not None:
            payload["web-url"] = web_url
        return unwrap_data(await self._sdk.remotes.remote.post(**payload))

    async def update(self, remote: str, **changes: Any) -> Any:
        if "nodes" in changes:
            changes["nodes"] = _nodes(changes["nodes"], changes.pop("fingerprint", None))
        if "web_url" in changes:
            changes["web-url"] = changes.pop("web_url")
        return unwrap_data(await self._sdk.remotes.remote(remote).put(**changes))

    async def remove(self, remote: str) -> Any:
        return unwrap_data(await self._sdk.remotes.remote(remote).delete())

    async def version(self, remote: str) -> m.PDMRemoteVersion:
        data = unwrap_data(await self._sdk.remotes.remote(remote).version.get())
        return m.PDMRemoteVersion.model_validate(data or {})
