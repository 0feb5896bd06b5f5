"""ASGI 3 apps over the native server's router, called in-process (no second socket):
what ``proxmox_sdk.mock_main:app``, ``proxmox_sdk.main:app`` and
``proxmox_sdk.pdm_mock_main:app`` are. Each request's body is read, handed to the router
and answered as the native server answers it (status, headers, body). The one thing ASGI
cannot carry is a custom reason phrase: servers such as uvicorn send the standard one, so
PVE's error message is in the body's ``message`` (as PVE's own bodies have it) but not in
the status line. Mounted under a prefix (``app.mount("/pve", mock_app)``), the
``root_path`` is stripped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from proxmox_sdk import _native

__all__ = ["NativeASGIApp"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_MAX_BODY = 64 * 1024 * 1024


class NativeASGIApp:
    """An ASGI 3 application answered by the native router (built on first request, so
    that importing the module costs nothing). ``options`` are those of
    ``_native.AsgiRouter`` (``version``, ``service``, ``namespace``, ``auth``, ...)."""

    def __init__(self, **options: Any) -> None:
        self._options = options
        self._router: Any = None
        self.state = _State()

    @property
    def router(self) -> Any:
        """The native router (made on first use)."""
        if self._router is None:
            self._router = _native.AsgiRouter(**self._options)
        return self._router

    @property
    def store(self) -> Any:
        """The mock's store (``reset()``, ``seed()``, ``get_object()``, ...)."""
        return self.router.store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":
            await self._lifespan(receive, send)
            return
        if kind != "http":
            # No websockets (PVE's consoles are out of scope); close politely.
            if kind == "websocket":
                await send({"type": "websocket.close", "code": 1000})
            return
        body = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body.extend(message.get("body", b""))
            if len(body) > _MAX_BODY:
                await _plain(send, 413, b"request body too large")
                return
            if not message.get("more_body"):
                break
        path = scope.get("path") or "/"
        root = scope.get("root_path") or ""
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        query = scope.get("query_string") or b""
        target = f"{path}?{query.decode('latin-1')}" if query else path
        client = scope.get("client")
        peer = (str(client[0]), int(client[1])) if client else None
        try:
            status, _reason, headers, answer = await self.router.handle(
                scope["method"], target, list(scope.get("headers") or []), bytes(body), peer
            )
        except ValueError as e:
            await _plain(send, 400, str(e).encode())
            return
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": answer})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    self.router  # noqa: B018 - build it now, so that errors show at startup
                except Exception as e:
                    await send({"type": "lifespan.startup.failed", "message": str(e)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self._router is not None:
                    self._router.save_state()
                await send({"type": "lifespan.shutdown.complete"})
                return


class _State:
    """Attributes shared with the app's users (``app.state.x``), as Starlette's."""


async def _plain(send: Send, status: int, text: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"text/plain; charset=utf-8")],
        }
    )
    await send({"type": "http.response.body", "body": text})
