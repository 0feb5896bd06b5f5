"""``/nodes/{node}/status``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from proxmox_sdk._response_utils import unwrap_data
from proxmox_sdk.pbs import models as m

if TYPE_CHECKING:
    from proxmox_sdk.sdk.api import ProxmoxSDK

__all__ = ["Nodes"]


class Nodes:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    async def status(self, node: str = "localhost") -> m.PBSNodeStatus:
        """The node's status (PBS's one node is ``localhost``)."""
        data = unwrap_data(await self._sdk.nodes(node).status.get())
        return m.PBSNodeStatus.model_validate(data or {})
