"""The read helpers of :class:`proxmox_sdk.pbs.PBSClient`, one module per area."""
