"""The mock server driven by real clients over 127.0.0.1: httpx, proxmoxer (TLS, password
and API token), and the command line as a subprocess."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import socket
import subprocess
import sys

import httpx
import pytest
from differential import sigint_default
from proxmox_sdk import SyncProxmoxSDK
from proxmox_sdk.server import serve, serve_async


def login(client: httpx.Client, url: str, password: str) -> tuple[str, str]:
    r = client.post(
        f"{url}/api2/json/access/ticket", data={"username": "root@pam", "password": password}
    )
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    return data["ticket"], data["CSRFPreventionToken"]


def test_envelope_errors_and_auth_with_httpx() -> None:
    with serve(password="s3cret-pw") as server, httpx.Client() as c:
        assert server.url.startswith("http://127.0.0.1:")
        r = c.get(f"{server.url}/api2/json/version")
        assert (r.status_code, r.reason_phrase) == (401, "No ticket")
        assert r.json() == {"data": None, "message": "No ticket\n"}
        bad = c.post(
            f"{server.url}/api2/json/access/ticket",
            data={"username": "root@pam", "password": "nope"},
        )
        assert (bad.status_code, bad.reason_phrase) == (401, "authentication failure")
        ticket, csrf = login(c, server.url, "s3cret-pw")
        c.cookies.set("PVEAuthCookie", ticket)
        assert c.get(f"{server.url}/api2/json/version").json()["data"]["release"] == "9.2"
        r = c.post(f"{server.url}/api2/json/nodes/pve1/qemu", data={"vmid": "100"})
        assert (r.status_code, r.reason_phrase) == (401, "Permission denied - invalid csrf token")
        r = c.post(
            f"{server.url}/api2/json/nodes/pve1/qemu",
            data={"vmid": "1"},
            headers={"CSRFPreventionToken": csrf},
        )
        assert (r.status_code, r.reason_phrase) == (400, "Parameter verification failed.")
        assert r.json()["errors"] == {
            "vmid": "invalid format - value does not look like a valid VM ID\n"
        }
        r = c.get(f"{server.url}/api2/json/nodes/pve1/qemu/100/status/current")
        assert (
            r.reason_phrase == "Configuration file 'nodes/pve1/qemu-server/100.conf' does not exist"
        )
        assert r.headers["server"] == "pve-api-daemon/3.0"
        assert c.get(f"{server.url}/health").json()["status"] == "ok"
        assert c.get(f"{server.url}/mode").json()["mode"] == "mock"
        from openapi_spec_validator import validate as validate_openapi

        served = c.get(f"{server.url}/openapi.json").json()
        validate_openapi(served)
        assert "/health" in served["paths"] and "/nodes/{node}/qemu" in served["paths"]
    assert not server.running


# proxmoxer's own client with verify_ssl=False: urllib3 warns, as it should.
@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_proxmoxer_over_tls_with_password_and_token() -> None:
    from proxmoxer import ProxmoxAPI

    with serve(tls=True) as server:
        assert server.fingerprint and len(server.fingerprint) == 95
        host, port = server.url.removeprefix("https://").split(":")
        px = ProxmoxAPI(
            host, port=int(port), user="root@pam", password=server.password, verify_ssl=False
        )
        assert px.nodes.get()[0]["node"] == "pve1"
        upid = px.nodes("pve1").qemu.post(vmid=100, name="web", cores=2, memory=2048)
        assert upid.startswith("UPID:pve1:")
        assert px.nodes("pve1").qemu(100).config.get()["name"] == "web"
        px.nodes("pve1").qemu(100).config.put(cores=4, delete="memory")
        config = px.nodes("pve1").qemu(100).config.get()
        assert config["cores"] == 4 and "memory" not in config
        token = px.access.users("root@pam").token("automation").post(privsep=0, comment="tests")
        assert token["full-tokenid"] == "root@pam!automation"

        tpx = ProxmoxAPI(
            host,
            port=int(port),
            user="root@pam",
            token_name="automation",
            token_value=token["value"],
            verify_ssl=False,
        )
        assert [v["vmid"] for v in tpx.nodes("pve1").qemu.get()] == [100]
        tpx.nodes("pve1").qemu(100).delete()
        assert tpx.nodes("pve1").qemu.get() == []
        from proxmoxer.core import ResourceException as ProxmoxerError

        with pytest.raises(ProxmoxerError) as info:
            tpx.nodes("pve1").qemu(100).config.get()
        assert "Configuration file 'nodes/pve1/qemu-server/100.conf' does not exist" in str(
            info.value
        )
        wrong = ProxmoxAPI(
            host,
            port=int(port),
            user="root@pam",
            token_name="automation",
            token_value="x" * 36,
            verify_ssl=False,
        )
        with pytest.raises(ProxmoxerError, match="401"):
            wrong.nodes.get()


def test_async_context_manager_and_no_auth() -> None:
    async def main() -> None:
        async with serve_async(no_auth=True) as server:
            async with httpx.AsyncClient() as c:
                r = await c.get(
                    f"{server.url}/api2/json/cluster/resources", params={"type": "node"}
                )
                assert r.json()["data"][0]["id"] == "node/pve1"

    asyncio.run(main())


def test_command_line_serves_until_sigterm_and_keeps_state(tmp_path) -> None:
    state = tmp_path / "state.json"
    env = {**os.environ, "PROXMOX_MOCK_PASSWORD": "cli-pass", "PORT": "0"}
    cmd = [
        sys.executable,
        "-m",
        "proxmox_sdk.server",
        "--state-file",
        str(state),
        "--namespace",
        "cli-test",
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        first = proc.stdout.readline()
        assert first.startswith("proxmox-sdk mock server: http://127.0.0.1:"), first
        url = first.split(": ", 1)[1].split("/api2/json")[0]
        assert "cli-pass" not in proc.stdout.readline(), "a configured password is not printed"
        with httpx.Client() as c:
            ticket, csrf = login(c, url, "cli-pass")
            c.cookies.set("PVEAuthCookie", ticket)
            r = c.post(
                f"{url}/api2/json/pools",
                data={"poolid": "survivor"},
                headers={"CSRFPreventionToken": csrf},
            )
            assert r.status_code == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=20)  # closes the pipes
    saved = json.loads(state.read_text())
    assert "survivor" in saved["members"]["pools"]


def test_command_line_errors() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "proxmox_sdk.server"],
        capture_output=True,
        text=True,
        env={**os.environ, "PROXMOX_API_MODE": "real"},
        timeout=30,
    )
    assert out.returncode == 2
    assert "real mode needs PROXMOX_API_URL" in out.stderr
    help_text = subprocess.run(
        [sys.executable, "-m", "proxmox_sdk.server", "--help"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert help_text.returncode == 0 and "--state-file" in help_text.stdout


def test_generated_password_is_printed() -> None:
    env = {k: v for k, v in os.environ.items() if k != "PROXMOX_MOCK_PASSWORD"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxmox_sdk.server", "--port", "0", "--tls"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines = [proc.stdout.readline() for _ in range(3)]
        assert lines[0].startswith("proxmox-sdk mock server: https://127.0.0.1:")
        assert lines[1].startswith("TLS certificate SHA-256 fingerprint: ")
        assert lines[2].startswith("login: root@pam / ") and "(generated" in lines[2]
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)  # waits, and closes the pipe
        assert proc.returncode == 0


@pytest.mark.slow
@pytest.mark.timeout(900)
def test_schemathesis_finds_no_server_error_and_no_schema_violation(tmp_path) -> None:
    """schemathesis generates requests for every operation of /openapi.json (a bounded
    number each) against a lenient no-auth server: no 5xx, every answer matches its
    schema."""
    import shutil

    st = shutil.which("schemathesis", path=os.path.dirname(sys.executable))
    assert st, "schemathesis is installed by requirements-dev.txt"
    with serve(no_auth=True, lenient=True) as server:
        out = subprocess.run(
            [
                st,
                "run",
                f"{server.url}/openapi.json",
                "--max-examples",
                "2",
                "--phases",
                "examples,fuzzing",
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--generation-deterministic",
                "--mode",
                "positive",
                "--workers",
                "2",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,  # schemathesis keeps a cache in its working directory
        )
    tail = out.stdout[-3000:]
    assert out.returncode == 0, tail
    # Every PVE operation of 9.2 (675) plus the server's own endpoints was tested.
    selected = re.search(r"Tested: (\d+)", out.stdout)
    assert selected and int(selected.group(1)) >= 675, tail


def _real_mode_proxy(env_extra: dict[str, str]) -> tuple[subprocess.Popen, str, str]:
    env = {**os.environ, "PROXMOX_API_MODE": "real", "PORT": "0", **env_extra}
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxmox_sdk.server"], stdout=subprocess.PIPE, text=True, env=env
    )
    first = proc.stdout.readline()
    assert first.startswith("proxmox-sdk validating proxy: http://127.0.0.1:"), first
    url = first.split(": ", 1)[1].split("/api2/json")[0]
    return proc, url, proc.stdout.readline()


def _stop_proxy(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=20)  # waits, and closes the pipe
    assert proc.returncode == 0


@pytest.mark.slow
def test_schemathesis_on_a_strict_server_finds_only_pve_refusals(tmp_path) -> None:
    """The same run on a strict (not lenient) server: every answer matches its schema, and
    a 5xx is only ever one of PVE's refusals in PVE's envelope (tests_py/schemathesis_hooks.py)."""
    import shutil

    st = shutil.which("schemathesis", path=os.path.dirname(sys.executable))
    assert st
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "schemathesis_hooks",
        "PYTHONPATH": os.path.dirname(__file__),
    }
    with serve(no_auth=True) as server:
        out = subprocess.run(
            [
                st,
                "run",
                f"{server.url}/openapi.json",
                "--max-examples",
                "2",
                "--phases",
                "examples,fuzzing",
                "--checks",
                "pve_refusals_only,response_schema_conformance",
                # PVE answers /cluster/nextid as text although its schema says integer;
                # the strict mock does as PVE does (tests/mock_refusals.rs covers it).
                "--exclude-path",
                "/cluster/nextid",
                "--generation-deterministic",
                "--mode",
                "positive",
                "--workers",
                "2",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            cwd=tmp_path,
            env=env,
        )
    tail = out.stdout[-3000:]
    assert out.returncode == 0, tail
    selected = re.search(r"Tested: (\d+)", out.stdout)
    assert selected and int(selected.group(1)) >= 675, tail


def test_real_mode_passes_each_clients_credentials_through(tmp_path) -> None:
    """Default real mode: the proxy has no credentials of its own; a client without a
    ticket gets PVE's 401, a client that logs in through the proxy acts as itself."""
    with serve(tls=True, password="up-pass") as upstream, httpx.Client(verify=False) as c:
        cfg = tmp_path / "pve.yaml"
        cfg.write_text(f"PROXMOX_API_URL: {upstream.url}\nPROXMOX_API_VERIFY_SSL: false\n")
        proc, url, mode = _real_mode_proxy({"PROXMOX_CONFIG_FILE": str(cfg)})
        try:
            assert "passes through" in mode
            with httpx.Client(base_url=url) as p:
                assert p.get("/health").json()["mode"] == "real"
                assert p.get("/mode").json()["credentials"] == "pass-through"
                anonymous = p.get("/api2/json/nodes")
                assert (anonymous.status_code, anonymous.reason_phrase) == (401, "No ticket")
                # Still validated locally first.
                assert p.post("/api2/json/nodes/pve1/qemu", data={"vmid": "7"}).status_code == 400
                ticket, csrf = login(p, url, "up-pass")
                p.cookies.set("PVEAuthCookie", ticket)
                ok = p.post(
                    "/api2/json/nodes/pve1/qemu",
                    data={"vmid": "100", "name": "proxied"},
                    headers={"CSRFPreventionToken": csrf},
                )
                assert ok.status_code == 200, ok.text
                no_csrf = p.post("/api2/json/pools", data={"poolid": "x"})
                assert no_csrf.status_code == 401
            ticket, _ = login(c, upstream.url, "up-pass")
            c.cookies.set("PVEAuthCookie", ticket)
            got = c.get(f"{upstream.url}/api2/json/nodes/pve1/qemu/100/config").json()["data"]
            assert got["name"] == "proxied"
        finally:
            _stop_proxy(proc)


