"""The ``proxmox`` CLI as a subprocess: against the mock backend and against the mock
server over TLS; output formats, exit codes, validation, ``--wait``, profiles, batch
files and completion."""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from proxmox_sdk.sdk.api import isolated_namespace
from proxmox_sdk.server import start

BIN = Path(sys.executable).parent


def cli(
    *args: str, env: dict[str, str] | None = None, prog: str = "proxmox", stdin: str = ""
) -> Any:
    return subprocess.run(
        [str(BIN / prog), *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def server() -> Any:
    srv = start(tls=True, namespace=isolated_namespace("cli"))
    yield srv
    srv.stop()


def remote(server: Any) -> list[str]:
    return [
        "-H",
        server.url.removeprefix("https://"),
        "-U",
        "root@pam",
        "--password",
        server.password,
        "--fingerprint",
        server.fingerprint,
    ]


def test_help_usage_errors_and_every_console_script() -> None:
    for prog in ("proxmox", "proxmox-cli", "pbx"):
        r = cli("--help", prog=prog)
        assert r.returncode == 0 and "pvesh-like" in r.stdout
    r = cli("frobnicate")
    assert r.returncode == 2 and "unrecognized subcommand" in r.stderr
    r = cli("get", "/version", "stray")
    assert r.returncode == 2 and "give parameters as -name value" in r.stderr
    r = cli("get", "/version", "-o", "xml")
    assert r.returncode == 2 and "expected json, json-pretty, yaml, table, text" in r.stderr


def test_mock_backend_outputs_and_validation() -> None:
    r = cli("get", "/version", "-o", "json")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["release"] == "9.2"
    # Piped output defaults to JSON; yaml and text on request.
    assert json.loads(cli("get", "/nodes").stdout)[0]["node"] == "pve1"
    assert "release: '9.2'" in cli("get", "/version", "--output=yaml").stdout
    assert "release: 9.2" in cli("get", "/version", "-o", "text").stdout
    table = cli("get", "/nodes", "-o", "table").stdout.splitlines()
    assert table[0].split()[:2] == ["id", "node"] and table[1].startswith("--")
    r = cli("create", "/nodes/pve1/qemu", "-vmid", "abc", "--cores", "x")
    assert r.returncode == 2
    assert "vmid: type check ('integer') failed - got 'abc'" in r.stderr
    assert "(allowed: <integer> (100 - 999999999))" in r.stderr
    assert "cores:" in r.stderr
    r = cli("get", "/nodes/pve1/nonsense")
    assert r.returncode == 2 and "not implemented" in r.stderr
    r = cli("ls", "/nodes/pve1", "-o", "text")
    lines = r.stdout.splitlines()
    assert "Dr-c- qemu" in lines and "-r--- version" in lines and "-rw-- config" in lines


def test_usage_and_help() -> None:
    r = cli("usage", "/nodes/{node}/qemu", "--command", "POST", "--verbose")
    assert r.returncode == 0
    assert r.stdout.startswith("USAGE: pvesh create /nodes/{node}/qemu -vmid <integer>")
    assert "  -ostype <string>" in r.stdout and "allowed: other, wxp" in r.stdout
    r = cli("usage", "/nodes/pve1/qemu/100/status/current", "--returns")
    assert "RETURNS:" in r.stdout and '"status"' in r.stdout
    r = cli("usage", "/nodes/pve1/qemu", "--command", "PUT")
    assert r.returncode == 2 and "has no PUT method" in r.stderr
    r = cli("help", "vzdump")
    assert "POST   /nodes/{node}/vzdump" in r.stdout


def test_remote_vm_life_with_wait(server: Any) -> None:
    r = cli(*remote(server), "create", "/nodes/pve1/qemu", "-vmid", "100", "name=web", "--wait")
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["exitstatus"] == "OK"
    assert "TASK OK" in r.stderr
    r = cli("set", "/nodes/pve1/qemu/100/config", "--cores", "4", *remote(server))
    assert r.returncode == 0, r.stderr
    cfg = json.loads(cli(*remote(server), "get", "/nodes/pve1/qemu/100/config").stdout)
    assert (cfg["name"], cfg["cores"]) == ("web", 4)
    assert (
        cli(*remote(server), "create", "/nodes/pve1/qemu/100/status/start", "--wait").returncode
        == 0
    )
    # Starting it again: the task fails, and the exit code says so.
    r = cli(*remote(server), "create", "/nodes/pve1/qemu/100/status/start", "--wait")
    assert r.returncode == 1 and "task failed: VM 100 already running" in r.stderr
    # `wait` on a UPID directly.
    upid = json.loads(cli(*remote(server), "create", "/nodes/pve1/qemu/100/status/stop").stdout)
    r = cli(*remote(server), "wait", upid)
    assert r.returncode == 0 and json.loads(r.stdout)["upid"] == upid
    r = cli(*remote(server), "delete", "/nodes/pve1/qemu/100", "--wait")
    assert r.returncode == 0, r.stderr
    r = cli(*remote(server), "get", "/nodes/pve1/qemu/100/config")
    assert r.returncode == 1
    assert r.stderr.strip() == (
        "500 Configuration file 'nodes/pve1/qemu-server/100.conf' does not exist"
    )
    for out in (r.stdout, r.stderr):
        assert server.password not in out
    r = cli(
        "-H",
        server.url.removeprefix("https://"),
        "-U",
        "root@pam",
        "--password",
        "bad",
        "--insecure",
        "get",
        "/version",
    )
    assert r.returncode == 1 and "401" in r.stderr and "bad" not in r.stderr


def test_password_prompt_reads_stdin_when_not_a_terminal(server: Any) -> None:
    args = [
        "-H",
        server.url.removeprefix("https://"),
        "-U",
        "root@pam",
        "-P",
        "--fingerprint",
        server.fingerprint,
    ]
    r = cli(*args, "get", "/version", stdin=server.password + "\n")
    assert r.returncode == 0, r.stderr


def test_profiles(server: Any, tmp_path: Path) -> None:
    env = {"PROXMOX_CLI_CONFIG": str(tmp_path / "cli.json"), "HOME": str(tmp_path)}
    r = cli("config", "add", "lab", *remote(server), env=env)
    assert r.returncode == 0, r.stderr
    f = tmp_path / "cli.json"
    assert stat.S_IMODE(f.stat().st_mode) == 0o600
    listed = json.loads(cli("config", "list", env=env).stdout)
    assert listed == [
        {
            "name": "lab",
            "default": True,
            "backend": "https",
            "host": server.url.removeprefix("https://"),
        }
    ]
    shown = cli("config", "show", "lab", env=env).stdout
    assert server.password not in shown and "********" in shown
    # The default profile is used when no connection options are given.
    r = cli("get", "/version", env=env)
    assert r.returncode == 0 and json.loads(r.stdout)["release"] == "9.2"
    r = cli("--profile", "nope", "get", "/version", env=env)
    assert r.returncode == 2 and "no profile 'nope'; known: lab" in r.stderr
    # A second profile becomes the default on request.
    assert cli("config", "add", "offline", "backend=mock", env=env).returncode == 0
    assert cli("config", "set-default", "nope", env=env).returncode == 2
    assert cli("config", "set-default", "offline", env=env).returncode == 0
    listed = {p["name"]: p["default"] for p in json.loads(cli("config", "list", env=env).stdout)}
    assert listed == {"lab": False, "offline": True}
    assert json.loads(cli("config", "show", env=env).stdout) == {"backend": "mock"}
    assert cli("config", "remove", "lab", env=env).returncode == 0
    assert cli("config", "remove", "offline", env=env).returncode == 0
    assert json.loads(cli("config", "list", env=env).stdout) == []
    # The original's file is read when ours does not exist.
    legacy = tmp_path / ".proxmox-cli" / "config.json"
    legacy.parent.mkdir()
    legacy.write_text(
        json.dumps({"default_profile": "old", "profiles": {"old": {"backend": "mock"}}})
    )
    env2 = {"PROXMOX_CLI_CONFIG": str(tmp_path / "new" / "cli.json"), "HOME": str(tmp_path)}
    assert json.loads(cli("config", "list", env=env2).stdout)[0]["name"] == "old"


def test_batch(tmp_path: Path) -> None:
    ops = [
        {"method": "create", "path": "/nodes/pve1/qemu", "params": {"vmid": 100, "name": "a"}},
        {"method": "get", "path": "/nodes/pve1/qemu/100/config"},
        {"method": "get", "path": "/nodes/pve1/qemu/999/config"},
    ]
    f = tmp_path / "ops.json"
    f.write_text(json.dumps(ops))
    r = cli("batch", str(f))
    assert r.returncode == 1
    out = json.loads(r.stdout)
    assert [o["ok"] for o in out] == [True, True, False]
    assert out[1]["data"]["name"] == "a"
    assert "999.conf' does not exist" in out[2]["error"]


def test_completion() -> None:
    for shell in ("bash", "zsh", "fish"):
        r = cli("completion", shell)
        assert r.returncode == 0 and "__complete" in r.stdout
    assert cli("completion", "tcsh").returncode == 2
    assert cli("__complete", "get", "/nodes/pve1/qe").stdout.split() == ["/nodes/pve1/qemu"]
    assert "-memory" in cli("__complete", "create", "/nodes/pve1/qemu", "-mem").stdout.split()
    # The bash script works in bash.
    script = cli("completion", "bash").stdout
    r = subprocess.run(
        [
            "bash",
            "-c",
            f'{script}\nexport PATH="{BIN}:$PATH"\nCOMP_WORDS=(proxmox get /nodes/pve1/st); '
            "COMP_CWORD=2; _proxmox_complete; printf '%s\\n' \"${COMPREPLY[@]}\"",
        ],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert "/nodes/pve1/status" in r.stdout.split() and "/nodes/pve1/storage" in r.stdout.split()


def test_completion_offers_live_members_formats_and_global_options(tmp_path: Path) -> None:
    env = {"XDG_CACHE_HOME": str(tmp_path / "cache")}
    seed = tmp_path / "seed.json"
    seed.write_text(json.dumps({"/nodes/pve1/qemu/314/config": {"name": "pi"}}))
    env["PROXMOX_MOCK_DATA_PATH"] = str(seed)
    # Node names and vmids come from the backend the line would use (here the mock).
    assert cli("__complete", "get", "/nodes/", env=env).stdout.split() == ["/nodes/pve1"]
    vmids = cli("__complete", "get", "/nodes/pve1/qemu/3", env=env).stdout.split()
    assert vmids == ["/nodes/pve1/qemu/314"]
    # Cached for a minute: a changed seed is not asked for again at once.
    seed.write_text(json.dumps({"/nodes/pve1/qemu/315/config": {"name": "pi"}}))
    again = cli("__complete", "get", "/nodes/pve1/qemu/", env=env).stdout.split()
    assert again == ["/nodes/pve1/qemu/314"]
    assert any((tmp_path / "cache" / "proxmox-sdk" / "completion").iterdir())
    # -o values and the global options.
    assert cli("__complete", "get", "/version", "-o", "js").stdout.split() == [
        "json",
        "json-pretty",
    ]
    opts = cli("__complete", "get", "/version", "--no").stdout.split()
    assert opts == ["--noborder", "--noheader"]
    assert "--output-format" in cli("__complete", "get", "/version", "--out").stdout.split()


def test_pvesh_and_original_cli_conventions(tmp_path: Path) -> None:
    from proxmox_sdk import __version__

    r = cli("--version")
    assert (r.returncode, r.stdout.strip()) == (0, f"proxmox {__version__}")
    assert cli("--version", prog="pbx").stdout.strip() == f"pbx {__version__}"
    # pvesh's --output-format, json on one line and json-pretty indented.
    r = cli("get", "/version", "--output-format", "json")
    assert r.returncode == 0 and r.stdout.count("\n") == 1 and json.loads(r.stdout)["release"]
    r = cli("get", "/version", "--output-format", "json-pretty")
    assert r.stdout.startswith("{\n  ") and json.loads(r.stdout)["release"]
    assert json.loads(cli("get", "/version", "--json").stdout)["release"] == "9.2"
    assert "release: '9.2'" in cli("get", "/version", "--yaml").stdout
    table = cli("get", "/nodes", "-o", "table", "--noborder").stdout.splitlines()
    assert table[0].split()[:2] == ["id", "node"] and table[1].startswith("node/pve1")
    table = cli("get", "/nodes", "-o", "table", "--noheader").stdout.splitlines()
    assert len(table) == 1 and table[0].startswith("node/pve1")
    # -v: each request and its timing on stderr, never a value (a password here).
    r = cli("-v", "create", "/access/users", "--userid", "v@pve", "--password", "Sekr1t-pass")
    assert r.returncode == 0, r.stderr
    assert "POST /api2/json/access/users -> 200 OK in " in r.stderr and "(mock)" in r.stderr
    assert "Sekr1t" not in r.stderr and "Sekr1t" not in r.stdout
    # -q: no task log on stderr with --wait.
    state = ("--state-file", str(tmp_path / "state.json"))
    assert cli(*state, "create", "/nodes/pve1/qemu", "-vmid", "100").returncode == 0
    args = (*state, "create", "/nodes/pve1/qemu/100/status/start", "--wait")
    loud = cli(*args)
    args = (*state, "create", "/nodes/pve1/qemu/100/status/stop", "--wait")
    quiet = cli("-q", *args)
    assert quiet.returncode == 0 and json.loads(quiet.stdout)["exitstatus"] == "OK"
    assert quiet.stderr == "" and loud.stderr != ""
    # An unknown option is a usage error with a suggestion, not the schema's 400.
    r = cli("create", "/nodes/pve1/qemu", "--vmid", "101", "--memroy", "2048")
    assert r.returncode == 2
    assert r.stderr.startswith("unknown option '--memroy' (did you mean '--memory'?)")
    assert "400" not in r.stderr
    r = cli("get", "/version", "--outptu", "json")
    assert r.returncode == 2 and "did you mean '--output'?" in r.stderr
    # A flag without a value: only booleans may (they mean 1, as in pvesh).
    r = cli("create", "/nodes/pve1/qemu", "--vmid", "102", "--name")
    assert r.returncode == 2 and r.stderr.startswith("--name: expected a value"), r.stderr
    r = cli("create", "/nodes/pve1/qemu", "--vmid", "102", "--onboot")
    assert r.returncode == 0, r.stderr
    r = cli("get", "/version", "-o")
    assert r.returncode == 2 and "--output: expected a value" in r.stderr
    r = cli("get", "/version", "--host", "--insecure")
    assert r.returncode == 2 and "--host: expected a value" in r.stderr


def test_no_host_mock_carries_state_across_commands(tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    r = cli("--state-file", str(state), "create", "/nodes/pve1/qemu", "-vmid", "120", "-name", "a")
    assert r.returncode == 0, r.stderr
    assert state.exists() and stat.S_IMODE(state.stat().st_mode) == 0o600
    names = json.loads(cli("--state-file", str(state), "get", "/nodes/pve1/qemu").stdout)
    assert [g["name"] for g in names if g["vmid"] == 120] == ["a"]
    # The environment too (as the server's PROXMOX_MOCK_STATE_FILE).
    env = {"PROXMOX_MOCK_STATE_FILE": str(state)}
    assert cli("set", "/nodes/pve1/qemu/120/config", "-name", "b", env=env).returncode == 0
    config = json.loads(cli("get", "/nodes/pve1/qemu/120/config", env=env).stdout)
    assert config["name"] == "b"
    # Without it each command starts afresh; with a host it is refused.
    assert cli("get", "/nodes/pve1/qemu/120/config").returncode == 1
    host = ("-H", "127.0.0.1:1", "-U", "root@pam", "--password", "x")
    r = cli("--state-file", str(state), *host, "get", "/version")
    assert r.returncode == 2 and "only the in-memory mock" in r.stderr


def test_server_version_flags() -> None:
    from proxmox_sdk import __version__

    r = cli("--version", prog="proxmox-sdk-mock")
    assert (r.returncode, r.stdout.strip()) == (0, f"proxmox-sdk-mock {__version__}")
    r = subprocess.run(
        [sys.executable, "-m", "proxmox_sdk.server", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 0 and r.stdout.strip().endswith(__version__), r.stderr
    help_text = cli("--help", prog="proxmox-sdk-mock").stdout
    assert "--schema-version <SCHEMA_VERSION>" in help_text
    # The old spelling still selects the schema, with a note.
    for flags in (["--version", "9.1.11"], ["--version=9.1.11"], ["--schema-version", "9.1.11"]):
        with serving(*flags) as (url, proc):
            assert fetch(url + "/api2/json/version")[1]["data"]["release"] == "9.1"
        assert ("now --schema-version" in proc.stderr_text) == (flags[0] != "--schema-version")


class _Served(subprocess.Popen[str]):
    stderr_text = ""


@contextlib.contextmanager
def serving(*flags: str) -> Any:
    """``proxmox-sdk-mock --no-auth FLAGS`` on a free port until the block ends (SIGINT)."""
    import signal
    import socket
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = _Served(
        [str(BIN / "proxmox-sdk-mock"), "--port", str(port), "--no-auth", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                fetch(url + "/health")
                break
            except OSError:
                time.sleep(0.05)
        yield url, proc
    finally:
        proc.send_signal(signal.SIGINT)
        _, proc.stderr_text = proc.communicate(timeout=20)


def fetch(url: str, headers: dict[str, str] | None = None) -> tuple[Any, Any]:
    import urllib.request

    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {})) as r:
        body = r.read()
        kind = r.headers.get("Content-Type", "")
        if r.headers.get("Content-Encoding") == "gzip":
            return r.headers, gzip.decompress(body)
        return r.headers, (json.loads(body) if "json" in kind else body.decode())


def test_metrics_labels_and_openapi_prepared_and_compressed() -> None:
    with serving() as (url, _):
        fetch(url + "/api2/json/version")
        fetch(url + "/api2/json/nodes/pve1/qemu")
        try:
            fetch(url + "/api2/json/nodes/pve1/qemu/100/config")
        except OSError:
            pass  # a 500: no such VM
        _, text = fetch(url + "/metrics")
        assert 'proxmox_mock_requests_total{method="GET",route="/version",status="200"} 1' in text
        assert 'route="/nodes/{node}/qemu/{vmid}/config",status="500"} 1' in text
        assert 'le="60"' in text and 'le="0.0001"' in text
        # Prepared at start, served gzipped to clients that take it, plain to the rest.
        headers, packed = fetch(url + "/openapi.json", {"Accept-Encoding": "gzip, br"})
        assert headers["Content-Encoding"] == "gzip" and headers["Vary"] == "accept-encoding"
        doc = json.loads(packed)
        assert doc["openapi"].startswith("3.1") and len(packed) > 10 * int(
            headers["Content-Length"]
        )
        headers, plain = fetch(url + "/openapi.json", {"Accept-Encoding": "identity"})
        assert "Content-Encoding" not in headers and plain == doc


def test_mock_subcommand_serves_until_interrupted() -> None:
    import signal
    import socket
    import time
    import urllib.request

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen(
        [str(BIN / "proxmox"), "mock", "--port", str(port), "--no-auth"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api2/json/version") as r:
                    body = json.loads(r.read())
                break
            except OSError:
                time.sleep(0.05)
        assert body is not None and body["data"]["release"] == "9.2"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)  # waits, and closes the pipes
        assert proc.returncode == 0


def test_tui_in_a_real_terminal(server: Any) -> None:
    """The TUI in tmux against the mock server: browse, start a guest, see its task end."""
    import shutil
    import time

    tmux = shutil.which("tmux")
    if tmux is None:
        pytest.fail("tmux not found (`make system-deps` installs it)")
    from proxmox_sdk import ProxmoxSDK

    px = ProxmoxSDK.sync(
        host=server.url.removeprefix("https://"),
        user="root@pam",
        password=server.password,
        fingerprint=server.fingerprint,
    )
    px.nodes("pve1").qemu.post(vmid=100, name="tui-guest")
    session = f"pbx-tui-{os.getpid()}"
    cmd = " ".join([str(BIN / "proxmox"), *remote(server), "tui"])
    subprocess.run(
        [tmux, "new-session", "-d", "-s", session, "-x", "120", "-y", "30", cmd], check=True
    )

    def screen() -> str:
        return subprocess.run(
            [tmux, "capture-pane", "-p", "-t", session], capture_output=True, text=True
        ).stdout

    def wait_for(text: str) -> str:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            s = screen()
            if text in s:
                return s
            time.sleep(0.1)
        raise AssertionError(f"{text!r} never appeared:\n{screen()}")

    try:
        wait_for("pve1")
        subprocess.run([tmux, "send-keys", "-t", session, "Tab"], check=True)
        wait_for("tui-guest")
        subprocess.run([tmux, "send-keys", "-t", session, "s"], check=True)
        wait_for("finished: OK")
        assert "running" in wait_for("running")
        assert px.nodes("pve1").qemu(100).status.current.get()["status"] == "running"
        subprocess.run([tmux, "send-keys", "-t", session, "q"], check=True)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            alive = subprocess.run([tmux, "has-session", "-t", session], capture_output=True)
            if alive.returncode != 0:
                break
            time.sleep(0.1)
        else:
            raise AssertionError("the TUI did not quit on 'q'")
    finally:
        subprocess.run([tmux, "kill-session", "-t", session], capture_output=True)


def test_ctrl_c_interrupts_a_call_in_flight() -> None:
    """The native call runs without the GIL; Ctrl-C must still end it (not after the
    request's own timeout)."""
    import signal
    import socket
    import time

    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(5)
        port = silent.getsockname()[1]
        proc = subprocess.Popen(
            [
                str(BIN / "proxmox"),
                "-H",
                f"127.0.0.1:{port}",
                "-U",
                "root@pam",
                "--password",
                "x",
                "get",
                "/version",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)  # waits, and closes the pipes
        # Killed by the signal, not ended by the 5 s timeout (exit 1 with a timeout error).
        assert proc.returncode == -signal.SIGINT


class _Recorder:
    """A TLS listener on 127.0.0.1 that records every request (method, path, headers,
    body) and answers as PVE would: a ticket for any login, the version otherwise."""

    def __init__(self, tmp: Path) -> None:
        import http.server
        import ssl
        import threading

        cert, key = tmp / "rec.crt", tmp / "rec.key"
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
             "-subj", "/CN=localhost", "-keyout", str(key), "-out", str(cert)],
            check=True,
            capture_output=True,
        )  # fmt: skip
        self.requests: list[tuple[str, str, dict[str, str], str]] = []
        seen = self.requests

        class Handler(http.server.BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                seen.append((self.command, self.path, dict(self.headers), body))
                if self.path.startswith("/api2/json/access/ticket"):
                    data = {"ticket": "PVE:bob@pve:6B0E0000::sig", "CSRFPreventionToken": "c:s",
                            "username": "bob@pve"}  # fmt: skip
                else:
                    data = {"version": "9.2.0", "release": "9.2", "repoid": "abc"}
                out = json.dumps({"data": data}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

            do_GET = do_POST = do_PUT = do_DELETE = _answer  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        self.httpd.socket = ctx.wrap_socket(self.httpd.socket, server_side=True)
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def everything_sent(self) -> str:
        return json.dumps(self.requests)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def test_a_profiles_secrets_never_go_to_another_host(tmp_path: Path) -> None:
    rec = _Recorder(tmp_path)
    secret = "PROD-TOKEN-SECRET-5b1c9a"
    env = {"PROXMOX_CLI_CONFIG": str(tmp_path / "cli.json"), "HOME": str(tmp_path)}
    try:
        added = cli(
            "config", "add", "prod", "-H", "10.255.255.1:8006", "-U", "root@pam",
            "--token-name", "ci", "--token-value", secret, env=env,
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        # Explicit -H without --profile: only the options given, none of prod's secrets.
        r = cli(
            "-H", rec.host, "-U", "bob@pve", "-P", "bob-pw", "--insecure", "get", "/version",
            env=env,
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout)["release"] == "9.2"
        logins = [q for q in rec.requests if q[1].startswith("/api2/json/access/ticket")]
        assert logins and "username=bob%40pve" in logins[0][3]
        assert all("Authorization" not in q[2] for q in rec.requests)
        # The named profile with another host: a usage error, nothing sent.
        before = len(rec.requests)
        r = cli("--profile", "prod", "-H", rec.host, "--insecure", "get", "/version", env=env)
        assert r.returncode == 2 and "is for host '10.255.255.1:8006'" in r.stderr, r.stderr
        # Options without a host while a default profile exists: a usage error.
        r = cli("-U", "bob@pve", "-P", "bob-pw", "get", "/version", env=env)
        assert r.returncode == 2 and "--profile prod" in r.stderr, r.stderr
        # The environment is an explicit option too: PROXMOX_CLI_HOST does not pull in
        # prod's token.
        r = cli(
            "get", "/version",
            env={**env, "PROXMOX_CLI_HOST": rec.host, "PROXMOX_CLI_USER": "bob@pve",
                 "PROXMOX_CLI_PASSWORD": "bob-pw", "PROXMOX_CLI_INSECURE": "1"},
        )  # fmt: skip
        assert r.returncode == 0, r.stderr
        assert len(rec.requests) > before
        assert secret not in rec.everything_sent()
    finally:
        rec.close()


def test_wait_on_a_task_that_does_not_exist_fails_at_once() -> None:
    never = "UPID:pve1:00ABCDEF:00ABCDEF:69279F80:qmstart:100:root@pam:"
    r = cli("wait", never, "--timeout", "30")
    assert r.returncode == 1 and "upid: no such task" in r.stderr, r.stderr
    r = cli("wait", "UPID:bogus")
    assert r.returncode == 2 and "UPID" in r.stderr
