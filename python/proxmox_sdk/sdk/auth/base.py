"""The authentication strategy protocols of the original package.

The native HTTPS transport owns authentication (tickets, renewal, CSRF, tokens), so
these describe the shape for type checking; nothing here is called by the SDK.
"""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class AuthStrategy(Protocol):
    """Produces the headers and cookies that authenticate one request."""

    def build_headers(self, method: str) -> dict[str, str]: ...

    def build_cookies(self) -> dict[str, str]: ...


@runtime_checkable
class EnsurableAuthStrategy(AuthStrategy, Protocol):
    """An auth strategy with an async preparation step before each request."""

    async def ensure_ready(
        self, session: Any, ticket_url: str, *, ssl: Any = None, proxy: str | None = None
    ) -> None: ...


__all__ = ["AuthStrategy", "EnsurableAuthStrategy"]
