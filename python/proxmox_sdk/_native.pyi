"""Type stubs of the native core ``proxmox_sdk._native`` (built from ``src/python/``)."""

from collections.abc import Awaitable, Generator
from os import PathLike
from typing import Any, Generic, final

from typing_extensions import Self, TypeVar, Unpack, disjoint_base

from proxmox_sdk.sdk.options import ClientOptions

__all__ = [
    "AsgiRouter",
    "Client",
    "MockStore",
    "SshClient",
    "cli_main",
    "services",
    "ServerHandle",
    "ProxmoxCall",
    "ProxmoxResource",
    "__version__",
    "_allocator_options",
    "_drain_async_calls",
    "_logging_changed",
    "check_seconds",
    "decode_upid",
    "native_calls_in_flight",
    "apidoc_json",
    "codegen_main",
    "http_request",
    "forget_mock_store",
    "latest_version",
    "openapi_json",
    "read_structured_file",
    "resolve_path",
    "resolve_version",
    "schema_versions",
    "server_main",
    "start_server",
    "validate_json",
]
__version__: str

def schema_versions(service: str = "PVE") -> list[str]:
    """The bundled schema versions of ``service``, oldest first."""

def latest_version(service: str = "PVE") -> str:
    """The version ``latest`` stands for."""

def resolve_version(version: str, service: str = "PVE") -> str:
    """Map ``latest`` (or a concrete tag) to a bundled version tag; ``ValueError`` if unknown."""

def openapi_json(version: str = "latest", service: str = "PVE") -> str:
    """The OpenAPI 3.1 document of a bundled version, as JSON text."""

def apidoc_json(version: str = "latest", service: str = "PVE") -> str:
    """The normalized apidoc of a bundled version, as JSON text."""

def validate_json(
    method: str, path: str, params_json: str, version: str = "latest", service: str = "PVE"
) -> tuple[int, str]:
    """Validate a request: ``(200, coerced_json)``, ``(400, errors_json)`` or ``(501, message)``."""

def resolve_path(
    path: str, version: str = "latest", service: str = "PVE"
) -> tuple[str, list[tuple[str, str]]] | None:
    """Resolve a concrete path to ``(template, [(param, value), ...])``, or ``None``."""

def http_request(
    method: str,
    url: str,
    headers: list[tuple[str, str]] = ...,
    body: bytes | None = None,
    verify_ssl: bool = True,
    timeout: float | None = None,
) -> Awaitable[tuple[int, list[tuple[str, str]], bytes]]:
    """One plain HTTP(S) request (no redirects): ``(status, headers, body)``."""

def codegen_main(argv: list[str]) -> int:
    """Run ``proxmox-sdk-codegen`` with ``argv`` (program name first); return the exit code."""

def forget_mock_store(version: str = "latest", namespace: str = "default") -> bool:
    """Drop the mock store of (version, namespace); the next mock there starts fresh."""

def read_structured_file(path: str) -> str:
    """Read a JSON or YAML file (by extension) and return it as JSON text."""

def _allocator_options() -> list[tuple[str, int]]:
    """The allocator options the module sets (mimalloc's) and their values now."""

def _drain_async_calls() -> None:
    """``atexit`` hook: wait for async completions that are inside Python."""

def _logging_changed(level: int | None = None) -> None:
    """Called by ``proxmox_sdk._logging`` when Python's logging levels change."""

def native_calls_in_flight() -> int:
    """Native async calls started and neither finished nor cancelled."""

def decode_upid(upid: str) -> dict[str, Any]:
    """The parts of a task id; ``ValueError`` if it is not one."""

def check_seconds(name: str, seconds: float, zero_allowed: bool = True) -> float:
    """Check a duration (0 to 86400 s) as every native option is checked."""

def services() -> dict[str, dict[str, Any]]:
    """The Proxmox services with their ports, backends and wire details."""

def cli_main(argv: list[str]) -> int:
    """Run the ``proxmox`` CLI with ``argv`` (program name first); return the exit code."""

