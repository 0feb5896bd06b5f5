"""``LocalBackend``: ``pvesh`` on this machine as a subprocess."""

from __future__ import annotations

from proxmox_sdk import _native
from proxmox_sdk.sdk.backends.base import NativeBackend


class LocalBackend(NativeBackend):
    """Local pvesh transport. Not part of this build yet: requests raise
    ``BackendNotAvailableError`` saying so."""

    def __init__(self, *, api_path_prefix: str = "/api2/json", **_: object) -> None:
        super().__init__(api_path_prefix)
        self._client = _native.Client.unavailable(
            "local", "the local pvesh transport is not part of this build yet; use backend='mock'"
        )
