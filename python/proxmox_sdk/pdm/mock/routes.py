"""The PDM mock's state as the original package offered it (:class:`PDMMockState`) and its
HTTP routes, now the native PDM mock behind an ASGI app.

``register_generated_pdm_mock_routes(app, state=..., seed=...)`` mounts the native PDM
API at ``/api2/json`` of a FastAPI/Starlette ``app`` and adds the original's management
endpoints (``POST /mock/seed``, ``GET /mock/export``, ``POST /mock/import``,
``DELETE /mock/reset``).
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from pathlib import Path
from typing import Any

from proxmox_sdk.pdm.mock.seed_data import get_default_pdm_seed

__all__ = ["PDMMockState", "load_seed_from_file", "register_generated_pdm_mock_routes"]


class PDMMockState:
    """The state of one PDM mock (its own store namespace), read and written in the
    original's seed shape. Every mutation goes through the native store, so what the API
    answers and what ``snapshot()`` shows are the same data."""

    def __init__(self, seed: dict[str, Any] | None = None, *, namespace: str | None = None) -> None:
        from proxmox_sdk import _native

        self.namespace = namespace or f"pdm-mock-{uuid.uuid4().hex}"
        self._client = _native.Client.mock("latest", self.namespace, None, False, "PDM")
        self._store = self._client.store
        self._lock = threading.RLock()
        if seed is not None:
            self._store.load_pdm_seed(copy.deepcopy(seed))

    @property
    def store(self) -> Any:
        """The native store (``reset()``, ``inject_failure()``, ...)."""
        return self._store

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return self._store.pdm_seed()

    def replace(self, new_state: dict[str, Any]) -> None:
        with self._lock:
            self._store.load_pdm_seed(copy.deepcopy(new_state), False)

    def reset(self) -> None:
        with self._lock:
            self._store.load_pdm_seed(get_default_pdm_seed(), True)

    def section(self, key: str) -> Any:
        return self.snapshot().get(key)

    def write(self, key: str, value: Any) -> None:
        with self._lock:
            state = self.snapshot()
            state[key] = value
            self.replace(state)

    def remotes(self) -> list[dict[str, Any]]:
        return list(self.section("remotes") or [])

    def find_remote(self, remote_id: str) -> dict[str, Any] | None:
        return next((r for r in self.remotes() if r.get("id") == remote_id), None)

    def upsert_remote(self, remote: dict[str, Any]) -> None:
        with self._lock:
            remotes = self.remotes()
            for i, r in enumerate(remotes):
                if r.get("id") == remote.get("id"):
                    remotes[i] = {**r, **remote}
                    break
            else:
                remotes.append(remote)
            self.write("remotes", remotes)

    def remove_remote(self, remote_id: str) -> bool:
        with self._lock:
            remotes = self.remotes()
            kept = [r for r in remotes if r.get("id") != remote_id]
            self.write("remotes", kept)
            return len(kept) != len(remotes)

    def list_guests(self, remote: str, kind: str) -> list[dict[str, Any]]:
        return list(((self.section("pve") or {}).get(remote) or {}).get(kind) or [])

    def find_guest(self, remote: str, kind: str, vmid: int) -> dict[str, Any] | None:
        return next(
            (g for g in self.list_guests(remote, kind) if int(g.get("vmid", -1)) == int(vmid)), None
        )

    def update_guest_status(self, remote: str, kind: str, vmid: int, status: str) -> bool:
        with self._lock:
            state = self.snapshot()
            for g in ((state.get("pve") or {}).get(remote) or {}).get(kind) or []:
                if int(g.get("vmid", -1)) == int(vmid):
                    g["status"] = status
                    self.replace(state)
                    return True
            return False


def load_seed_from_file(path: str | Path) -> dict[str, Any]:
    """A seed from a JSON file; ``FileNotFoundError`` naming it when it is missing."""
    p = Path(path)
    if not p.is_file():
        raise FileNotFoundError(f"PDM mock seed file not found: {p}")
    data = json.loads(p.read_text())
    if not isinstance(data, dict):
        raise ValueError(f"{p}: expected a JSON object (a PDM mock seed)")
    return data


def asgi_app(state: PDMMockState, **options: Any) -> Any:
    """The native PDM API over ``state``'s store, as an ASGI app."""
    from proxmox_sdk._asgi import NativeASGIApp

    return NativeASGIApp(service="PDM", namespace=state.namespace, **options)


def register_generated_pdm_mock_routes(
    app: Any,
    *,
    state: PDMMockState | None = None,
    seed: dict[str, Any] | None = None,
) -> PDMMockState:
    """Mounts the PDM mock on a FastAPI/Starlette ``app`` (the API under ``/api2/json``,
    the management endpoints under ``/mock``) and returns its state."""
    mock_state = state if state is not None else PDMMockState(seed=seed)
    api = asgi_app(mock_state)
    from starlette.requests import Request
    from starlette.responses import JSONResponse

    async def seed_route(request: Request) -> JSONResponse:
        mock_state.replace(await request.json())
        return JSONResponse({"status": "ok"})

    async def export_route(_request: Request) -> JSONResponse:
        return JSONResponse(mock_state.snapshot())

    async def reset_route(_request: Request) -> JSONResponse:
        mock_state.reset()
        return JSONResponse({"status": "ok"})

    app.add_route("/mock/seed", seed_route, methods=["POST"])
    app.add_route("/mock/import", seed_route, methods=["POST"])
    app.add_route("/mock/export", export_route, methods=["GET"])
    app.add_route("/mock/reset", reset_route, methods=["DELETE"])
    app.mount("/api2/json", _Prefixed(api, "/api2/json"))
    return mock_state


class _Prefixed:
    """Gives a mounted native app back the ``/api2/json`` prefix the mount stripped."""

    def __init__(self, app: Any, prefix: str) -> None:
        self._app = app
        self._prefix = prefix

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] in ("http", "websocket"):
            scope = dict(scope)
            root = scope.get("root_path") or ""
            path = scope.get("path") or "/"
            if root.endswith(self._prefix) and not path.startswith(root):
                scope["path"] = self._prefix + path
            scope["root_path"] = (
                root[: len(root) - len(self._prefix)] if root.endswith(self._prefix) else root
            )
        await self._app(scope, receive, send)
