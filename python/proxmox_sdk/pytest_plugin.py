"""pytest plugin (entry point ``pytest11``): fixtures with a fresh, isolated mock PVE.

- ``proxmox_mock``: an async ``ProxmoxSDK`` over its own mock state.
- ``proxmox_mock_sync``: a blocking ``SyncProxmoxSDK`` over its own mock state.
- ``proxmox_mock_version``: override to pick the schema version (default ``latest``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture
def proxmox_mock_version() -> str:
    """The PVE schema version the mock fixtures serve."""
    return "latest"


def _isolated(sync: bool, version: str) -> Iterator[Any]:
    from proxmox_sdk.mock.state import forget_mock_store
    from proxmox_sdk.sdk.api import ProxmoxSDK, SyncProxmoxSDK, isolated_namespace

    namespace = isolated_namespace("pytest")
    cls = SyncProxmoxSDK if sync else ProxmoxSDK
    sdk = cls(backend="mock", schema_version=version, mock_namespace=namespace)
    try:
        yield sdk
    finally:
        forget_mock_store(version, namespace)


@pytest.fixture
def proxmox_mock(proxmox_mock_version: str) -> Iterator[Any]:
    """An async SDK over a fresh in-memory PVE no other test sees."""
    yield from _isolated(False, proxmox_mock_version)


@pytest.fixture
def proxmox_mock_sync(proxmox_mock_version: str) -> Iterator[Any]:
    """A blocking SDK over a fresh in-memory PVE no other test sees."""
    yield from _isolated(True, proxmox_mock_version)
