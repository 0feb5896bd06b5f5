"""``CephClient``: Ceph as PVE manages it (``/cluster/ceph``, ``/nodes/{node}/ceph``) over
:class:`ProxmoxSDK` (``service="PVE"``), and its blocking twin ``SyncCephClient``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from proxmox_sdk.ceph import models as m
from proxmox_sdk.ceph.domains.cluster import ClusterCeph
from proxmox_sdk.ceph.domains.nodes import NodeCeph
from proxmox_sdk.ceph.domains.write import CephWrite
from proxmox_sdk.sdk.api import ProxmoxSDK
from proxmox_sdk.sdk.sync_adapter import SyncFacade

if TYPE_CHECKING:
    from proxmox_sdk.sdk.options import BackendName

__all__ = ["CephClient", "SyncCephClient"]


class CephClient:
    """Async: ``cluster`` (status, metadata, flags), ``nodes`` (daemons, OSDs, pools, ...),
    ``write`` (PVE's Ceph writes, destructive ones behind ``confirm_destroy=True``)."""

    def __init__(
        self,
        host: str | None = None,
        *,
        user: str | None = None,
        password: str | None = None,
        token_name: str | None = None,
        token_value: str | None = None,
        otp: str | None = None,
        backend: BackendName = "https",
        port: int | None = None,
        verify_ssl: bool = True,
        timeout: int = 30,
        connect_timeout: int | None = None,
        max_retries: int = 0,
        retry_backoff: float = 0.5,
        path_prefix: str = "",
        _sdk: ProxmoxSDK | None = None,
        **options: Any,
    ) -> None:
        if _sdk is None:
            _sdk = ProxmoxSDK(
                host=host,
                user=user,
                password=password,
                token_name=token_name,
                token_value=token_value,
                otp=otp,
                service="PVE",
                backend=backend,
                port=port,
                verify_ssl=verify_ssl,
                timeout=timeout,
                connect_timeout=connect_timeout,
                max_retries=max_retries,
                retry_backoff=retry_backoff,
                path_prefix=path_prefix,
                **options,
            )
        self._sdk = _sdk
        self.cluster = ClusterCeph(_sdk)
        self.nodes = NodeCeph(_sdk)
        self.write = CephWrite(_sdk)

    @classmethod
    def from_sdk(cls, sdk: ProxmoxSDK) -> CephClient:
        if sdk.service != "PVE":
            raise ValueError("CephClient requires a ProxmoxSDK instance with service='PVE'")
        return cls(_sdk=sdk)

    @classmethod
    def mock(cls, schema_version: str = "latest", **options: Any) -> CephClient:
        """Over the in-memory PVE (answers generated from PVE's schema)."""
        return cls(_sdk=ProxmoxSDK.mock(schema_version=schema_version, service="PVE", **options))

    async def __aenter__(self) -> CephClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._sdk.close()

    async def status(self) -> m.CephClusterStatus:
        return await self.cluster.status()


class SyncCephClient(SyncFacade):
    """The blocking twin: the same arguments and domains, answers without ``await``."""

    _async = CephClient
    _client: CephClient

    def status(self) -> m.CephClusterStatus:
        return self._run(self._client.status())

    @property
    def cluster(self) -> Any:
        return self._domain(self._client.cluster)

    @property
    def nodes(self) -> Any:
        return self._domain(self._client.nodes)

    @property
    def write(self) -> Any:
        return self._domain(self._client.write)
