"""``HttpsBackend``: PVE's REST API over HTTPS (native reqwest transport)."""

from __future__ import annotations

from typing import Any

from proxmox_sdk.sdk.backends.base import NativeBackend


class HttpsBackend(NativeBackend):
    """HTTPS transport; takes the ``ProxmoxSDK`` arguments (``user``, ``password`` or
    ``token_name``/``token_value``, ``port``, ``verify_ssl``, ``fingerprint``, ...)."""

    def __init__(self, host: str, *, api_path_prefix: str = "/api2/json", **kwargs: Any) -> None:
        from proxmox_sdk.sdk.api import ProxmoxSDK

        super().__init__(api_path_prefix)
        self.host = host
        self._sdk = ProxmoxSDK(host, backend="https", **kwargs)
        self._client = self._sdk._client

    async def close(self) -> None:
        await self._client.close_async()

    async def get_tokens(self) -> tuple[str, str]:
        return await self._sdk.get_tokens()
