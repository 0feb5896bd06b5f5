"""Proxmox Datacenter Manager: :class:`PDMClient` (async) and :class:`SyncPDMClient`, typed
access to remotes, their guests and datastores, resources, subscriptions, metrics, access
control and views over the SDK with ``service="PDM"``; results are Pydantic v2 models
(``pip install 'proxmox-sdk[pdm]'``). ``PDMClient.mock()`` runs against the in-memory PDM,
and :mod:`proxmox_sdk.pdm_mock_main` serves it over HTTP."""

from proxmox_sdk.pdm.client import PDMClient, SyncPDMClient

__all__ = ["PDMClient", "SyncPDMClient"]
