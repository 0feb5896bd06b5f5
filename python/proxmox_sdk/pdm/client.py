"""``PDMClient``: typed access to a Proxmox Datacenter Manager over :class:`ProxmoxSDK`
(``service="PDM"``: port 8443, ``PDMAPIToken=user@realm!name:secret``), and its blocking
twin ``SyncPDMClient``. Every guest and datastore call names its ``remote``: PDM speaks
for the PVE clusters and PBS servers registered with it."""

from __future__ import annotations

from typing import Any

from proxmox_sdk._response_utils import unwrap_data
from proxmox_sdk.pdm import models as m
from proxmox_sdk.pdm.domains.access import AccessDomain
from proxmox_sdk.pdm.domains.metrics import MetricsDomain
from proxmox_sdk.pdm.domains.pbs import PBSDomain
from proxmox_sdk.pdm.domains.pve import PVEDomain
from proxmox_sdk.pdm.domains.remotes import RemotesDomain
from proxmox_sdk.pdm.domains.resources import GlobalResourcesDomain, SubscriptionsDomain
from proxmox_sdk.pdm.domains.views import ViewsDomain
from proxmox_sdk.sdk.api import ProxmoxSDK
from proxmox_sdk.sdk.sync_adapter import SyncFacade

__all__ = ["PDMClient", "SyncPDMClient"]

_DOMAINS = ("remotes", "pve", "pbs", "resources", "subscriptions", "metrics", "access", "views")


class PDMClient:
    """Async PDM client: ``remotes``, ``pve`` (``qemu``, ``lxc``), ``pbs``, ``resources``,
    ``subscriptions``, ``metrics``, ``access`` (``users``, ``acl``, ``tfa``, ``tokens``),
    ``views``, ``version()``, ``ping()``."""

    def __init__(
        self,
        host: str | None = None,
        *,
        user: str | None = None,
        token_name: str | None = None,
        token_value: str | None = None,
        port: int | None = 8443,
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
                service="PDM",
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
        self.remotes = RemotesDomain(_sdk)
        self.pve = PVEDomain(_sdk)
        self.pbs = PBSDomain(_sdk)
        self.resources = GlobalResourcesDomain(_sdk)
        self.subscriptions = SubscriptionsDomain(_sdk)
        self.metrics = MetricsDomain(_sdk)
        self.access = AccessDomain(_sdk)
        self.views = ViewsDomain(_sdk)

    @classmethod
    def from_sdk(cls, sdk: ProxmoxSDK) -> PDMClient:
        """Wraps an existing SDK (its service must be PDM)."""
        if sdk.service != "PDM":
            raise ValueError("PDMClient requires a ProxmoxSDK instance with service='PDM'")
        return cls(_sdk=sdk)

    @classmethod
    def mock(cls, schema_version: str = "latest", **options: Any) -> PDMClient:
        """Over the in-memory PDM (its default datacenter: 3 remotes, 16 VMs, 5 CTs, ...)."""
        return cls(_sdk=ProxmoxSDK.mock(schema_version=schema_version, service="PDM", **options))

    @property
    def sdk(self) -> ProxmoxSDK:
        """The SDK underneath, for calls the domains do not cover."""
        return self._sdk

    async def __aenter__(self) -> PDMClient:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        await self._sdk.close()

    async def version(self) -> m.PDMVersion:
        data: Any = await self._sdk.version.get()
        return m.PDMVersion.model_validate(unwrap_data(data))

    async def ping(self) -> dict[str, Any]:
        """``GET /ping``: PDM's liveness probe."""
        data: Any = await self._sdk.ping.get()
        data = unwrap_data(data)
        return data if isinstance(data, dict) else {"pong": data}


class SyncPDMClient(SyncFacade):
    """The blocking twin: the same arguments and domains, answers without ``await``."""

    _async = PDMClient
    _client: PDMClient

    def version(self) -> m.PDMVersion:
        return self._run(self._client.version())

    def ping(self) -> dict[str, Any]:
        return self._run(self._client.ping())

    def __getattr__(self, name: str) -> Any:
        if name in _DOMAINS:
            return self._domain(getattr(self._client, name))
        raise AttributeError(name)
