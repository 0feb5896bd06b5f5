"""The Ceph domains of :class:`proxmox_sdk.ceph.CephClient`."""

from proxmox_sdk.ceph.domains.cluster import ClusterCeph
from proxmox_sdk.ceph.domains.nodes import NodeCeph
from proxmox_sdk.ceph.domains.write import CephWrite

__all__ = ["CephWrite", "ClusterCeph", "NodeCeph"]
