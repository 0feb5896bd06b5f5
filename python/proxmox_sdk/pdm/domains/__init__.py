"""The domains of :class:`proxmox_sdk.pdm.PDMClient`, one module per area of PDM's API."""
