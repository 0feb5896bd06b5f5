"""``ProxmoxSDK`` (async) and ``SyncProxmoxSDK`` (blocking): the entry points.

Both build their paths natively (no I/O until a verb is called) and run every request
through the same Rust pipeline; they differ only in whether the verbs are awaited.
"""

from __future__ import annotations

import json
import os
import uuid
import warnings
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar, cast

from proxmox_sdk import _native
from proxmox_sdk._native import ProxmoxCall, ProxmoxResource
from proxmox_sdk.sdk.exceptions import BackendNotAvailableError

if TYPE_CHECKING:
    from typing_extensions import Self, Unpack

    from proxmox_sdk.sdk.options import ClientOptions, MockOptions, SDKOptions, ServiceName

__all__ = ["BackendTimeout", "ProxmoxSDK", "SyncProxmoxSDK"]


_TRUE = frozenset({"1", "true", "yes", "on"})


def _tracing_wanted(otel_enabled: Any) -> bool:
    """As ``telemetry.is_enabled``, without importing it (nor OpenTelemetry) when off."""
    env = os.environ
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() in _TRUE:
        return False
    return bool(otel_enabled) or env.get("PROXMOX_OTEL_ENABLED", "").strip().lower() in _TRUE


class BackendTimeout(NamedTuple):
    """What ``sdk._backend._timeout`` reads back: the total and connect timeouts in seconds
    (``None``: none set), shaped like ``aiohttp.ClientTimeout`` for code written for the
    original."""

    total: float | None
    connect: float | None = None


class _BackendView:
    """``sdk._backend``: the original package's backend object, as far as code in the wild
    touches it. Assigning ``_timeout`` (an ``aiohttp.ClientTimeout``, anything with
    ``.total``, a number, or ``None`` to go back to the configured one) sets the total
    timeout of every later call; the connect timeout stays as configured (the native
    transport sets it per connection)."""

    __slots__ = ("_sdk",)

    def __init__(self, sdk: _BaseSDK[Any]) -> None:
        self._sdk = sdk

    @property
    def _timeout(self) -> BackendTimeout:
        client = self._sdk._client
        total = client.call_timeout
        if total is None:
            total = self._sdk._timeout_option
        return BackendTimeout(total, self._sdk._connect_timeout_option)

    @_timeout.setter
    def _timeout(self, value: Any) -> None:
        client = self._sdk._client
        if value is None:
            client.call_timeout = None
            return
        total = getattr(value, "total", value)
        # aiohttp's ClientTimeout(total=None) is no total timeout at all.
        client.call_timeout = 0 if total is None else total

    @property
    def service(self) -> str:
        return self._sdk.service

    async def request(
        self,
        method: str,
        path: str,
        params: dict[str, Any] | None = None,
        data: dict[str, Any] | None = None,
    ) -> Any:
        """One request; ``path`` with or without the ``/api2/json`` prefix."""
        full = path if path.startswith("/api2/json") else "/api2/json/" + path.lstrip("/")
        return await self._sdk._client.call(
            str(method).upper(), full, {**(params or {}), **(data or {})}
        )

    def __repr__(self) -> str:
        return f"<backend {self._sdk.backend_name} of {self._sdk!r}>"


#: What the verbs return: ``ProxmoxCall`` (awaitable) or the answer (blocking).
_R = TypeVar("_R", covariant=True)


