"""The HTTP plumbing of the direct Ceph providers: a small transport protocol (swap in a
recording transport in tests), the default native transport (reqwest, redirects never
followed: a 3xx raises ``ProxmoxRedirectError``), and the provider base class."""

from __future__ import annotations

import json as _json
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable
from urllib.parse import urlencode

from proxmox_sdk.sdk.exceptions import ProxmoxRedirectError, ResourceException

__all__ = [
    "DEFAULT_TIMEOUT",
    "AiohttpTransport",
    "AsyncTransport",
    "BaseHttpProvider",
    "HttpResponse",
    "JSONValue",
    "NativeTransport",
]

DEFAULT_TIMEOUT = 30

#: What a provider endpoint may answer; callers narrow it before use.
JSONValue = dict[str, Any] | list[Any] | str | int | float | bool | None


@dataclass(slots=True)
class HttpResponse:
    """One answer, as every transport returns it."""

    status: int
    headers: dict[str, str] = field(default_factory=dict)
    json_body: JSONValue = None
    text: str = ""


@runtime_checkable
class AsyncTransport(Protocol):
    """What a provider needs of a transport."""

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        json: Any | None = None,
        data: Any | None = None,
    ) -> HttpResponse: ...

    async def close(self) -> None: ...


def _clean_params(params: dict[str, Any] | None) -> dict[str, Any]:
    """``None`` values dropped, booleans as ``true``/``false`` (as Ceph reads them)."""
    out: dict[str, Any] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        out[key] = ("true" if value else "false") if isinstance(value, bool) else value
    return out


class NativeTransport:
    """The default transport: the SDK's native HTTP client (rustls; certificates verified
    unless ``verify_ssl=False``)."""

    def __init__(self, *, verify_ssl: bool = True, timeout: int = DEFAULT_TIMEOUT) -> None:
        self._verify_ssl = verify_ssl
        self._timeout = timeout

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: dict[str, str] | None = None,
        params: dict[str, Any] | None = None,
        json: Any | None = None,
        data: Any | None = None,
    ) -> HttpResponse:
        from proxmox_sdk import _native

        query = urlencode(_clean_params(params), doseq=True)
        if query:
            url = f"{url}{'&' if '?' in url else '?'}{query}"
        hdrs = dict(headers or {})
        body: bytes | None = None
        if json is not None:
            body = _json.dumps(json).encode()
            hdrs.setdefault("Content-Type", "application/json")
        elif data is not None:
            body = data if isinstance(data, bytes) else urlencode(data).encode()
            hdrs.setdefault("Content-Type", "application/x-www-form-urlencoded")
        status, raw_headers, raw = await _native.http_request(
            method.upper(), url, list(hdrs.items()), body, self._verify_ssl, self._timeout
        )
        answer_headers = {k: v for k, v in raw_headers}
        if 300 <= status < 400:
            raise ProxmoxRedirectError(status, answer_headers.get("location"))
        text = raw.decode("utf-8", "replace")
        try:
            parsed = _json.loads(text) if text else None
        except ValueError:
            parsed = None
        return HttpResponse(status=status, headers=answer_headers, json_body=parsed, text=text)

    async def close(self) -> None:
        """Nothing to release: the native client's connections are pooled per process."""


#: The original package's name for its default transport.
AiohttpTransport = NativeTransport


class BaseHttpProvider:
    """What the provider clients share: the transport (closed only when they made it),
    absolute URLs from ``base_url``, status checks, ``async with``."""

    provider: str = "ceph"

    def __init__(
        self,
        base_url: str,
        *,
        verify_ssl: bool = True,
        timeout: int = DEFAULT_TIMEOUT,
        transport: AsyncTransport | None = None,
    ) -> None:
        if not base_url:
            raise ValueError("base_url is required")
        self._base_url = base_url.rstrip("/")
        self._verify_ssl = verify_ssl
        self._timeout = timeout
        self._owns_transport = transport is None
        self._transport: AsyncTransport = transport or NativeTransport(
            verify_ssl=verify_ssl, timeout=timeout
        )

    def _url(self, path: str) -> str:
        return f"{self._base_url}/{path.lstrip('/')}"

    @staticmethod
    def _raise_for_status(response: HttpResponse, *, context: str = "") -> None:
        if response.status >= 400:
            label = f"{context}: " if context else ""
            raise ResourceException(
                status_code=response.status,
                status_message=f"{label}provider request failed",
                content=response.text or "",
            )

    async def close(self) -> None:
        if self._owns_transport:
            await self._transport.close()

    async def __aenter__(self) -> Any:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()
