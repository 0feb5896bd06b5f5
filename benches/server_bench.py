"""Load test of the mock server with wrk (64 connections), side by side with the original
``proxmox-sdk-mock`` (uvicorn) from ``.bench-venv`` and, for ``/version``, a minimal axum
server (``benches/src/bin/axum-ceiling.rs``, the ceiling): requests/s, p99 latency, time
from start to healthy, and RSS after the load. Run by ``make bench``."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DURATION = os.environ.get("BENCH_WRK_DURATION", "5s")
PATHS = ["/api2/json/version", "/api2/json/nodes/pve1/qemu", "/api2/json/cluster/resources"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def start(cmd: list[str], env: dict[str, str], port: int) -> tuple[subprocess.Popen, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = t0 + 60
    while time.perf_counter() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if r.status == 200:
                    return proc, (time.perf_counter() - t0) * 1e3
        except OSError:
            time.sleep(0.002)
    proc.kill()
    raise RuntimeError(f"{cmd[0]} did not become healthy")


def seed(port: int) -> int:
    for vmid in range(100, 150):
        data = f"vmid={vmid}&name=vm{vmid}&cores=1&memory=1024".encode()
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api2/json/nodes/pve1/qemu", data=data, method="POST"
        )
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            urllib.request.urlopen(req, timeout=5).read()
        except OSError:
            pass
    with urllib.request.urlopen(
        f"http://127.0.0.1:{port}/api2/json/nodes/pve1/qemu", timeout=5
    ) as r:
        body = json.loads(r.read())
        # The original answers some lists without PVE's {"data": ...} envelope.
        return len(body["data"] if isinstance(body, dict) else body)


def wrk(url: str) -> tuple[float, str]:
    out = subprocess.run(
        ["wrk", "-t2", "-c64", f"-d{DURATION}", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p99 = re.search(r"99%\s+(\S+)", out).group(1)
    return rps, p99


def measure(name: str, cmd: list[str], env: dict[str, str]) -> dict:
    port = free_port()
    env = {**env, "PORT": str(port), "HOST": "127.0.0.1"}
    proc, startup_ms = start(cmd, env, port)
    try:
        result = {"name": name, "startup_ms": startup_ms, "vms": seed(port)}
        for path in PATHS:
            result[path] = wrk(f"http://127.0.0.1:{port}{path}")
        result["rss_mib"] = rss_mib(proc.pid)
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=30)


MIXED_LUA = """
counter = 0
request = function()
  counter = counter + 1
  local k = counter % 3
  local form = {["Content-Type"] = "application/x-www-form-urlencoded"}
  if k == 0 then
    local id = tostring(math.random(1, 2000000000)) .. "x" .. tostring(counter)
    return wrk.format("POST", "/api2/json/pools", form, "poolid=p" .. id)
  elseif k == 1 then
    return wrk.format("PUT", "/api2/json/pools/keep", form, "comment=c" .. tostring(counter))
  end
  return wrk.format("GET", "/api2/json/nodes/pve1/qemu")
