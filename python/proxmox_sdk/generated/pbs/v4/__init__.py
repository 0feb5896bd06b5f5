"""Generated Pydantic models (proxmox-sdk-codegen); see `proxmox_sdk.generated`."""