@final
class SshClient:
    """One russh connection (the native half of ``proxmox_sdk.ssh.RemoteSSHClient``)."""

    def __new__(
        cls,
        host: str,
        *,
        port: int | None = None,
        user: str | None = None,
        password: str | None = None,
        private_key_file: str | None = None,
        private_key_passphrase: str | None = None,
        use_agent: bool = False,
        known_hosts_file: str | None = None,
        host_key_fingerprint: str | None = None,
        accept_new_host_key: bool = False,
        connect_timeout: float = 10.0,
        private_key: str | None = None,
    ) -> SshClient: ...
    def connect(self) -> Awaitable[None]: ...
    def run(
        self, command: str, timeout: float | None = None, max_output_bytes: int | None = None
    ) -> Awaitable[dict[str, Any]]: ...
    def close(self) -> Awaitable[None]: ...

@final
class Client:
    """One SDK connection: a backend and its request pipeline."""

    @staticmethod
    def mock(
        version: str = "latest",
        namespace: str = "default",
        data_path: str | None = None,
        lenient: bool = False,
        service: str = "PVE",
    ) -> Client: ...
    @staticmethod
    def connect(**options: Unpack[ClientOptions]) -> Client: ...
    def tokens(self) -> tuple[str, str] | None: ...
    def tokens_async(self) -> Awaitable[tuple[str, str] | None]: ...
    def close(self) -> None: ...
    def close_async(self) -> Awaitable[None]: ...
    @property
    def backend_name(self) -> str: ...
    @property
    def schema_version(self) -> str | None: ...
    @property
    def service(self) -> str: ...
    @property
    def call_timeout(self) -> float | None: ...
    @call_timeout.setter
    def call_timeout(self, seconds: float | None) -> None: ...
    def set_tracer(self, tracer: Any | None = None) -> None: ...
    @property
    def store(self) -> MockStore: ...
    def root(self, is_async: bool = True) -> ProxmoxResource[Any]: ...
    def request(self, method: str, path: str, params: dict[str, Any] | None = None) -> Any: ...
    def call(self, method: str, path: str, params: dict[str, Any] | None = None) -> ProxmoxCall: ...

@final
class MockStore:
    """A handle on one mock store (shared per schema version and namespace)."""

    def reset(self) -> None: ...
    def get_object(self, path: str) -> Any: ...
    def set_object(self, path: str, value: Any) -> None: ...
    def delete_object(self, path: str) -> bool: ...
    def is_deleted(self, path: str) -> bool: ...
    def save(self, path: str | PathLike[str]) -> None: ...
    def load(self, path: str | PathLike[str]) -> None: ...
    def seed(self, data: dict[str, Any]) -> None: ...
    def inject_failure(
        self,
        path: str,
        status: int | None = None,
        message: str = ...,
        method: str | None = None,
        count: int | None = None,
    ) -> None: ...
    def set_latency(self, seconds: float) -> None: ...
    def set_node_offline(self, node: str, offline: bool = True) -> None: ...
    def advance_clock(self, seconds: float) -> int: ...
    def set_time_scale(self, scale: float) -> None: ...
    def expire_tickets(self) -> None: ...
    def requests(self) -> list[dict[str, Any]]: ...
    def clear_requests(self) -> None: ...
    def pdm_seed(self) -> dict[str, Any]: ...
    def load_pdm_seed(self, seed: dict[str, Any], initial: bool = True) -> None: ...
    @property
    def service(self) -> str: ...
    @property
    def schema_version(self) -> str: ...

#: What a resource's verbs return: ``ProxmoxCall`` (awaitable) on the async SDK, the
#: decoded JSON answer on the blocking one. A bare ``ProxmoxResource`` is ``[Any]``.
_R_co = TypeVar("_R_co", covariant=True, default=Any)

#: A path segment: ``nodes("pve1")``, ``qemu(100)``, ``("nodes", "pve1")``.
_Segment = str | int | list[str | int] | tuple[str | int, ...] | None

