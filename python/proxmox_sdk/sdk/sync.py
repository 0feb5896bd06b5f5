"""The blocking SDK under the original package's module path (``proxmox_sdk.sdk.sync``).

``SyncProxmoxSDK`` is the native blocking client (no event loop thread); navigation
returns resources whose verbs return the answer directly. One native class serves both
SDKs (the client decides blocking or awaitable), so ``SyncProxmoxResource`` is
``ProxmoxResource``.
"""

from __future__ import annotations

from proxmox_sdk.sdk.api import SyncProxmoxSDK
from proxmox_sdk.sdk.resource import ProxmoxResource

SyncProxmoxResource = ProxmoxResource

__all__ = ["SyncProxmoxSDK", "SyncProxmoxResource"]
