"""``python -m proxmox_sdk.server``."""

from proxmox_sdk.server import main

main()
