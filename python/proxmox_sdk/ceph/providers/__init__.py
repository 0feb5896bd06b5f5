"""Direct clients of a Ceph cluster's own services (Proxmox-managed or not): the Dashboard
REST API (:class:`DashboardCephClient`), RGW's Admin Ops API (:class:`RGWAdminClient`),
RBD through the Dashboard (:class:`RBDClient`). Each answers ``capabilities()`` and raises
:class:`~proxmox_sdk.sdk.exceptions.CephCapabilityUnsupportedError` for what it cannot do."""

from proxmox_sdk.ceph.providers._http import (
    AiohttpTransport,
    AsyncTransport,
    BaseHttpProvider,
    HttpResponse,
    JSONValue,
    NativeTransport,
)
from proxmox_sdk.ceph.providers.capability import ProviderCapability
from proxmox_sdk.ceph.providers.dashboard import DashboardCephClient
from proxmox_sdk.ceph.providers.rbd import RBDClient
from proxmox_sdk.ceph.providers.rgw import RGWAdminClient
from proxmox_sdk.sdk.exceptions import CephCapabilityUnsupportedError

__all__ = [
    "AiohttpTransport",
    "AsyncTransport",
    "BaseHttpProvider",
    "CephCapabilityUnsupportedError",
    "DashboardCephClient",
    "HttpResponse",
    "JSONValue",
    "NativeTransport",
    "ProviderCapability",
    "RBDClient",
    "RGWAdminClient",
]
