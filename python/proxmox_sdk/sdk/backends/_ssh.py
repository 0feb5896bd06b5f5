"""What the two SSH backends share: ``pvesh``/``pmgsh`` over SSH through the native client."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from proxmox_sdk.sdk.backends.base import NativeBackend
from proxmox_sdk.sdk.services import SERVICES, ServiceConfig

if TYPE_CHECKING:
    from proxmox_sdk.sdk.options import BackendName, ServiceName


def service_name(service_config: ServiceConfig | str | None) -> str:
    """The service a ``service_config`` (an entry of ``SERVICES`` or a name) stands for."""
    if service_config is None:
        return "PVE"
    if isinstance(service_config, str):
        return service_config.upper()
    for name, cfg in SERVICES.items():
        if cfg is service_config or cfg == service_config:
            return name
    raise ValueError("service_config: expected an entry of proxmox_sdk.sdk.services.SERVICES")


class SshCommandBackend(NativeBackend):
    """``pvesh`` (or ``pmgsh``) over SSH; ``backend`` names the SSH client."""

    _backend: BackendName = "openssh"

    def __init__(
        self,
        *,
        host: str,
        user: str,
        service_config: ServiceConfig | str | None = None,
        port: int = 22,
        sudo: bool = False,
        **options: Any,
    ) -> None:
        from proxmox_sdk.sdk.api import ProxmoxSDK

        super().__init__("/api2/json")
        self.host = host
        sdk = ProxmoxSDK(
            host,
            backend=self._backend,
            service=cast("ServiceName", service_name(service_config)),
            user=user,
            port=port,
            sudo=sudo,
            **{k: v for k, v in options.items() if v is not None},
        )
        self._client = sdk._client

    async def close(self) -> None:
        await self._client.close_async()
