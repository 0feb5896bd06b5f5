"""The server as an ASGI app in either mode, ``uvicorn proxmox_sdk.main:app`` (the
original's README): ``PROXMOX_API_MODE=mock`` (default) is :mod:`proxmox_sdk.mock_main`'s
app; ``real`` validates every request against the schema and forwards it to the PVE that
``PROXMOX_API_URL`` and ``PROXMOX_API_TOKEN_ID``/``PROXMOX_API_TOKEN_SECRET`` (or
``PROXMOX_API_USERNAME``/``PROXMOX_API_PASSWORD``) name, checking its answers
(``PROXMOX_API_STRICT=1``: a mismatch answers 502)."""

from __future__ import annotations

import os

from proxmox_sdk._asgi import NativeASGIApp
from proxmox_sdk.mock_main import _options_from_env

__all__ = ["app", "create_app"]


def create_app() -> NativeASGIApp:
    """The app of ``PROXMOX_API_MODE``; ``ValueError`` for another mode."""
    mode = (os.environ.get("PROXMOX_API_MODE") or "mock").strip().lower()
    if mode == "mock":
        return NativeASGIApp(**_options_from_env())
    if mode == "real":
        strict = os.environ.get("PROXMOX_API_STRICT", "").strip().lower() in ("1", "true", "yes")
        return NativeASGIApp(**_options_from_env(real=True, strict=strict, auth=False))
    raise ValueError(f"PROXMOX_API_MODE={mode}: expected mock or real")


app = create_app()
