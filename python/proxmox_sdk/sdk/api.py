"""``ProxmoxSDK`` (async) and ``SyncProxmoxSDK`` (blocking): the entry points.

Both build their paths natively (no I/O until a verb is called) and run every request
through the same Rust pipeline; they differ only in whether the verbs are awaited.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Mapping
from typing import Any

from proxmox_sdk import _native
from proxmox_sdk._native import ProxmoxResource
from proxmox_sdk.sdk.exceptions import BackendNotAvailableError
from proxmox_sdk.sdk.services import service_config

__all__ = ["ProxmoxSDK", "SyncProxmoxSDK"]


def _path(p: Any) -> str | None:
    return os.path.expanduser(os.fspath(p)) if p else None


class _BaseSDK(ProxmoxResource):
    """What the async and the sync SDK share: argument checks, backend, navigation.

    The SDK object is itself the root resource (``/api2/json``), so ``sdk.nodes`` navigates
    natively at the same cost as any other resource.
    """

    _is_async = True

    def __new__(
        cls,
        host: str | None = None,
        *,
        user: str | None = None,
        password: str | None = None,
        token_name: str | None = None,
        token_value: str | None = None,
        otp: str | None = None,
        otptype: str = "totp",
        service: str = "PVE",
        backend: str = "https",
        port: int | None = None,
        path_prefix: str = "",
        verify_ssl: bool = True,
        cert: str | None = None,
        timeout: float | None = 5,
        connect_timeout: float | None = None,
        proxies: Mapping[str, str] | None = None,
        max_retries: int = 0,
        retry_backoff: float = 0.5,
        sudo: bool = False,
        private_key_file: str | None = None,
        identity_file: str | None = None,
        forward_ssh_agent: bool = False,
        config_file: str | None = None,
        otel_enabled: bool | None = None,
        session: Any = None,
        schema_version: str = "latest",
        mock_namespace: str | None = None,
        mock_data_path: str | None = None,
        lenient: bool = False,
        validate: bool | None = None,
        fingerprint: str | None = None,
        private_key_passphrase: str | None = None,
        known_hosts_file: str | None = None,
        host_key_fingerprint: str | None = None,
        accept_new_host_key: bool = False,
        ssh_options: list[str] | None = None,
    ) -> Any:
        service_name, config = service_config(service)
        backend_name = str(backend).lower()
        # Durations: 0 to 86400 s, as every native duration (timeout=None or 0: no timeout).
        timeout = 0 if timeout is None else _native.check_seconds("timeout", timeout)
        if connect_timeout is not None:
            connect_timeout = _native.check_seconds("connect_timeout", connect_timeout, False)
        retry_backoff = _native.check_seconds("retry_backoff", retry_backoff)
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries: expected an integer >= 0, got {max_retries!r}")
        if port is not None and (
            isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536
        ):
            raise ValueError(f"port: expected an integer from 1 to 65535, got {port!r}")
        if proxies is not None and not isinstance(proxies, Mapping):
            raise ValueError(f"proxies: expected a mapping of scheme to proxy URL, got {proxies!r}")
        # The native builder checks the backend against the service, the host and the
        # credentials; validate=True refuses bad parameters before anything is sent.
        client = _native.Client.connect(
            backend_name,
            service=service_name,
            host=str(host) if host is not None else None,
            port=port,
            user=user,
            password=password,
            token_name=token_name,
            token_value=token_value,
            otp=otp,
            otptype=otptype,
            path_prefix=path_prefix,
            verify_ssl=bool(verify_ssl),
            cert=os.fspath(cert) if cert else None,
            fingerprint=fingerprint,
            timeout=timeout if backend_name == "https" else (timeout or None),
            connect_timeout=connect_timeout,
            proxies=sorted((proxies or {}).items()),
            max_retries=max_retries,
            retry_backoff=retry_backoff,
            sudo=bool(sudo),
            private_key_file=_path(private_key_file or identity_file),
            private_key_passphrase=private_key_passphrase,
            config_file=_path(config_file),
            forward_ssh_agent=bool(forward_ssh_agent),
            known_hosts_file=_path(known_hosts_file),
            host_key_fingerprint=host_key_fingerprint,
            accept_new_host_key=bool(accept_new_host_key),
            ssh_options=list(ssh_options or []),
            schema_version=schema_version,
            validate=bool(validate),
            mock_namespace=mock_namespace
            or os.environ.get("PROXMOX_MOCK_STATE_NAMESPACE", "default"),
            mock_data_path=mock_data_path or os.environ.get("PROXMOX_MOCK_DATA_PATH") or None,
            lenient=bool(lenient),
        )
        self = super().__new__(cls, client, cls._is_async)
        self._client = client
        self._service = service_name
        self._backend_name = backend_name
        self._host = host
        self._user = user
        self._auth = "token" if token_name else ("password" if password else None)
        self._port = port or config["default_port"]
        self._schema_version = schema_version
        self._closed = False
        return self

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """Everything happens in ``__new__`` (the native base is immutable)."""

    # -- constructors -------------------------------------------------------------------

    @classmethod
    def from_config(cls, cfg: Mapping[str, Any] | str | os.PathLike[str]) -> Any:
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
        return self._backend_name

    @property
    def schema_version(self) -> str | None:
        """The PVE schema version the mock serves (``None`` for real backends)."""
        return self._client.schema_version

    @property
    def root(self) -> Any:
        """The root resource (``/api2/json``) as a plain resource."""
        return self._client.root(self._is_async)

    def __repr__(self) -> str:
        parts = [f"service={self._service!r}", f"backend={self._backend_name!r}"]
        if self._host:
            parts.append(f"host={self._host!r}")
        if self._user:
            parts.append(f"user={self._user!r}")
        if self._auth:
            parts.append(f"auth={self._auth!r}")
        return f"{type(self).__name__}({', '.join(parts)})"

    # -- mock helpers -------------------------------------------------------------------

    @property
    def mock_store(self) -> Any:
        """The mock's store (``reset()``, ``get_object()``, ``seed()``, ...)."""
        from proxmox_sdk.mock.state import MockStore

        if self._backend_name != "mock":
            raise BackendNotAvailableError(f"backend {self._backend_name!r} has no mock store")
        return MockStore(self._client)

    def _no_tokens(self) -> RuntimeError:
        return RuntimeError(
            f"get_tokens: the {self._backend_name} backend does not use ticket authentication"
        )