@disjoint_base
class ProxmoxResource(Generic[_R_co]):
    """A node of the API tree; navigation does no I/O, the verbs send requests.

    (Natively ``__getattribute__`` serves the verbs and properties, else a child segment;
    the stub spells that as ``__getattr__`` so that type checkers see the verbs' types.)
    """

    def __new__(cls, client: Client, is_async: bool = True, path: str | None = None) -> Self: ...
    def __class_getitem__(cls, item: Any) -> Any: ...
    @property
    def path(self) -> str: ...
    @property
    def is_async(self) -> bool: ...
    def __getattr__(self, name: str) -> ProxmoxResource[_R_co]: ...
    def __call__(self, *args: _Segment) -> ProxmoxResource[_R_co]: ...
    def __eq__(self, value: object, /) -> bool: ...
    def __hash__(self) -> int: ...
    def get(self, *args: _Segment, **params: Any) -> _R_co: ...
    def post(self, *args: _Segment, **params: Any) -> _R_co: ...
    def put(self, *args: _Segment, **params: Any) -> _R_co: ...
    def patch(self, *args: _Segment, **params: Any) -> _R_co: ...
    def delete(self, *args: _Segment, **params: Any) -> _R_co: ...
    def create(self, *args: _Segment, **params: Any) -> _R_co: ...
    def set(self, *args: _Segment, **params: Any) -> _R_co: ...
    def get_bounded(self, max_response_bytes: int, *args: _Segment, **params: Any) -> _R_co: ...

@final
class ProxmoxCall:
    """What an async verb returns: a coroutine-like object (awaiting it, or running it as
    a task, sends the request once)."""

    def __await__(self) -> Generator[Any, None, Any]: ...
    def __iter__(self) -> ProxmoxCall: ...
    def __next__(self) -> Any: ...
    def send(self, value: Any) -> Any: ...
    def throw(self, typ: Any, val: Any = None, tb: Any = None) -> None: ...
    def close(self) -> None: ...

def start_server(
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    version: str = "latest",
    tls: bool = False,
    cert: str | None = None,
    key: str | None = None,
    data: str | None = None,
    state_file: str | None = None,
    password: str | None = None,
    no_auth: bool = False,
    namespace: str = "default",
    lenient: bool = False,
    rate_limit: int | None = None,
    cors_origins: list[str] = ...,
    codegen_api_key: str | None = None,
    admin: bool = False,
    service: str = "PVE",
    max_body: int | None = None,
    max_upload: int | None = None,
    header_timeout: float | None = None,
    max_connections: int | None = None,
    auth_fail_delay: float | None = None,
    admin_token: str | None = None,
    request_timeout: float | None = None,
) -> ServerHandle:
    """Start the mock server in the background."""

@final
class AsgiRouter:
    """The server's router, called in-process per request (the ASGI apps)."""

    def __new__(
        cls,
        *,
        version: str = "latest",
        service: str = "PVE",
        namespace: str = "default",
        data: str | None = None,
        state_file: str | None = None,
        password: str | None = None,
        auth: bool = False,
        lenient: bool = False,
        admin: bool = False,
        codegen_api_key: str | None = None,
        cors_origins: list[str] = ...,
        real: bool = False,
        strict: bool = False,
        admin_token: str | None = None,
    ) -> AsgiRouter: ...
    @property
    def password(self) -> str: ...
    @property
    def service(self) -> str: ...
    @property
    def schema_version(self) -> str: ...
    @property
    def store(self) -> MockStore: ...
    def handle(
        self,
        method: str,
        target: str,
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        client: tuple[str, int] | None = None,
    ) -> Awaitable[tuple[int, str, list[tuple[bytes, bytes]], bytes]]: ...
    def save_state(self) -> None: ...

def server_main(argv: list[str]) -> int:
    """Run ``proxmox-sdk-mock`` with ``argv`` until SIGINT/SIGTERM; return the exit code."""

@final
class ServerHandle:
    """A server running in the background."""

    @property
    def url(self) -> str: ...
    @property
    def fingerprint(self) -> str | None: ...
    @property
    def password(self) -> str: ...
    @property
    def running(self) -> bool: ...
    def stop(self) -> None: ...