end
"""


def mixed_load(state_file: Path | None) -> float:
    """requests/s of a POST/PUT/GET mix (one third each) on our server, with or without
    a state file (where every write is on disk before its answer)."""
    port = free_port()
    cmd = [str(ROOT / ".venv" / "bin" / "proxmox-sdk-mock"), "--no-auth", "--namespace"]
    cmd.append(f"bench-mixed-{'durable' if state_file else 'memory'}")
    if state_file:
        cmd += ["--state-file", str(state_file)]
    proc, _ = start(cmd, {"PORT": str(port), "HOST": "127.0.0.1"}, port)
    try:
        seed(port)
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/api2/json/pools", data=b"poolid=keep", method="POST"
        )
        urllib.request.urlopen(req, timeout=5).read()
        script = ROOT / "target" / "bench-mixed.lua"
        script.parent.mkdir(exist_ok=True)
        script.write_text(MIXED_LUA)
        out = subprocess.run(
            ["wrk", "-t2", "-c64", f"-d{DURATION}", "-s", str(script), f"http://127.0.0.1:{port}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        return float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def slowloris_latency(n: int = 200) -> tuple[float, float]:
    """Median and p99 (ms) of GET /version while `n` connections trickle headers."""
    port = free_port()
    cmd = [str(ROOT / ".venv" / "bin" / "proxmox-sdk-mock"), "--no-auth", "--namespace", "loris"]
    proc, _ = start(cmd, {"PORT": str(port), "HOST": "127.0.0.1"}, port)
    loris = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port))
            s.sendall(b"GET /api2/json/version HTTP/1.1\r\nX-Slow: ")
            loris.append(s)
        times = []
        for _ in range(300):
            t = time.perf_counter()
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api2/json/version") as r:
                r.read()
            times.append((time.perf_counter() - t) * 1e3)
        times.sort()
        return times[len(times) // 2], times[int(len(times) * 0.99)]
    finally:
        for s in loris:
            s.close()
        proc.terminate()
        proc.wait(timeout=30)


def main() -> None:
    memory = mixed_load(None)
    state = ROOT / "target" / "bench-state.json"
    state.unlink(missing_ok=True)
    durable = mixed_load(state)
    p50, p99 = slowloris_latency()
    ours = measure(
        "proxmox-sdk (this)",
        [str(ROOT / ".venv" / "bin" / "proxmox-sdk-mock"), "--no-auth", "--namespace", "bench"],
        {},
    )
    # The ceiling: a minimal axum server answering the same /version body (src/bin).
    ceiling_bin = ROOT / "target" / "profiling" / "axum-ceiling"
    ceiling = ceiling_pve = None
    if ceiling_bin.exists():
        port = free_port()
        proc, _ = start([str(ceiling_bin)], {"PORT": str(port), "HOST": "127.0.0.1"}, port)
        try:
            ceiling = wrk(f"http://127.0.0.1:{port}{PATHS[0]}")
            # The same answer with PVE's headers (as ours sends them).
            ceiling_pve = wrk(f"http://127.0.0.1:{port}/pve{PATHS[0]}")
        finally:
            proc.terminate()
            proc.wait(timeout=30)
    theirs = measure(
        "proxmox-sdk 0.0.15 (uvicorn)",
        [str(ROOT / ".bench-venv" / "bin" / "proxmox-sdk-mock")],
        {"PROXMOX_MOCK_STORE": "dict"},
    )
    print(f"wrk -t2 -c64 -d{DURATION}")
    print("| measure | proxmox-sdk (this) | proxmox-sdk 0.0.15 | ratio |")
    print("|---|---|---|---|")
    for path in PATHS:
        (a, pa), (b, pb) = ours[path], theirs[path]
        print(f"| GET {path}: requests/s | {a:.0f} | {b:.0f} | {a / b:.1f}x |")
        print(f"| GET {path}: p99 latency | {pa} | {pb} | |")
    if ceiling is not None:
        a = ours[PATHS[0]][0]
        print(
            f"| GET {PATHS[0]}: a minimal axum server (the ceiling) | {ceiling[0]:.0f} "
            f"(p99 {ceiling[1]}) | | ours {a / ceiling[0]:.2f} of it |"
        )
    if ceiling_pve is not None:
        a = ours[PATHS[0]][0]
        print(
            f"| GET {PATHS[0]}: the ceiling with PVE's headers | {ceiling_pve[0]:.0f} "
            f"(p99 {ceiling_pve[1]}) | | ours {a / ceiling_pve[0]:.2f} of it |"
        )
    print(
        f"| start to healthy (ms) | {ours['startup_ms']:.0f} | {theirs['startup_ms']:.0f} | {theirs['startup_ms'] / ours['startup_ms']:.1f}x |"
    )
    print(f"| RSS after the load (MiB) | {ours['rss_mib']:.1f} | {theirs['rss_mib']:.1f} | |")
    print(f"| VMs in the list | {ours['vms']} | {theirs['vms']} | |")
    print()
    print("Durable state file (POST/PUT/GET mix, wrk -c64; every write on disk before its answer):")
    print("| measure | requests/s |")
    print("|---|---|")
    print(f"| in memory | {memory:.0f} |")
    print(f"| with --state-file | {durable:.0f} ({durable / memory:.0%} of in memory) |")
    print()
    print(
        f"GET /version while 200 slowloris connections are open: median {p50:.2f} ms, p99 {p99:.2f} ms"
    )


if __name__ == "__main__":
    sys.exit(main())
