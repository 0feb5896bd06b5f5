"""Ceph: :class:`CephClient` for the Ceph PVE manages (over the PVE API), and in
:mod:`proxmox_sdk.ceph.providers` the direct clients of a Ceph cluster's own services (the
Dashboard REST API, RGW admin ops, RBD through the Dashboard). Destructive helpers need
``confirm_destroy=True``. Models are Pydantic v2 (``pip install 'proxmox-sdk[ceph]'``)."""

from proxmox_sdk.ceph.client import CephClient, SyncCephClient
from proxmox_sdk.ceph.domains import CephWrite, ClusterCeph, NodeCeph

__all__ = ["CephClient", "CephWrite", "ClusterCeph", "NodeCeph", "SyncCephClient"]
