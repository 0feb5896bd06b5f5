"""``MockBackend``: the in-memory PVE (or PBS, PMG, PDM with ``service=``) behind the
original package's API.

The state is shared by every mock in the process (per schema version and
``PROXMOX_MOCK_STATE_NAMESPACE``); ``PROXMOX_MOCK_DATA_PATH`` seeds a new store.
"""

from __future__ import annotations

import os
from typing import Any

from proxmox_sdk import _native
from proxmox_sdk.sdk.backends.base import NativeBackend
from proxmox_sdk.sdk.services import service_config


class MockBackend(NativeBackend):
    """Answers like PVE: UPIDs from workers, 400 with ``errors``, 501 for unknown paths."""

    def __init__(
        self,
        schema_version: str = "latest",
        api_path_prefix: str = "/api2/json",
        service: str = "PVE",
        *,
        namespace: str | None = None,
        data_path: str | None = None,
        lenient: bool = False,
    ) -> None:
        super().__init__(api_path_prefix)
        self.service, _ = service_config(service)
        self.schema_version = schema_version
        self._namespace = namespace
        self._data_path = data_path
        self._lenient = lenient
        self._client: Any = None
        self._store: Any = None

    def _ensure(self) -> None:
        if self._client is None:
            namespace = self._namespace or os.environ.get("PROXMOX_MOCK_STATE_NAMESPACE", "default")
            data_path = self._data_path or os.environ.get("PROXMOX_MOCK_DATA_PATH") or None
            self._client = _native.Client.mock(
                self.schema_version, namespace, data_path, self._lenient, self.service
            )
            self._store = self._client.store

    async def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> Any:
        self._ensure()
        return await super().request(method, path, params, data)

    async def close(self) -> None:
        """Nothing to release: the state lives on for other mocks in the process."""
