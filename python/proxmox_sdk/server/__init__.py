"""The mock Proxmox VE server (axum, in the native core).

``python -m proxmox_sdk.server`` (or ``proxmox-sdk-mock``) serves it from the command line;
:func:`serve` starts it in the background for tests::

    with serve(tls=True) as server:
        httpx.get(f"{server.url}/api2/json/version", verify=False)
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from collections.abc import AsyncIterator, Iterator
from typing import Any

__all__ = ["main", "serve", "serve_async", "start"]


def start(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    version: str = "latest",
    tls: bool = False,
    cert: str | os.PathLike[str] | None = None,
    key: str | os.PathLike[str] | None = None,
    data: str | os.PathLike[str] | None = None,
    state_file: str | os.PathLike[str] | None = None,
    password: str | None = None,
    no_auth: bool = False,
    namespace: str | None = None,
    lenient: bool = False,
    rate_limit: int | None = None,
    cors_origins: list[str] | None = None,
    codegen_api_key: str | None = None,
    admin: bool = False,
    service: str = "PVE",
    max_body: int | None = None,
    max_upload: int | None = None,
    header_timeout: float | None = None,
    max_connections: int | None = None,
    auth_fail_delay: float | None = None,
    admin_token: str | None = None,
    request_timeout: float | None = None,
) -> Any:
    """Start the server in the background; returns a handle with ``url``, ``fingerprint``,
    ``password`` and ``stop()``. ``namespace=None`` gives the server a state of its own;
    ``service`` picks the product served (PVE, PBS, PMG, PDM).

    Limits (PVE's by default, as the command line's ``--max-body`` and friends): request
    bodies up to ``max_body`` bytes (64 KiB), uploads up to ``max_upload``, headers (and idle
    keep-alive) within ``header_timeout`` seconds (5), an answer (body included, uploads
    aside) within ``request_timeout`` seconds (60, else 408), ``max_connections`` at once (800),
    refusals (401) held back ``auth_fail_delay`` seconds (3; ``PROXMOX_MOCK_AUTH_FAIL_DELAY``
    sets the default, e.g. ``0`` in a test suite).

    With ``admin=True`` the test-control endpoints under ``/_mock/`` take root@pam's
    ticket or ``Authorization: Bearer <admin_token>`` (``PROXMOX_MOCK_ADMIN_TOKEN``)."""
    from proxmox_sdk import _native
    from proxmox_sdk.sdk.api import isolated_namespace

    def path(p: str | os.PathLike[str] | None) -> str | None:
        return None if p is None else os.fspath(p)

    return _native.start_server(
        host=host,
        port=port,
        version=version,
        tls=tls,
        cert=path(cert),
        key=path(key),
        data=path(data),
        state_file=path(state_file),
        password=password,
        no_auth=no_auth,
        namespace=namespace or isolated_namespace("server"),
        lenient=lenient,
        rate_limit=rate_limit,
        cors_origins=list(cors_origins or []),
        codegen_api_key=codegen_api_key,
        admin=admin,
        service=service,
        max_body=max_body,
        max_upload=max_upload,
        header_timeout=header_timeout,
        request_timeout=request_timeout,
        max_connections=max_connections,
        admin_token=admin_token or os.environ.get("PROXMOX_MOCK_ADMIN_TOKEN") or None,
        auth_fail_delay=(
            auth_fail_delay
            if auth_fail_delay is not None
            else _env_seconds("PROXMOX_MOCK_AUTH_FAIL_DELAY")
        ),
    )


def _env_seconds(name: str) -> float | None:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return None
    try:
        return float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r}: expected a number of seconds") from None


@contextlib.contextmanager
def serve(**kwargs: Any) -> Iterator[Any]:
    """Context manager: start the server (see :func:`start`), yield it, stop it."""
    server = start(**kwargs)
    try:
        yield server
    finally:
        server.stop()


@contextlib.asynccontextmanager
async def serve_async(**kwargs: Any) -> AsyncIterator[Any]:
    """Async context manager twin of :func:`serve`."""
    server = start(**kwargs)
    try:
        yield server
    finally:
        server.stop()


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point (flags and environment variables as ``--help`` lists)."""
    from proxmox_sdk import _native

    args = list(sys.argv if argv is None else ["proxmox-sdk-mock", *argv])
    # The native server handles SIGINT/SIGTERM itself (graceful stop, state file, exit 0);
    # Python's own SIGINT handler would turn the same signal into a KeyboardInterrupt.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        code = _native.server_main(args)
    finally:
        signal.signal(signal.SIGINT, previous)
    if argv is None:
        raise SystemExit(code)
    return code
