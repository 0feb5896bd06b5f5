"""Proxmox Backup Server: :class:`PBSClient` (async) and :class:`SyncPBSClient`, typed
reads of datastores, backup groups and snapshots, jobs, node status and version over the
SDK with ``service="PBS"``. Results are Pydantic v2 models (``pip install
'proxmox-sdk[pbs]'``); ``PBSClient.mock()`` runs against the in-memory PBS."""

from proxmox_sdk.pbs.client import PBSClient, SyncPBSClient

__all__ = ["PBSClient", "SyncPBSClient"]
