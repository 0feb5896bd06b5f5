"""Code written for the original package, run against ours: every module path it imports,
the calls proxbox-api makes (its public source), the ASGI apps under real uvicorn, and
tracing with the OpenTelemetry SDK (in-memory exporter; the server's OTLP/HTTP export
against a receiver started here)."""

from __future__ import annotations

import asyncio
import importlib
import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from proxmox_sdk import ProxmoxSDK, SyncProxmoxSDK
from proxmox_sdk.sdk import exceptions as ex
from proxmox_sdk.server import serve

# (module, names) that code written for proxmox-sdk 0.0.15 imports; the first block is
# exactly what proxbox-api imports.
MODULES: list[tuple[str, list[str]]] = [
    ("proxmox_sdk", ["ProxmoxSDK"]),
    ("proxmox_sdk.sdk.api", ["ProxmoxSDK"]),
    ("proxmox_sdk.sdk.resource", ["ProxmoxResource"]),
    (
        "proxmox_sdk.sdk.exceptions",
        ["ResourceException", "AuthenticationError", "CephCapabilityUnsupportedError"],
    ),
    ("proxmox_sdk.pbs", ["PBSClient"]),
    ("proxmox_sdk.ceph", ["CephClient"]),
    ("proxmox_sdk.node.hardware", ["discover_node"]),
    ("proxmox_sdk.ssh", ["RemoteSSHClient", "fingerprint_sha256", "DEFAULT_REDACTORS"]),
    ("proxmox_sdk.schema", ["load_proxmox_generated_openapi"]),
    ("proxmox_sdk.mock.schema_helpers", ["schema_fingerprint"]),
    ("proxmox_sdk.mock.state", ["shared_mock_store"]),
    ("proxmox_sdk.mock_main", ["app", "create_mock_app", "run"]),
    # The rest of the original's public surface that user code reaches.
    ("proxmox_sdk", ["SyncProxmoxSDK", "Tasks", "Files", "__version__"]),
    ("proxmox_sdk.sdk", ["ProxmoxSDK", "SyncProxmoxSDK"]),
    ("proxmox_sdk.sdk.sync", ["SyncProxmoxSDK", "SyncProxmoxResource"]),
    ("proxmox_sdk.sdk.services", ["SERVICES", "ServiceConfig"]),
    ("proxmox_sdk.sdk.auth.token", ["parse_token_id"]),
    ("proxmox_sdk.sdk.auth.base", ["AuthStrategy", "EnsurableAuthStrategy"]),
    ("proxmox_sdk.sdk.backends.base", ["AbstractBackend"]),
    ("proxmox_sdk.sdk.backends.mock", ["MockBackend"]),
    ("proxmox_sdk.sdk.backends.https", ["HttpsBackend"]),
    ("proxmox_sdk.sdk.backends.local", ["LocalBackend"]),
    ("proxmox_sdk.sdk.backends.openssh", ["OpenSshBackend"]),
    ("proxmox_sdk.sdk.backends.ssh_paramiko", ["SshParamikoBackend"]),
    ("proxmox_sdk.sdk.tools.tasks", ["Tasks"]),
    ("proxmox_sdk.sdk.tools.files", ["Files"]),
    ("proxmox_sdk.pbs", ["SyncPBSClient"]),
    ("proxmox_sdk.pdm", ["PDMClient", "SyncPDMClient"]),
    ("proxmox_sdk.pdm_mock_main", ["app", "run"]),
    ("proxmox_sdk.main", ["app"]),
    ("proxmox_sdk.mock.app", ["create_mock_app"]),
    ("proxmox_sdk.mock.loader", ["get_mock_data_path", "load_mock_data"]),
    ("proxmox_sdk.telemetry", ["is_enabled"]),
    ("proxmox_sdk.logger", ["logger"]),
    ("proxmox_sdk.proxmox.config", ["ProxmoxConfig"]),
    ("proxmox_sdk.exception", ["ProxmoxOpenAPIException"]),
    ("proxmox_sdk._version", ["get_version"]),
]


