"""``HttpsBackend``: PVE's REST API over HTTPS (native reqwest transport)."""

from __future__ import annotations

from proxmox_sdk import _native
from proxmox_sdk.sdk.backends.base import NativeBackend


class HttpsBackend(NativeBackend):
    """HTTPS transport. Not part of this build yet: requests raise
    ``BackendNotAvailableError`` saying so."""

    def __init__(self, host: str, *, api_path_prefix: str = "/api2/json", **_: object) -> None:
        super().__init__(api_path_prefix)
        self.host = host
        self._client = _native.Client.unavailable(
            "https", "the https transport is not part of this build yet; use backend='mock'"
        )
