"""``LocalBackend``: ``pvesh`` on this machine as a subprocess."""

from __future__ import annotations

from typing import Any

from proxmox_sdk.sdk.backends.base import NativeBackend


class LocalBackend(NativeBackend):
    """Local pvesh transport (``sudo``, ``timeout`` and ``service`` as for ``ProxmoxSDK``)."""

    def __init__(self, *, api_path_prefix: str = "/api2/json", **kwargs: Any) -> None:
        from proxmox_sdk.sdk.api import ProxmoxSDK

        super().__init__(api_path_prefix)
        self._client = ProxmoxSDK(backend="local", **kwargs)._client
