"""The mock server as an ASGI app: ``uvicorn proxmox_sdk.mock_main:app`` (the original's
entry point; its Docker image runs exactly that), or ``run()``.

Environment, as the original: ``PROXMOX_MOCK_SCHEMA_VERSION`` (``latest``),
``PROXMOX_MOCK_DATA_PATH`` (initial data), ``PROXMOX_MOCK_STATE_NAMESPACE``,
``PROXMOX_API_SERVICE`` (PVE, PBS, PMG, PDM), ``CORS_ORIGINS``, ``CODEGEN_API_KEY``;
``HOST``/``PORT`` for ``run()`` (default ``0.0.0.0:8000``). Like the original's mock it
needs no login; ``PROXMOX_MOCK_AUTH=1`` (with ``PROXMOX_MOCK_PASSWORD`` for root@pam)
makes it check tickets and tokens as the native server does. ``PROXMOX_MOCK_STATE_FILE``
keeps state across restarts, ``PROXMOX_MOCK_ADMIN=1`` serves the test controls (with auth
on they take root@pam's ticket or ``Authorization: Bearer $PROXMOX_MOCK_ADMIN_TOKEN``).
"""

from __future__ import annotations

import os
from typing import Any

from proxmox_sdk._asgi import NativeASGIApp

__all__ = ["app", "create_mock_app", "run"]

_TRUE = ("1", "true", "yes", "on")


def _options_from_env(**overrides: Any) -> dict[str, Any]:
    env = os.environ
    options: dict[str, Any] = {
        "version": env.get("PROXMOX_MOCK_SCHEMA_VERSION") or "latest",
        "service": env.get("PROXMOX_API_SERVICE") or "PVE",
        "namespace": env.get("PROXMOX_MOCK_STATE_NAMESPACE") or "default",
        "data": env.get("PROXMOX_MOCK_DATA_PATH") or None,
        "state_file": env.get("PROXMOX_MOCK_STATE_FILE") or None,
        "password": env.get("PROXMOX_MOCK_PASSWORD") or None,
        "auth": env.get("PROXMOX_MOCK_AUTH", "").strip().lower() in _TRUE,
        "admin": env.get("PROXMOX_MOCK_ADMIN", "").strip().lower() in _TRUE,
        "admin_token": env.get("PROXMOX_MOCK_ADMIN_TOKEN") or None,
        "codegen_api_key": env.get("CODEGEN_API_KEY") or None,
        "cors_origins": [o.strip() for o in env.get("CORS_ORIGINS", "").split(",") if o.strip()],
    }
    options.update(overrides)
    return options


def create_mock_app(**options: Any) -> NativeASGIApp:
    """A mock-mode app; ``options`` override the environment (``service="PBS"``, ...)."""
    return NativeASGIApp(**_options_from_env(**options))


app = create_mock_app()


def run() -> None:
    """Serve ``app`` with uvicorn on ``HOST``:``PORT`` (``pip install 'proxmox-sdk[asgi]'``)."""
    try:
        import uvicorn
    except ImportError:
        raise SystemExit(
            "proxmox_sdk.mock_main.run() needs uvicorn: pip install 'proxmox-sdk[asgi]' "
            "(or run the native server: proxmox-sdk-mock)"
        ) from None
    uvicorn.run(
        "proxmox_sdk.mock_main:app",
        host=os.environ.get("HOST", "0.0.0.0"),
        port=int(os.environ.get("PORT", "8000")),
    )
