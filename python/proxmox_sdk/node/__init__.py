"""Node-level helpers that work over SSH rather than the Proxmox API
(:mod:`proxmox_sdk.node.hardware`)."""