class ProxmoxSDK(_BaseSDK):
    """The async SDK: ``await px.nodes("pve1").qemu(100).config.get()``.

    ``async with ProxmoxSDK(...) as px`` yields the root resource; the SDK object navigates
    too (``sdk.nodes.get()``, ``sdk("cluster/status").get()``).
    """

    _is_async = True

    @classmethod
    def mock(
        cls, schema_version: str = "latest", service: str = "PVE", **kwargs: Any
    ) -> ProxmoxSDK:
        """An async SDK over the in-memory PVE of ``schema_version``."""
        return cls(backend="mock", service=service, schema_version=schema_version, **kwargs)

    @staticmethod
    def sync(**kwargs: Any) -> SyncProxmoxSDK:
        """The blocking twin with the same arguments."""
        return SyncProxmoxSDK(**kwargs)

    @staticmethod
    def sync_mock(
        schema_version: str = "latest", service: str = "PVE", **kwargs: Any
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

    async def __aenter__(self) -> Any:
        return self.root

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class SyncProxmoxSDK(_BaseSDK):
    """The blocking SDK: ``px.nodes("pve1").qemu(100).config.get()``. The GIL is released
    while Rust works, and it can be called from inside a running event loop."""

    _is_async = False

    @classmethod
    def mock(
        cls, schema_version: str = "latest", service: str = "PVE", **kwargs: Any
    ) -> SyncProxmoxSDK:
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

    def __enter__(self) -> Any:
        return self.root

    def __exit__(self, *exc: object) -> None:
        self.close()


def isolated_namespace(prefix: str = "isolated") -> str:
    """A fresh mock namespace (what the pytest fixtures use)."""
    return f"{prefix}-{uuid.uuid4().hex}"
