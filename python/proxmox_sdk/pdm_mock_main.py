"""The PDM mock as an ASGI app: ``uvicorn proxmox_sdk.pdm_mock_main:app``, ``run()`` or the
``proxmox-sdk-pdm-mock`` command.

Environment, as the original: ``PROXMOX_PDM_MOCK_HOST`` (default ``127.0.0.1``: the
original's ``0.0.0.0`` is one variable away), ``PROXMOX_PDM_MOCK_PORT`` (``8443``),
``PROXMOX_PDM_MOCK_SEED_FILE`` (a JSON seed in the original's shape),
``PROXMOX_PDM_MOCK_SCHEMA_VERSION`` (``latest``). Besides PDM's API at ``/api2/json`` the app
answers ``/`` and ``/health`` and the original's management endpoints ``POST /mock/seed``,
``GET /mock/export``, ``POST /mock/import``, ``DELETE /mock/reset``.
"""

from __future__ import annotations

import json
import os
from typing import Any

from proxmox_sdk._asgi import NativeASGIApp
from proxmox_sdk.pdm.mock.routes import PDMMockState, load_seed_from_file

__all__ = ["app", "create_pdm_mock_app", "run"]


class PDMMockApp:
    """The PDM API (native) plus the original's ``/``, ``/health`` and ``/mock/*``."""

    def __init__(self, state: PDMMockState, version: str) -> None:
        self.state = _AppState(state)
        self._api = NativeASGIApp(service="PDM", namespace=state.namespace, version=version)
        self._version = version

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self._api(scope, receive, send)
            return
        path = scope.get("path", "/")
        method = scope.get("method", "GET")
        state: PDMMockState = self.state.pdm_mock_state
        if path == "/" and method == "GET":
            from proxmox_sdk import __version__

            await _json(
                send,
                200,
                {
                    "message": "Proxmox Datacenter Manager mock API",
                    "schema_version": self._version,
                    "package_version": __version__,
                },
            )
        elif path == "/health" and method == "GET":
            await _json(send, 200, {"status": "ready"})
        elif path in ("/mock/seed", "/mock/import") and method == "POST":
            try:
                state.replace(json.loads(await _body(receive) or b"{}"))
            except (ValueError, TypeError) as e:
                await _json(send, 400, {"detail": str(e)})
                return
            await _json(send, 200, {"status": "ok"})
        elif path == "/mock/export" and method == "GET":
            await _json(send, 200, state.snapshot())
        elif path == "/mock/reset" and method == "DELETE":
            state.reset()
            await _json(send, 200, {"status": "ok"})
        else:
            await self._api(scope, receive, send)


class _AppState:
    def __init__(self, state: PDMMockState) -> None:
        self.pdm_mock_state = state


async def _body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


async def _json(send: Any, status: int, data: Any) -> None:
    body = json.dumps(data).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json")],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_pdm_mock_app(
    *, state: PDMMockState | None = None, seed: dict[str, Any] | None = None
) -> PDMMockApp:
    """The app over ``state`` (shared with other apps), or over a new state from ``seed``,
    ``PROXMOX_PDM_MOCK_SEED_FILE`` or the default datacenter."""
    version = os.environ.get("PROXMOX_PDM_MOCK_SCHEMA_VERSION") or "latest"
    if state is None:
        seed_file = os.environ.get("PROXMOX_PDM_MOCK_SEED_FILE")
        if seed is None and seed_file:
            seed = load_seed_from_file(seed_file)
        state = PDMMockState(seed=seed)
    return PDMMockApp(state, version)


app = create_pdm_mock_app()


def run() -> None:
    """``proxmox-sdk-pdm-mock``: serve ``app`` with uvicorn."""
    try:
        import uvicorn
    except ImportError:
        raise SystemExit(
            "proxmox-sdk-pdm-mock needs uvicorn: pip install 'proxmox-sdk[asgi]' "
            "(or: proxmox-sdk-mock --service PDM)"
        ) from None
    uvicorn.run(
        "proxmox_sdk.pdm_mock_main:app",
        host=os.environ.get("PROXMOX_PDM_MOCK_HOST", "127.0.0.1"),
        port=int(os.environ.get("PROXMOX_PDM_MOCK_PORT", "8443")),
    )