@pytest.mark.parametrize(("module", "names"), MODULES, ids=[m for m, _ in MODULES])
def test_every_module_user_code_imports(module: str, names: list[str]) -> None:
    mod = importlib.import_module(module)
    for name in names:
        assert getattr(mod, name) is not None, f"{module}.{name}"


def test_services_table_has_the_originals_attributes() -> None:
    from proxmox_sdk.sdk.services import SERVICES, ServiceConfig

    pbs = SERVICES["PBS"]
    assert isinstance(pbs, ServiceConfig)
    assert (pbs.default_port, pbs.token_separator, pbs.auth_cookie_name) == (
        8007,
        ":",
        "PBSAuthCookie",
    )
    assert pbs.supported_backends == ("https", "mock") and pbs.cli_name is None
    assert SERVICES["PMG"].supported_auth_methods == ("password",)
    assert (SERVICES["PVE"].cli_name, SERVICES["PVE"].api_path_prefix) == ("pvesh", "/api2/json")
    # Item access reads the same fields.
    assert SERVICES["PDM"]["default_port"] == 8443 and SERVICES["PVE"]["auth_cookie"] == (
        "PVEAuthCookie"
    )
    with pytest.raises(KeyError):
        SERVICES["PVE"]["nope"]


def test_mock_loader_reads_json_and_yaml_and_gives_none_otherwise(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from proxmox_sdk.mock.loader import get_mock_data_path, load_mock_data

    monkeypatch.delenv("PROXMOX_MOCK_DATA_PATH", raising=False)
    assert get_mock_data_path() == "/etc/proxmox-sdk/mock-data.json"
    (tmp_path / "d.yaml").write_text("/api2/json/version:\n  release: '9.9'\n")
    (tmp_path / "d.json").write_text('{"a": [1]}')
    (tmp_path / "list.json").write_text("[1]")
    (tmp_path / "bad.json").write_text("{bad")
    monkeypatch.setenv("PROXMOX_MOCK_DATA_PATH", str(tmp_path / "d.yaml"))
    assert load_mock_data() == {"/api2/json/version": {"release": "9.9"}}
    assert load_mock_data(tmp_path / "d.json") == {"a": [1]}
    for name in ("list.json", "bad.json", "missing.json"):
        assert load_mock_data(tmp_path / name) is None


@pytest.fixture()
def pvesh_target(fake_pvesh: Any) -> Iterator[Any]:
    """The fake ``pvesh`` the test sshd runs, answering from a server of its own."""
    with serve(no_auth=True) as plain:
        fake_pvesh.point_at(plain.url)
        yield plain


def test_ssh_backends_take_the_originals_constructors(
    sshd: Any, pvesh_target: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from proxmox_sdk.sdk.backends.openssh import OpenSshBackend
    from proxmox_sdk.sdk.backends.ssh_paramiko import SshParamikoBackend
    from proxmox_sdk.sdk.services import SERVICES

    # The original's constructors take no known_hosts path: the user's own is used.
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "known_hosts").write_text(sshd.known_hosts.read_text())
    monkeypatch.setenv("HOME", str(home))
    config = tmp_path / "ssh_config"
    config.write_text(
        f"Host 127.0.0.1\n  UserKnownHostsFile {sshd.known_hosts}\n  StrictHostKeyChecking yes\n"
    )

    async def go() -> None:
        russh = SshParamikoBackend(
            host="127.0.0.1",
            user=sshd.user,
            service_config=SERVICES["PVE"],
            private_key_file=str(sshd.key),
            port=sshd.port,
        )
        assert (await russh.request("GET", "/api2/json/version"))["release"]
        await russh.close()
        with pytest.raises(TypeError, match="host_key_policy"):
            SshParamikoBackend(host="h", user="u", host_key_policy=object())
        openssh = OpenSshBackend(
            host="127.0.0.1",
            user=sshd.user,
            identity_file=str(sshd.key),
            config_file=str(config),
            port=sshd.port,
        )
        assert (await openssh.request("GET", "/api2/json/version"))["release"]
        await openssh.close()
        with pytest.raises(ValueError, match="service_config"):
            OpenSshBackend(host="h", user="u", service_config=object())  # type: ignore[arg-type]

    asyncio.run(go())


# ---------------------------------------------------------------- proxbox-api's calls


def test_proxbox_mock_context_and_reset() -> None:
    """proxbox_api.testing.proxmox_mock: ``ProxmoxSDK(host=, backend="mock",
    verify_ssl=)``, seeding a node, ``close()``, and ``reset_mock_state()``'s path."""
    from proxmox_sdk.mock.schema_helpers import schema_fingerprint
    from proxmox_sdk.mock.state import shared_mock_store
    from proxmox_sdk.schema import load_proxmox_generated_openapi

    async def go() -> None:
        sdk = ProxmoxSDK(host="mock", backend="mock", verify_ssl=False)
        await sdk.nodes.post(node="pve01", type="node", status="online")
        assert await sdk.cluster.config.post(name="c-cluster") is None
        await sdk.cluster.storage.post(storage="shared", type="dir", content="images", shared=True)
        upid = await sdk.nodes("pve01").qemu.post(
            vmid=1100, name="vm-1", ostype="l26", net0="virtio=AA:BB:CC:DD:EE:F1,bridge=vmbr0"
        )
        assert upid.startswith("UPID:pve01:")
        assert "pve01" in [n["node"] for n in await sdk.nodes.get()]
        assert [v["vmid"] for v in await sdk.nodes("pve01").qemu.get()] == [1100]
        assert "shared" in [s["storage"] for s in await sdk.storage.get()]
        await sdk.close()

    asyncio.run(go())
    store = shared_mock_store(schema_fingerprint(load_proxmox_generated_openapi()))
    store.reset()
    after = SyncProxmoxSDK(host="mock", backend="mock")
    assert "pve01" not in [n["node"] for n in after.nodes.get()]


def test_proxbox_session_adapter_over_https_with_widened_timeout() -> None:
    """``ProxmoxSDK(host=..., backend="https", **kwargs)`` as proxbox's ProxmoxAPI builds
    it, then ``sdk._backend._timeout = aiohttp.ClientTimeout(total=...)`` widening the
    timeout of later calls (duck-typed: ``.total``, ``.connect``)."""
    ns = "compat-widen"
    with serve(tls=True, namespace=ns) as server:
        local = SyncProxmoxSDK.mock(mock_namespace=ns)
        token = local.access.users("root@pam").token("widen").post(privsep=0)
        local.mock_store.set_latency(0.8)
        host, port = server.url.removeprefix("https://").split(":")

        async def go() -> None:
            sdk = ProxmoxSDK(
                host=host,
                backend="https",
                port=int(port),
                user="root@pam",
                token_name="widen",
                token_value=token["value"],
                fingerprint=server.fingerprint,
                timeout=0.3,
            )
            with pytest.raises(ex.ProxmoxTimeoutError):
                await sdk.version.get()
            sdk._backend._timeout = SimpleNamespace(total=10, connect=None)
            assert sdk._backend._timeout.total == 10
            assert (await sdk.version.get())["release"]
            await sdk.close()

        try:
            asyncio.run(go())
        finally:
            local.mock_store.set_latency(0)


def test_https_status_message_is_pves_reason_phrase() -> None:
    with serve(tls=True) as server:
        host, port = server.url.removeprefix("https://").split(":")
        px = SyncProxmoxSDK(
            host,
            port=int(port),
            user="root@pam",
            password=server.password,
            fingerprint=server.fingerprint,
        )
        with pytest.raises(ex.ResourceException) as info:
            px.nodes("pve1").qemu(999).config.get()
        missing = "Configuration file 'nodes/pve1/qemu-server/999.conf' does not exist"
        assert (info.value.status_code, info.value.status_message) == (500, missing)
        px.close()


@pytest.fixture()
def black_hole() -> Iterator[int]:
    """A TCP port that accepts connections and never answers (a stuck login)."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except OSError:
                continue

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    yield listener.getsockname()[1]
    stop.set()
    t.join()
    for c in held:
        c.close()
    listener.close()


def test_login_failures_are_authentication_errors_too(black_hole: int) -> None:
    """proxbox-api wraps its first call in ``except AuthenticationError``; a login that
    times out or is refused must land there, and in the transport's own class."""
    timed_out = SyncProxmoxSDK(
        "127.0.0.1", port=black_hole, user="root@pam", password="pw", verify_ssl=False, timeout=0.3
    )
    with pytest.raises(ex.AuthenticationError) as info:
        timed_out.version.get()
    assert isinstance(info.value, ex.ProxmoxTimeoutError)
    assert "pw" not in str(info.value)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed_port = s.getsockname()[1]
    refused = SyncProxmoxSDK(
        "127.0.0.1", port=closed_port, user="root@pam", password="pw", verify_ssl=False
    )
    with pytest.raises(ex.AuthenticationError) as info:
        refused.version.get()
    assert isinstance(info.value, ex.ProxmoxConnectionError)


def test_session_argument_is_refused_loudly() -> None:
    with pytest.warns(RuntimeWarning, match="native HTTPS transport owns its connections"):
        ProxmoxSDK("127.0.0.1", user="root@pam", password="x", session=object())


def test_ssh_paramiko_without_credentials_uses_the_default_keys(
    sshd: Any, pvesh_target: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No password, no key file: construction works, and connecting tries ~/.ssh/id_*."""
    home = tmp_path / "home"
    (home / ".ssh").mkdir(parents=True)
    key = Path(sshd.key)
    (home / ".ssh" / "id_ed25519").write_bytes(key.read_bytes())
    (home / ".ssh" / "id_ed25519").chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    px = SyncProxmoxSDK(
        "127.0.0.1",
        backend="ssh_paramiko",
        port=sshd.port,
        user=sshd.user,
        host_key_fingerprint=sshd.host_fingerprint,
    )
    assert px.version.get()["release"]
    px.close()
    # Without any key at home, the failure names what was tried.
    (home / ".ssh" / "id_ed25519").unlink()
    bare = SyncProxmoxSDK(
        "127.0.0.1",
        backend="ssh_paramiko",
        port=sshd.port,
        user=sshd.user,
        host_key_fingerprint=sshd.host_fingerprint,
    )
    with pytest.raises(ex.AuthenticationError):
        bare.version.get()


# ---------------------------------------------------------------- ASGI under uvicorn


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture()
def uvicorn_app(tmp_path: Path) -> Iterator[Any]:
    procs: list[subprocess.Popen[str]] = []

    def start(target: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> str:
        port = _free_port()
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", target, "--port", str(port), "--no-access-log"],
            env={**os.environ, **(env or {})},
            cwd=cwd or tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        procs.append(proc)
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(proc.stdout.read() if proc.stdout else "uvicorn exited")
            try:
                httpx.get(base + "/", timeout=0.5)
                return base
            except httpx.HTTPError:
                time.sleep(0.1)
        raise AssertionError(f"{target} did not come up")

    yield start
    for proc in procs:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
        if proc.stdout:
            proc.stdout.close()


def test_uvicorn_mock_main_app_is_a_stateful_pve(uvicorn_app: Any) -> None:
    base = uvicorn_app(
        "proxmox_sdk.mock_main:app", {"PROXMOX_MOCK_STATE_NAMESPACE": "uvicorn-compat"}
    )
    with httpx.Client(base_url=base) as c:
        assert c.get("/api2/json/version").json()["data"]["release"] == "9.2"
        r = c.post("/api2/json/nodes/pve1/qemu", data={"vmid": "100", "name": "web"})
        assert r.status_code == 200 and r.json()["data"].startswith("UPID:pve1:")
        assert [v["vmid"] for v in c.get("/api2/json/nodes/pve1/qemu").json()["data"]] == [100]
        bad = c.post("/api2/json/nodes/pve1/qemu", data={"vmid": "abc"})
        assert bad.status_code == 400 and "vmid" in bad.json()["errors"]
        assert c.get("/api2/json/nope").status_code == 501


def test_uvicorn_main_app_by_mode(uvicorn_app: Any, tmp_path: Path) -> None:
    base = uvicorn_app("proxmox_sdk.main:app", {"PROXMOX_API_MODE": "mock"})
    assert httpx.get(f"{base}/api2/json/version").json()["data"]["release"] == "9.2"
    pbs = uvicorn_app(
        "proxmox_sdk.main:app", {"PROXMOX_API_MODE": "mock", "PROXMOX_API_SERVICE": "PBS"}
    )
    assert httpx.get(f"{pbs}/api2/json/admin/datastore").status_code == 200
    wrong = subprocess.run(
        [sys.executable, "-c", "import proxmox_sdk.main"],
        env={**os.environ, "PROXMOX_API_MODE": "bogus"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert wrong.returncode != 0 and "PROXMOX_API_MODE=bogus" in wrong.stderr


def test_mounted_inside_fastapi_with_lifespan(uvicorn_app: Any, tmp_path: Path) -> None:
    (tmp_path / "host_app.py").write_text(
        textwrap.dedent(
            """
            from contextlib import asynccontextmanager
            from fastapi import FastAPI
            from proxmox_sdk.mock.app import create_mock_app

            events = []

            @asynccontextmanager
            async def lifespan(app):
                events.append("startup")
                yield
                events.append("shutdown")

            app = FastAPI(lifespan=lifespan)
            app.mount("/pve", create_mock_app(namespace="mounted-compat"))

            @app.get("/")
            async def root():
                return {"events": events}
            """
        )
    )
    base = uvicorn_app("host_app:app")
    assert httpx.get(f"{base}/").json() == {"events": ["startup"]}
    with httpx.Client(base_url=f"{base}/pve") as c:
        assert c.get("/api2/json/version").json()["data"]["release"] == "9.2"
        c.post("/api2/json/pools", data={"poolid": "mounted"})
        assert [p["poolid"] for p in c.get("/api2/json/pools").json()["data"]] == ["mounted"]
    # Outside the mount the host app answers.
    assert httpx.get(f"{base}/api2/json/version").status_code == 404


# ---------------------------------------------------------------- tracing

_TRACE_SCRIPT = """
import asyncio, json, sys
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

from proxmox_sdk import ProxmoxSDK, SyncProxmoxSDK

MODE = sys.argv[1]

async def main():
    if MODE == "kwarg":
        sdk = ProxmoxSDK.mock(otel_enabled=True)
    else:
        sdk = ProxmoxSDK.mock()
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("parent"):
        await sdk.version.get()
        try:
            await sdk.nodes("pve1").qemu(999).config.get()
        except Exception:
            pass
    sync = SyncProxmoxSDK.mock(otel_enabled=True) if MODE == "kwarg" else SyncProxmoxSDK.mock()
    sync.nodes.get()

asyncio.run(main())
out = []
for s in exporter.get_finished_spans():
    out.append({
        "name": s.name,
        "kind": s.kind.name,
        "attrs": dict(s.attributes or {}),
        "status": s.status.status_code.name,
        "description": s.status.description,
        "events": [dict(e.attributes or {}) for e in s.events],
        "parent": s.parent.span_id if s.parent else None,
        "span_id": s.context.span_id,
    })
print(json.dumps(out))
"""


def _run_traced(mode: str, **env: str) -> list[dict[str, Any]]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PROXMOX_OTEL"))}
    done = subprocess.run(
        [sys.executable, "-c", _TRACE_SCRIPT, mode],
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize(
    ("mode", "env"), [("kwarg", {}), ("env", {"PROXMOX_OTEL_ENABLED": "true"})]
)
def test_one_client_span_per_request(mode: str, env: dict[str, str]) -> None:
    spans = _run_traced(mode, **env)
    client = [s for s in spans if s["kind"] == "CLIENT"]
    assert [s["name"] for s in client] == ["proxmox GET"] * 3
    ok, failed, listed = client
    assert ok["attrs"] == {
        "http.request.method": "GET",
        "url.path": "/api2/json/version",
        "proxmox.backend": "mock",
        "proxmox.service": "PVE",
    }
    assert ok["status"] == "UNSET"
    # Errors are recorded by type only (messages can carry what the user sent).
    assert failed["status"] == "ERROR"
    assert failed["description"] == "ResourceException: Proxmox request failed"
    assert failed["events"] and "999.conf" not in json.dumps(failed["events"])
    assert listed["attrs"]["url.path"] == "/api2/json/nodes"
    # The caller's span is the parent.
    parent = next(s for s in spans if s["name"] == "parent")
    assert ok["parent"] == parent["span_id"] == failed["parent"]


def test_tracing_off_means_no_spans_and_no_import() -> None:
    assert [s["name"] for s in _run_traced("env")] == ["parent"]
    # OTEL_SDK_DISABLED silences the OpenTelemetry SDK itself, and ours whatever the
    # kwarg says.
    assert _run_traced("kwarg", OTEL_SDK_DISABLED="true") == []
    from proxmox_sdk import telemetry

    os.environ["OTEL_SDK_DISABLED"] = "true"
    try:
        assert not telemetry.is_enabled(True)
    finally:
        del os.environ["OTEL_SDK_DISABLED"]
    assert telemetry.is_enabled(True) and not telemetry.is_enabled(False)
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from proxmox_sdk import SyncProxmoxSDK; "
            "SyncProxmoxSDK.mock().version.get(); "
            "print([m for m in sys.modules if m.startswith('opentelemetry')])",
        ],
        env={k: v for k, v in os.environ.items() if not k.startswith(("OTEL_", "PROXMOX_OTEL"))},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert probe.stdout.strip() == "[]", probe.stderr


def test_no_credential_in_any_span_attribute(tmp_path: Path) -> None:
    script = _TRACE_SCRIPT.replace(
        "sdk = ProxmoxSDK.mock(otel_enabled=True)",
        "sdk = ProxmoxSDK.mock(otel_enabled=True)\n"
        "        await sdk.access.users.post(userid='t@pve', password='S3cret-pass-9')",
    )
    done = subprocess.run(
        [sys.executable, "-c", script, "kwarg"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    spans = json.loads(done.stdout.strip().splitlines()[-1])
    post = next(s for s in spans if s["name"] == "proxmox POST")
    assert post["attrs"]["url.path"] == "/api2/json/access/users"
    assert "S3cret-pass-9" not in done.stdout


class _OtlpReceiver(BaseHTTPRequestHandler):
    bodies: list[bytes] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        type(self).bodies.append(self.rfile.read(length))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


def test_server_exports_spans_over_otlp_http() -> None:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    _OtlpReceiver.bodies = []
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _OtlpReceiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{receiver.server_address[1]}"
    env = {
        **os.environ,
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_SERVICE_NAME": "compat-mock",
        "PORT": "0",
    }
    env.pop("OTEL_SDK_DISABLED", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxmox_sdk.server", "--no-auth"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        url = first.split(": ", 1)[1].split("/api2/json")[0].strip()
        with httpx.Client(base_url=url) as c:
            assert c.get("/api2/json/nodes/pve1/qemu").status_code == 200
            assert c.get("/api2/json/nodes/pve1/qemu/999/config").status_code == 500
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=20)
        receiver.shutdown()
        receiver.server_close()
    spans = []
    for body in _OtlpReceiver.bodies:
        req = ExportTraceServiceRequest.FromString(body)
        for rs in req.resource_spans:
            resource = {a.key: a.value.string_value for a in rs.resource.attributes}
            for ss in rs.scope_spans:
                for s in ss.spans:
                    attrs = {a.key: a.value.string_value or a.value.int_value for a in s.attributes}
                    spans.append((resource["service.name"], s.name, s.kind, attrs, s.status.code))
    by_name = {s[1]: s for s in spans}
    listed = by_name["GET /api2/json/nodes/{node}/qemu"]
    assert listed[0] == "compat-mock" and listed[2] == 2  # SPAN_KIND_SERVER
    assert listed[3]["url.path"] == "/api2/json/nodes/pve1/qemu"
    assert listed[3]["http.response.status_code"] == 200
    failed = by_name["GET /api2/json/nodes/{node}/qemu/{vmid}/config"]
    assert failed[3]["http.response.status_code"] == 500 and failed[4] == 2  # STATUS_CODE_ERROR
