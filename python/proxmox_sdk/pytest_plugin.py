"""pytest plugin (entry point ``pytest11``): fixtures with a fresh, isolated mock PVE.

- ``proxmox_mock``: an async ``ProxmoxSDK`` over its own mock state (async tests need an
  async test runner plugin: pytest-asyncio or anyio).
- ``proxmox_mock_sync``: a blocking ``SyncProxmoxSDK`` over its own mock state.
- ``proxmox_server`` / ``proxmox_server_session``: our HTTPS server in a background thread
  (per test / once per session) as a :class:`ProxmoxServer`: ``url``, ``host``,
  ``fingerprint``, ``ca_bundle`` (a PEM file of its certificate), ``user``, ``password``,
  and ``sdk()`` / ``sync_sdk()`` connected to it.
- ``proxmox_mock_version``: override to pick the schema version (default ``latest``).
- ``@pytest.mark.proxmox_mock_data(data)``: seed the store of the test's mock fixtures and
  of ``proxmox_server`` (a mapping of API paths to values, or a JSON/YAML file's path).
"""

from __future__ import annotations

import json
import os
import ssl
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from proxmox_sdk.sdk.api import ProxmoxSDK, SyncProxmoxSDK

MARKER = "proxmox_mock_data"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(data): seed the proxmox_sdk mock fixtures' store with data (a mapping of "
        "API paths to values, or the path of a JSON/YAML file of one)",
    )


@pytest.fixture
def proxmox_mock_version() -> str:
    """The PVE schema version the mock fixtures serve."""
    return "latest"


def _marked_data(request: pytest.FixtureRequest) -> dict[str, Any] | None:
    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return None
    if len(marker.args) != 1 or marker.kwargs:
        raise pytest.UsageError(f"@pytest.mark.{MARKER} takes one argument: a mapping or a path")
    data = marker.args[0]
    if isinstance(data, str | os.PathLike):
        from proxmox_sdk import _native

        data = json.loads(_native.read_structured_file(os.fspath(data)))
    if not isinstance(data, Mapping):
        raise pytest.UsageError(
            f"@pytest.mark.{MARKER}: expected a mapping of API paths to values or a file "
            f"path, got {type(data).__name__}"
        )
    return dict(data)


def _isolated(sync: bool, version: str, data: dict[str, Any] | None) -> Iterator[Any]:
    from proxmox_sdk.mock.state import forget_mock_store
    from proxmox_sdk.sdk.api import ProxmoxSDK, SyncProxmoxSDK, isolated_namespace

    namespace = isolated_namespace("pytest")
    cls = SyncProxmoxSDK if sync else ProxmoxSDK
    sdk = cls(backend="mock", schema_version=version, mock_namespace=namespace)
    try:
        if data is not None:
            sdk.mock_store.seed(data)
        yield sdk
    finally:
        forget_mock_store(version, namespace)


@pytest.fixture
def proxmox_mock(proxmox_mock_version: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """An async SDK over a fresh in-memory PVE no other test sees."""
    yield from _isolated(False, proxmox_mock_version, _marked_data(request))


@pytest.fixture
def proxmox_mock_sync(proxmox_mock_version: str, request: pytest.FixtureRequest) -> Iterator[Any]:
    """A blocking SDK over a fresh in-memory PVE no other test sees."""
    yield from _isolated(True, proxmox_mock_version, _marked_data(request))


@dataclass
class ProxmoxServer:
    """A running mock server: where it is, how to trust it, how to log in."""

    url: str
    host: str
    port: int
    fingerprint: str
    ca_bundle: str
    user: str
    password: str
    schema_version: str
    _handle: Any = field(repr=False)

    def sdk(self, **options: Any) -> ProxmoxSDK:
        """An async SDK logged in as root@pam, pinned to the server's certificate."""
        from proxmox_sdk.sdk.api import ProxmoxSDK

        return ProxmoxSDK(self.host, **self._options(options))

    def sync_sdk(self, **options: Any) -> SyncProxmoxSDK:
        """The blocking twin of :meth:`sdk`."""
        from proxmox_sdk.sdk.api import SyncProxmoxSDK

        return SyncProxmoxSDK(self.host, **self._options(options))

    def _options(self, options: dict[str, Any]) -> Any:
        return {
            "user": self.user,
            "password": self.password,
            "fingerprint": self.fingerprint,
            "schema_version": self.schema_version,
            **options,
        }

    def stop(self) -> None:
        self._handle.stop()


def _serve(version: str, data: dict[str, Any] | None) -> Iterator[ProxmoxServer]:
    from proxmox_sdk.sdk.api import isolated_namespace
    from proxmox_sdk.server import start

    with tempfile.TemporaryDirectory(prefix="proxmox-server-") as tmp:
        data_file = None
        if data is not None:
            data_file = os.path.join(tmp, "data.json")
            with open(data_file, "w", encoding="utf-8") as f:
                json.dump(data, f)
        handle = start(
            tls=True,
            version=version,
            namespace=isolated_namespace("pytest-server"),
            data=data_file,
            auth_fail_delay=0,
        )
        try:
            host_port = handle.url.removeprefix("https://")
            hostname, port = host_port.rsplit(":", 1)
            ca_bundle = os.path.join(tmp, "ca.pem")
            with open(ca_bundle, "w", encoding="ascii") as f:
                f.write(ssl.get_server_certificate((hostname, int(port)), timeout=10))
            yield ProxmoxServer(
                url=handle.url,
                host=host_port,
                port=int(port),
                fingerprint=handle.fingerprint,
                ca_bundle=ca_bundle,
                user="root@pam",
                password=handle.password,
                schema_version=version,
                _handle=handle,
            )
        finally:
            handle.stop()


@pytest.fixture
def proxmox_server(
    proxmox_mock_version: str, request: pytest.FixtureRequest
) -> Iterator[ProxmoxServer]:
    """Our HTTPS server over a fresh store for this test (seeded by the marker)."""
    yield from _serve(proxmox_mock_version, _marked_data(request))


@pytest.fixture(scope="session")
def proxmox_server_session() -> Iterator[ProxmoxServer]:
    """One HTTPS server (latest schema) shared by the whole session."""
    yield from _serve("latest", None)
