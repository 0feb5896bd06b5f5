"""Connection configuration shared by the server layer and the SDK
(:class:`~proxmox_sdk.proxmox.config.ProxmoxConfig`)."""

from proxmox_sdk.proxmox.config import ProxmoxConfig

__all__ = ["ProxmoxConfig"]
