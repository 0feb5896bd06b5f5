"""The backend interface: ``await backend.request(method, path, params, data)``."""

from __future__ import annotations

import abc
from typing import Any


class AbstractBackend(abc.ABC):
    """A transport that answers API requests with PVE's unwrapped ``data``."""

    @abc.abstractmethod
    async def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> Any:
        """Send one request; ``path`` includes the API prefix (``/api2/json/...``)."""

    async def close(self) -> None:  # noqa: B027 - optional hook
        """Release resources (idempotent)."""

    async def get_tokens(self) -> tuple[str, str]:
        """``(ticket, CSRFPreventionToken)`` for ticket authentication."""
        raise RuntimeError(f"{type(self).__name__} does not use ticket authentication")


class NativeBackend(AbstractBackend):
    """A backend whose requests run in the native core."""

    _client: Any

    def __init__(self, api_path_prefix: str = "/api2/json") -> None:
        self.api_path_prefix = api_path_prefix.rstrip("/") or ""

    def _path(self, path: str) -> str:
        prefix = self.api_path_prefix
        if prefix and path.startswith(prefix):
            path = path[len(prefix) :]
        return "/api2/json/" + path.lstrip("/")

    async def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> Any:
        merged = {**(params or {}), **(data or {})}
        return await self._client.call(str(method).upper(), self._path(path), merged)
