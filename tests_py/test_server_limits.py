"""The server under abuse, as PVE's own HTTP server behaves: callers are authenticated from
the headers before any body byte is read, bodies are bounded (64 KiB, PVE's limit) and of
a content type PVE reads, slow or idle connections are closed, connections are bounded,
and refused requests are held back per client."""

from __future__ import annotations

import concurrent.futures
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from proxmox_sdk.server import serve


def _host_port(url: str) -> tuple[str, int]:
    host, port = url.removeprefix("http://").split(":")
    return host, int(port)


def _login(c: httpx.Client, password: str) -> str:
    r = c.post("/api2/json/access/ticket", data={"username": "root@pam", "password": password})
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    c.cookies.set("PVEAuthCookie", data["ticket"])
    c.headers["CSRFPreventionToken"] = data["CSRFPreventionToken"]
    return data["ticket"]


def test_bodies_are_bounded_and_of_a_type_pve_reads() -> None:
    with serve() as server, httpx.Client(base_url=server.url) as c:
        _login(c, server.password)
        big = {"comment": "x" * (70 * 1024)}
        r = c.post("/api2/json/pools", data={"poolid": "big", **big})
        assert (r.status_code, r.reason_phrase) == (501, "for data too large")
        # Under the limit it is served.
        assert c.post("/api2/json/pools", data={"poolid": "small"}).status_code == 200
        r = c.post(
            "/api2/json/pools",
            content=b"poolid=plain",
            headers={"Content-Type": "text/plain"},
        )
        assert r.status_code == 506
        assert r.reason_phrase == "upload 'Content-Type 'text/plain' not implemented"
        r = c.request("GET", "/api2/json/pools", content=b"poolid=x")
        assert (r.status_code, r.reason_phrase) == (501, "Unexpected content for method 'GET'")

        def chunks() -> Iterator[bytes]:
            yield b"poolid=chunked"

        r = c.post(
            "/api2/json/pools",
            content=chunks(),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        )
        assert (r.status_code, r.reason_phrase) == (501, "chunked transfer encoding not supported")
        r = c.request("PATCH", "/api2/json/pools")
        assert (r.status_code, r.reason_phrase) == (501, "method 'PATCH' not available")
        # JSON bodies are read as PVE reads them.
        r = c.post("/api2/json/pools", json={"poolid": "json"})
        assert r.status_code == 200
        assert {p["poolid"] for p in c.get("/api2/json/pools").json()["data"]} == {
            "small",
            "json",
        }
    with serve(max_body=1024) as server, httpx.Client(base_url=server.url) as c:
        _login(c, server.password)
        r = c.post("/api2/json/pools", data={"poolid": "p", "comment": "y" * 2000})
        assert r.status_code == 501


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.fixture()
def server_process() -> Iterator[Any]:
    procs: list[subprocess.Popen[str]] = []

    def start(*args: str, **env: str) -> tuple[subprocess.Popen[str], str]:
        proc = subprocess.Popen(
            [sys.executable, "-m", "proxmox_sdk.server", *args],
            env={**os.environ, "PORT": "0", "PROXMOX_MOCK_PASSWORD": "limits-pass", **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        procs.append(proc)
        first = proc.stdout.readline() if proc.stdout else ""
        assert "http://" in first, first
        return proc, first.split(": ", 1)[1].split("/api2/json")[0].strip()

    yield start
    for proc in procs:
        proc.kill()
        proc.communicate(timeout=20)


def test_unauthenticated_bodies_are_never_buffered(server_process: Any) -> None:
    """300 unauthenticated clients each announcing and sending ~1.9 MB: their 401s come
    from the headers, the bodies are not read (the server grew by 560 MB before)."""
    proc, url = server_process("--auth-fail-delay", "0")
    host, port = _host_port(url)
    with httpx.Client(base_url=url) as c:
        assert c.get("/api2/json/version").status_code == 401
    before = _rss_kib(proc.pid)
    size = 1_900_000
    payload = b"a=" + b"x" * (size - 2)
    head = (
        f"POST /api2/json/nodes/pve1/qemu HTTP/1.1\r\nHost: {host}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {size}\r\n\r\n"
    ).encode()
    socks = []
    try:
        for _ in range(300):
            s = socket.create_connection((host, port))
            s.setblocking(False)
            s.send(head)
            try:
                s.send(payload)  # as much as the kernel takes
            except BlockingIOError:
                pass
            socks.append(s)
        time.sleep(1.0)
        grown_mib = (_rss_kib(proc.pid) - before) / 1024
        assert grown_mib < 50, f"server grew by {grown_mib:.0f} MiB"
        # Each got its 401 without the body being read.
        s = socks[0]
        s.setblocking(True)
        s.settimeout(10)
        assert s.recv(64).startswith(b"HTTP/1.1 401")
    finally:
        for s in socks:
            s.close()


def test_slow_headers_and_idle_connections_are_closed() -> None:
    with serve(no_auth=True, header_timeout=1) as server:
        host, port = _host_port(server.url)
        # Headers that never end.
        slow = socket.create_connection((host, port))
        slow.sendall(b"GET /api2/json/version HTTP/1.1\r\nHost: x\r\n")
        slow.settimeout(10)
        started = time.monotonic()
        while slow.recv(4096):
            pass
        assert time.monotonic() - started < 5
        slow.close()
        # A connection that sends nothing.
        silent = socket.create_connection((host, port))
        silent.settimeout(10)
        started = time.monotonic()
        assert silent.recv(4096) == b""
        assert time.monotonic() - started < 5
        silent.close()
        # An idle keep-alive connection after a complete request.
        idle = socket.create_connection((host, port))
        idle.settimeout(10)
        idle.sendall(b"GET /api2/json/version HTTP/1.1\r\nHost: x\r\n\r\n")
        assert idle.recv(4096).startswith(b"HTTP/1.1 200")
        started = time.monotonic()
        while idle.recv(4096):
            pass
        assert time.monotonic() - started < 5
        idle.close()


def _read_answer(s: socket.socket) -> bytes:
    """Everything `s` receives until the head and the body its Content-Length announces."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = s.recv(4096)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def test_a_request_not_answered_within_the_request_timeout_gets_408() -> None:
    with serve(no_auth=True, admin=True, request_timeout=1) as server:
        host, port = _host_port(server.url)
        with httpx.Client(base_url=server.url) as c:
            r = c.post("/api2/json/nodes/pve1/qemu", data={"vmid": 100, "name": "before"})
            assert r.status_code == 200, r.text
        config = "/api2/json/nodes/pve1/qemu/100/config"
        # A body that never arrives in full: the API waits for it, the deadline does not.
        slow = socket.create_connection((host, port))
        slow.settimeout(10)
        slow.sendall(
            f"PUT {config} HTTP/1.1\r\nHost: x\r\n".encode()
            + b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\n"
            b"name=never"
        )
        started = time.monotonic()
        # Other clients are answered meanwhile.
        with httpx.Client(base_url=server.url) as c:
            assert c.get("/api2/json/version").status_code == 200
            before = c.get(config).json()["data"]["name"]
        answer = _read_answer(slow)
        waited = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 408"), answer[:100]
        assert 0.9 <= waited < 5, waited
        slow.close()
        with httpx.Client(base_url=server.url) as c:
            # The write that timed out changed nothing.
            r = c.get(config)
            assert r.json()["data"]["name"] == before != "never"
            # A body that arrives in time is answered, on the very same deadline.
            r = c.put(config, data={"description": "in time"})
            assert r.status_code == 200, r.text
            # Non-API routes are bounded as well: an admin call with a body that stops.
        admin = socket.create_connection((host, port))
        admin.settimeout(10)
        admin.sendall(
            b"POST /_mock/reset HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 50\r\n\r\n{"
        )
        assert _read_answer(admin).startswith(b"HTTP/1.1 408")
        admin.close()


def test_uploads_take_as_long_as_they_take() -> None:
    with serve(no_auth=True, request_timeout=1) as server:
        host, port = _host_port(server.url)
        boundary = b"b0undary"
        head = (
            b'--b0undary\r\nContent-Disposition: form-data; name="content"\r\n\r\niso\r\n'
            b'--b0undary\r\nContent-Disposition: form-data; name="filename"; '
            b'filename="slow.iso"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        payload = b"x" * 1000
        tail = b"\r\n--b0undary--\r\n"
        body = head + payload + tail
        up = socket.create_connection((host, port))
        up.settimeout(15)
        up.sendall(
            b"POST /api2/json/nodes/pve1/storage/local/upload HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: multipart/form-data; boundary=" + boundary + b"\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + head + payload[:500]
        )
        time.sleep(1.6)
        up.sendall(payload[500:] + tail)
        answer = _read_answer(up)
        assert answer.startswith(b"HTTP/1.1 200"), answer[:300]
        up.close()
        with httpx.Client(base_url=server.url) as c:
            content = c.get("/api2/json/nodes/pve1/storage/local/content").json()["data"]
            assert ("local:iso/slow.iso", 1000) in [(x["volid"], x["size"]) for x in content]


def test_normal_requests_are_answered_while_slowloris_connections_are_open() -> None:
    with serve(no_auth=True, header_timeout=30) as server:
        host, port = _host_port(server.url)
        loris = []
        try:
            for _ in range(200):
                s = socket.create_connection((host, port))
                s.sendall(b"GET /api2/json/version HTTP/1.1\r\nX-Slow: ")
                loris.append(s)
            with httpx.Client(base_url=server.url) as c:
                times = []
                for _ in range(5):
                    t = time.monotonic()
                    assert c.get("/api2/json/version").status_code == 200
                    times.append(time.monotonic() - t)
            assert min(times) < 0.1, times
        finally:
            for s in loris:
                s.close()


def test_connections_beyond_the_limit_wait_for_a_free_place() -> None:
    with serve(no_auth=True, max_connections=3, header_timeout=30) as server:
        host, port = _host_port(server.url)
        held = [socket.create_connection((host, port)) for _ in range(3)]
        time.sleep(0.3)
        with pytest.raises(httpx.TimeoutException):
            httpx.get(f"{server.url}/api2/json/version", timeout=0.5)
        held.pop().close()
        assert httpx.get(f"{server.url}/api2/json/version", timeout=5).status_code == 200
        for s in held:
            s.close()


def test_refusals_are_held_back_per_client_and_others_go_on() -> None:
    with serve(auth_fail_delay=0.5) as server, httpx.Client(base_url=server.url) as good:
        _login(good, server.password)

        def wrong() -> float:
            t = time.monotonic()
            r = httpx.post(
                f"{server.url}/api2/json/access/ticket",
                data={"username": "root@pam", "password": "wrong"},
                timeout=30,
            )
            assert r.status_code == 401
            return time.monotonic() - t

        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            t0 = time.monotonic()
            futures = [pool.submit(wrong) for _ in range(4)]
            time.sleep(0.1)
            # Meanwhile an authenticated client is served at once.
            t = time.monotonic()
            assert good.get("/api2/json/version").status_code == 200
            assert time.monotonic() - t < 0.4
            took = sorted(f.result() for f in futures)
            total = time.monotonic() - t0
        # One client's refusals one after another: 0.5, 1.0, 1.5, 2.0 s.
        assert took[0] >= 0.45 and total >= 1.9, (took, total)
        # A missing ticket is a refusal too.
        t = time.monotonic()
        assert httpx.get(f"{server.url}/api2/json/nodes").status_code == 401
        assert time.monotonic() - t >= 0.45


def test_limits_are_flags_with_pve_defaults() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "proxmox_sdk.server", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout
    for flag, env, default in [
        ("--max-body", "PROXMOX_MOCK_MAX_BODY", "65536"),
        ("--header-timeout", "PROXMOX_MOCK_HEADER_TIMEOUT", "5"),
        ("--request-timeout", "PROXMOX_MOCK_REQUEST_TIMEOUT", "60"),
        ("--max-connections", "PROXMOX_MOCK_MAX_CONNECTIONS", "800"),
        ("--auth-fail-delay", "PROXMOX_MOCK_AUTH_FAIL_DELAY", "3"),
        ("--max-upload", "PROXMOX_MOCK_MAX_UPLOAD", str(64 << 30)),
    ]:
        assert flag in out and env in out and f"[default: {default}]" in out, flag
    bad = subprocess.run(
        [sys.executable, "-m", "proxmox_sdk.server", "--header-timeout", "1e300"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 2 and "86400 seconds" in bad.stderr


def test_admin_endpoints_need_root_or_the_admin_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROXMOX_MOCK_ADMIN_TOKEN", "from-the-env")
    with serve(admin=True) as server, httpx.Client(base_url=server.url) as c:
        assert c.get("/_mock/requests").status_code == 401
        assert c.post("/_mock/reset").status_code == 401
        bearer = {"Authorization": "Bearer from-the-env"}
        assert c.get("/_mock/requests", headers=bearer).status_code == 200
        r = c.post("/_mock/latency", data={"ms": "1e300"}, headers=bearer)
        assert r.status_code == 400 and "ms" in r.json()["errors"]
        _login(c, server.password)
        assert c.get("/_mock/requests").status_code == 200


def test_the_servers_own_contract(server_process: Any) -> None:
    """Every 400 carries `errors` (the server's OpenAPI document says so), unknown methods
    are 501 before authentication, as PVE answers them."""
    with serve() as server, httpx.Client(base_url=server.url) as c:
        r = c.request("PROPFIND", "/api2/json/version")
        assert (r.status_code, r.reason_phrase) == (501, "method 'PROPFIND' not available")
        _login(c, server.password)
        r = c.post("/api2/json/pools", content=b"[1]", headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and r.json()["errors"] == {}, r.text
        r = c.post("/api2/json/pools", data={"poolid": "a b"})
        assert r.status_code == 400 and "poolid" in r.json()["errors"]


def test_real_mode_logs_schema_mismatches_without_being_asked(server_process: Any) -> None:
    """An upstream whose answer does not match the schema: a WARN line on stderr with the
    operation and the first differing pointer, with no --log given."""
    import http.server
    import threading

    class Upstream(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's naming
            body = b'{"data": {"version": 9, "release": "9.2", "repoid": "0123abcd"}}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    up = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=up.serve_forever, daemon=True).start()
    proc = subprocess.Popen(
        [sys.executable, "-m", "proxmox_sdk.server"],
        env={
            **os.environ,
            "PORT": "0",
            "PROXMOX_API_MODE": "real",
            "PROXMOX_API_URL": f"http://127.0.0.1:{up.server_address[1]}",
        },
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = proc.stdout.readline() if proc.stdout else ""
        url = first.split(": ", 1)[1].split("/api2/json")[0].strip()
        r = httpx.get(f"{url}/api2/json/version")
        assert r.status_code == 200 and "x-proxmox-sdk-schema-mismatch" in r.headers
    finally:
        proc.send_signal(15)
        _, err = proc.communicate(timeout=20)
        up.shutdown()
        up.server_close()
    assert "WARN" in err and "GET /version" in err and "field=/version" in err, err
    assert "does not match its schema" in err
