"""The mock's shared state, as test suites of the original package use it."""

from __future__ import annotations

import os
from typing import Any

from proxmox_sdk import _native


class MockStore:
    """A handle on one mock store (shared per schema version and namespace)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def reset(self) -> None:
        """Back to the initial state: the default cluster plus seeded data."""
        self._client.store_reset()

    def get_object(self, path: str) -> Any:
        """The value set for ``path`` (or the member's config), else ``None``."""
        return self._client.store_get_object(path)

    def set_object(self, path: str, value: Any) -> None:
        """The exact answer for ``path``; a member path (``.../qemu/100/config``) makes the
        member exist, so it shows up in its list."""
        self._client.store_set_object(path, value)

    def delete_object(self, path: str) -> bool:
        """Forget ``path`` (a member and everything under it); ``True`` if there was one."""
        return self._client.store_delete_object(path)

    def is_deleted(self, path: str) -> bool:
        """Whether ``path`` (or an ancestor) was deleted."""
        return self._client.store_is_deleted(path)

    def seed(self, data: dict[str, Any]) -> None:
        """Set ``{path: value}`` and make it part of what ``reset()`` returns to."""
        self._client.store_seed(data)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the live state to a JSON file."""
        self._client.store_save(os.fspath(path))

    def load(self, path: str | os.PathLike[str]) -> None:
        """Replace the live state with one written by :meth:`save`."""
        self._client.store_load(os.fspath(path))

    def inject_failure(
        self,
        path: str,
        status: int = 500,
        message: str = "injected failure",
        method: str | None = None,
        count: int = 1,
    ) -> None:
        """Make the next ``count`` requests matching ``method`` (any if ``None``) and
        ``path`` (a concrete path prefix such as ``/nodes/pve1/qemu/100`` or a template)
        fail with ``status`` and ``message``. Worker operations answer a UPID whose task
        ends with the message instead, as PVE's tasks do."""
        self._client.store_inject_failure(path, status, message, method, count)

    def set_latency(self, seconds: float) -> None:
        """Add ``seconds`` to every request."""
        self._client.store_set_latency(seconds)

    def set_node_offline(self, node: str, offline: bool = True) -> None:
        """While offline, requests for the node answer ``595 No route to host``."""
        self._client.store_set_node_offline(node, offline)

    def advance_clock(self, seconds: int) -> int:
        """Move the mock's clock forward (uptimes, task times, ticket expiry)."""
        return self._client.store_advance_clock(seconds)

    def set_time_scale(self, scale: float) -> None:
        """Make tasks take ``scale`` times their nominal duration on the mock's clock, so
        they are ``running`` until the clock (see :meth:`advance_clock`) passes their end;
        0, the default, ends every task at once."""
        self._client.store_set_time_scale(scale)

    def expire_tickets(self) -> None:
        """Make every ticket issued so far invalid (servers on this store)."""
        self._client.store_expire_tickets()

    def requests(self) -> list[dict[str, Any]]:
        """The requests received, oldest first, with secrets redacted."""
        return self._client.store_requests()

    def clear_requests(self) -> None:
        """Forget the request log."""
        self._client.store_clear_requests()

    @property
    def schema_version(self) -> str:
        """The schema version this store serves."""
        return self._client.schema_version


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
    return MockStore(_native.Client.mock(version, ns, data_path, lenient))


def forget_mock_store(version: str = "latest", namespace: str = "default") -> bool:
    """Drop a store entirely: the next mock in that namespace starts fresh."""
    return _native.forget_mock_store(version, namespace)
