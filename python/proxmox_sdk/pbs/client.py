"""``PBSClient``: typed reads of a Proxmox Backup Server over :class:`ProxmoxSDK`
(``service="PBS"``: port 8007, ``PBSAPIToken=user@realm!name:secret``), and its blocking
twin ``SyncPBSClient``."""

from __future__ import annotations

from typing import Any

from proxmox_sdk._response_utils import unwrap_data
from proxmox_sdk.pbs import models as m
from proxmox_sdk.pbs.domains.datastores import Datastores
from proxmox_sdk.pbs.domains.jobs import Jobs
from proxmox_sdk.pbs.domains.nodes import Nodes
from proxmox_sdk.pbs.domains.snapshots import Snapshots
from proxmox_sdk.sdk.api import ProxmoxSDK
from proxmox_sdk.sdk.sync_adapter import SyncFacade

__all__ = ["PBSClient", "SyncPBSClient"]


class PBSClient:
    """Async PBS client: ``datastores``, ``snapshots``, ``jobs``, ``nodes``, ``version()``.

    The original's constructor (tokens; ``password=`` besides, for ticket login); any other
    :class:`ProxmoxSDK` keyword goes through ``**options`` (``fingerprint=``, ``otel_enabled=``).
    """

    def __init__(
        self,
        host: str | None = None,
        *,
        user: str | None = None,
        token_name: str | None = None,
        token_value: str | None = None,
        port: int | None = 8007,
        verify_ssl: bool = True,
        timeout: int = 30,
        connect_timeout: int | None = None,
        max_retries: int = 0,
        retry_backoff: float = 0.5,
        path_prefix: str = "",
        password: str | None = None,
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
                service="PBS",
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
        self.datastores = Datastores(_sdk)
        self.snapshots = Snapshots(_sdk)
        self.jobs = Jobs(_sdk)
        self.nodes = Nodes(_sdk)

    @classmethod
    def from_sdk(cls, sdk: ProxmoxSDK) -> PBSClient:
        """Wraps an existing SDK (its service must be PBS)."""
        if sdk.service != "PBS":
            raise ValueError("PBSClient requires a ProxmoxSDK instance with service='PBS'")
        return cls(_sdk=sdk)

    @classmethod
    def mock(cls, schema_version: str = "latest", **options: Any) -> PBSClient:
        """Over the in-memory PBS (its datastores ``backup`` and ``offsite``, snapshots,
        jobs): the PBS schema, not PVE's."""
        return cls(_sdk=ProxmoxSDK.mock(schema_version=schema_version, service="PBS", **options))

    @property
    def sdk(self) -> ProxmoxSDK:
        """The SDK underneath, for the calls the typed domains do not cover."""
        return self._sdk

    async def __aenter__(self) -> PBSClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._sdk.close()

    async def version(self) -> m.PBSVersion:
        data: Any = await self._sdk.version.get()
        return m.PBSVersion.model_validate(unwrap_data(data))


class SyncPBSClient(SyncFacade):
    """The blocking twin: the same arguments, the same domains, answers without ``await``."""

    _async = PBSClient
    _client: PBSClient

    def version(self) -> m.PBSVersion:
        return self._run(self._client.version())

    @property
    def datastores(self) -> Any:
        return self._domain(self._client.datastores)

    @property
    def snapshots(self) -> Any:
        return self._domain(self._client.snapshots)

    @property
    def jobs(self) -> Any:
        return self._domain(self._client.jobs)

    @property
    def nodes(self) -> Any:
        return self._domain(self._client.nodes)
