"""The mock's shared state, as test suites of the original package use it. ``MockStore`` is
native (``proxmox_sdk._native``), registered under this module's name."""

from __future__ import annotations

import os

from proxmox_sdk import _native
from proxmox_sdk._native import MockStore

__all__ = ["MockStore", "forget_mock_store", "shared_mock_store"]


def shared_mock_store(
    fingerprint: str | None = None, *, namespace: str | None = None, lenient: bool = False
) -> MockStore:
    """The store for the schema with this fingerprint (see
    :func:`proxmox_sdk.mock.schema_helpers.schema_fingerprint`; ``None`` = latest) in
    ``namespace`` (default ``PROXMOX_MOCK_STATE_NAMESPACE`` or ``default``)."""
    from proxmox_sdk.mock.schema_helpers import version_for_fingerprint

    version = version_for_fingerprint(fingerprint) if fingerprint else "latest"
    ns = namespace or os.environ.get("PROXMOX_MOCK_STATE_NAMESPACE", "default")
    data_path = os.environ.get("PROXMOX_MOCK_DATA_PATH") or None
    return _native.Client.mock(version, ns, data_path, lenient).store


def forget_mock_store(version: str = "latest", namespace: str = "default") -> bool:
    """Drop a store entirely: the next mock in that namespace starts fresh."""
    return _native.forget_mock_store(version, namespace)