class _BaseSDK(ProxmoxResource[_R]):
    """What the async and the sync SDK share: argument checks, backend, navigation.

    The SDK object is itself the root resource (``/api2/json``), so ``sdk.nodes`` navigates
    natively at the same cost as any other resource.
    """

    _is_async = True
    _client: _native.Client
    _service: str
    _timeout_option: float | None
    _connect_timeout_option: float | None
    _backend: _BackendView
    _host: str | os.PathLike[str] | None
    _user: str | None
    _auth: str | None
    _closed: bool

    def __new__(cls, host: str | None = None, **options: Unpack[SDKOptions]) -> Self:
        """``ProxmoxSDK(host=None, *, user=..., password=..., token_name=..., ...)``: the
        options (and their defaults) are declared once, natively; unknown names and wrong
        types raise ``TypeError``, bad values ``ValueError``, each naming the option."""
        session = options.pop("session", None)
        if session is not None:
            warnings.warn(
                "ProxmoxSDK(session=...) is ignored: the native HTTPS transport owns its "
                "connections (an aiohttp session cannot be used)",
                RuntimeWarning,
                stacklevel=3,
            )
        native = cast("ClientOptions", options)  # `session` popped: the native options
        if host is not None:
            native["host"] = host if isinstance(host, str | os.PathLike) else str(host)
        client = _native.Client.connect(**native)
        self = super().__new__(cls, client, cls._is_async)
        self._client = client
        self._service = client.service
        self._timeout_option = options.get("timeout", 5)
        self._connect_timeout_option = options.get("connect_timeout")
        self._backend = _BackendView(self)
        if _tracing_wanted(options.get("otel_enabled")):
            from proxmox_sdk import telemetry

            tracer = telemetry.client_tracer(
                client.backend_name, self._service, bool(options.get("otel_enabled"))
            )
            if tracer is not None:
                client.set_tracer(tracer)
        self._host = native.get("host")
        self._user = options.get("user")
        self._auth = (
            "token"
            if options.get("token_name")
            else ("password" if options.get("password") else None)
        )
        self._closed = False
        return self

    def __init__(self, host: str | None = None, **options: Unpack[SDKOptions]) -> None:
        """Everything happens in ``__new__`` (the native base is immutable)."""

    # -- constructors -------------------------------------------------------------------

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | str | os.PathLike[str]) -> Self:
        """Build from a mapping of constructor arguments, or a JSON/YAML file of one."""
        if isinstance(cfg, str | os.PathLike):
            data = json.loads(_native.read_structured_file(os.fspath(cfg)))
        elif isinstance(cfg, Mapping):
            data = dict(cfg)
        else:
            raise TypeError(f"cfg: expected a mapping or a file path, got {type(cfg).__name__}")
        if not isinstance(data, dict):
            raise ValueError("cfg: expected a mapping of ProxmoxSDK arguments")
        return cls(**data)

    # -- properties ---------------------------------------------------------------------

    @property
    def service(self) -> str:
        """The service name in upper case (``PVE``)."""
        return self._service

    @property
    def backend_name(self) -> str:
        """The backend in use (``https``, ``mock``, ...)."""
        return self._client.backend_name

    @property
    def schema_version(self) -> str | None:
        """The PVE schema version the mock serves (``None`` for real backends)."""
        return self._client.schema_version

    @property
    def root(self) -> ProxmoxResource[_R]:
        """The root resource (``/api2/json``) as a plain resource."""
        return cast("ProxmoxResource[_R]", self._client.root(self._is_async))

    def __repr__(self) -> str:
        parts = [f"service={self._service!r}", f"backend={self.backend_name!r}"]
        if self._host:
            parts.append(f"host={self._host!r}")
        if self._user:
            parts.append(f"user={self._user!r}")
        if self._auth:
            parts.append(f"auth={self._auth!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    # -- mock helpers -------------------------------------------------------------------

    @property
    def mock_store(self) -> _native.MockStore:
        """The mock's store (``reset()``, ``get_object()``, ``seed()``, ...)."""
        if self.backend_name != "mock":
            raise BackendNotAvailableError(f"backend {self.backend_name!r} has no mock store")
        return self._client.store

    def _no_tokens(self) -> RuntimeError:
        return RuntimeError(
            f"get_tokens: the {self.backend_name} backend does not use ticket authentication"
        )


class ProxmoxSDK(_BaseSDK[ProxmoxCall]):
    """The async SDK: ``await px.nodes("pve1").qemu(100).config.get()``.

    ``async with ProxmoxSDK(...) as px`` yields the root resource; the SDK object navigates
    too (``sdk.nodes.get()``, ``sdk("cluster/status").get()``).
    """

    _is_async = True

    @classmethod
    def mock(
        cls,
        schema_version: str = "latest",
        service: ServiceName = "PVE",
        **kwargs: Unpack[MockOptions],
    ) -> Self:
        """An async SDK over the in-memory PVE (or PBS, PMG, PDM) of ``schema_version``."""
        return cls(backend="mock", service=service, schema_version=schema_version, **kwargs)

    @staticmethod
    def sync(host: str | None = None, **kwargs: Unpack[SDKOptions]) -> SyncProxmoxSDK:
        """The blocking twin with the same arguments."""
        return SyncProxmoxSDK(host, **kwargs)

    @staticmethod
    def sync_mock(
        schema_version: str = "latest", service: ServiceName = "PVE", **kwargs: Unpack[MockOptions]
    ) -> SyncProxmoxSDK:
        """A blocking SDK over the in-memory PVE."""
        return SyncProxmoxSDK(
            backend="mock", service=service, schema_version=schema_version, **kwargs
        )

    async def close(self) -> None:
        """Release the connection (idempotent; a later call reconnects)."""
        self._closed = True
        await self._client.close_async()

    async def get_tokens(self) -> tuple[str, str]:
        """``(ticket, CSRFPreventionToken)`` of ticket authentication (logs in if needed)."""
        tokens = await self._client.tokens_async()
        if tokens is None:
            raise self._no_tokens()
        return tokens

    async def __aenter__(self) -> ProxmoxResource[ProxmoxCall]:
        return self.root

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class SyncProxmoxSDK(_BaseSDK[Any]):
    """The blocking SDK: ``px.nodes("pve1").qemu(100).config.get()``. The GIL is released
    while Rust works, and it can be called from inside a running event loop."""

    _is_async = False

    @classmethod
    def mock(
        cls,
        schema_version: str = "latest",
        service: ServiceName = "PVE",
        **kwargs: Unpack[MockOptions],
    ) -> Self:
        """A blocking SDK over the in-memory PVE of ``schema_version``."""
        return cls(backend="mock", service=service, schema_version=schema_version, **kwargs)

    def close(self) -> None:
        """Release the connection (idempotent; a later call reconnects)."""
        self._closed = True
        self._client.close()

    def get_tokens(self) -> tuple[str, str]:
        """``(ticket, CSRFPreventionToken)`` of ticket authentication (logs in if needed)."""
        tokens = self._client.tokens()
        if tokens is None:
            raise self._no_tokens()
        return tokens

    def __enter__(self) -> ProxmoxResource[Any]:
        return self.root

    def __exit__(self, *exc: object) -> None:
        self.close()


def isolated_namespace(prefix: str = "isolated") -> str:
    """A fresh mock namespace (what the pytest fixtures use)."""
    return f"{prefix}-{uuid.uuid4().hex}"