def test_real_mode_with_its_own_credentials_needs_the_proxy_token(tmp_path) -> None:
    """``PROXMOX_API_PROXY_CREDENTIALS=own`` with the upstream in ``PROXMOX_CONFIG_FILE``
    (YAML): the proxy's token goes upstream, and only clients with the proxy token get in."""
    with serve(tls=True, password="up-pass") as upstream, httpx.Client(verify=False) as c:
        ticket, csrf = login(c, upstream.url, "up-pass")
        c.cookies.set("PVEAuthCookie", ticket)
        token = c.post(
            f"{upstream.url}/api2/json/access/users/root@pam/token/proxy",
            data={"privsep": "0"},
            headers={"CSRFPreventionToken": csrf},
        ).json()["data"]["value"]
        cfg = tmp_path / "pve.yaml"
        cfg.write_text(
            f"PROXMOX_API_URL: {upstream.url}\n"
            "PROXMOX_API_TOKEN_ID: root@pam!proxy\n"
            f"PROXMOX_API_TOKEN_SECRET: {token}\n"
            "PROXMOX_API_VERIFY_SSL: false\n"
            "PROXMOX_API_PROXY_CREDENTIALS: own\n"
        )
        missing = subprocess.run(
            [sys.executable, "-m", "proxmox_sdk.server"],
            env={**os.environ, "PROXMOX_API_MODE": "real", "PROXMOX_CONFIG_FILE": str(cfg)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert missing.returncode != 0 and "PROXMOX_API_PROXY_TOKEN" in missing.stderr
        proc, url, mode = _real_mode_proxy(
            {"PROXMOX_CONFIG_FILE": str(cfg), "PROXMOX_API_PROXY_TOKEN": "the-proxy-token"}
        )
        try:
            assert "proxy token" in mode
            with httpx.Client(base_url=url) as p:
                assert p.get("/mode").json()["credentials"] == "own"
                r = p.get("/api2/json/version")
                assert (r.status_code, r.reason_phrase) == (401, "proxy token required")
                wrong = p.get("/api2/json/version", headers={"Authorization": "Bearer nope"})
                assert wrong.status_code == 401
                p.headers["Authorization"] = "Bearer the-proxy-token"
                bad = p.post("/api2/json/nodes/pve1/qemu", data={"vmid": "7"})
                assert bad.status_code == 400
                ok = p.post("/api2/json/nodes/pve1/qemu", data={"vmid": "100", "name": "proxied"})
                assert ok.status_code == 200, ok.text
            # The SDK presents it as a token secret.
            sdk = SyncProxmoxSDK(
                url, user="client@pve", token_name="any", token_value="the-proxy-token"
            )
            assert sdk.nodes("pve1").qemu(100).config.get()["name"] == "proxied"
        finally:
            _stop_proxy(proc)


def test_real_mode_in_front_of_fakepve(tmp_path) -> None:
    """fakepve (an independent PVE emulator) as the upstream: logins and tickets pass
    through, answers come back as fakepve gives them."""
    import shutil

    fakepve = shutil.which("fakepve", path=os.path.dirname(sys.executable))
    assert fakepve, "fakepve is installed by requirements-dev.txt"
    guests = tmp_path / "guests.json"
    guests.write_text(json.dumps({"guests": [{"vmid": 100, "name": "web1", "status": "stopped"}]}))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    fake = subprocess.Popen(
        [fakepve, str(guests), "--host", "127.0.0.1", "--port", str(port), "--time-scale", "0"],
        env={**os.environ, "PVE_PASS": "fake-pass"},
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_default,
    )
    try:
        assert "listening on https://127.0.0.1" in fake.stdout.readline()
        proc, url, _ = _real_mode_proxy(
            {
                "PROXMOX_API_URL": f"https://127.0.0.1:{port}",
                "PROXMOX_API_VERIFY_SSL": "false",
            }
        )
        try:
            with httpx.Client(base_url=url) as p:
                assert p.get("/api2/json/nodes").status_code == 401
                ticket, _ = login(p, url, "fake-pass")
                p.cookies.set("PVEAuthCookie", ticket)
                nodes = p.get("/api2/json/nodes")
                assert nodes.status_code == 200, nodes.text
                node = nodes.json()["data"][0]["node"]
                vms = p.get(f"/api2/json/nodes/{node}/qemu").json()["data"]
                assert [v["vmid"] for v in vms] == [100]
        finally:
            _stop_proxy(proc)
    finally:
        fake.send_signal(signal.SIGINT)
        fake.communicate(timeout=20)


def test_request_logs_never_show_secrets() -> None:
    env = {**os.environ, "PROXMOX_MOCK_PASSWORD": "log-pass", "PORT": "0"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxmox_sdk.server", "--log"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = proc.stdout.readline().split(": ", 1)[1].split("/api2/json")[0]
        with httpx.Client() as c:
            ticket, _ = login(c, url, "log-pass")
            c.get(f"{url}/api2/json/version", params={"password": "query-secret"})
            c.cookies.set("PVEAuthCookie", ticket)
            c.get(f"{url}/api2/json/version")
    finally:
        proc.send_signal(signal.SIGTERM)
        _, logs = proc.communicate(timeout=20)
    assert "path=/api2/json/version" in logs and "status=401" in logs, logs
    for secret in ("log-pass", "query-secret", ticket):
        assert secret not in logs
