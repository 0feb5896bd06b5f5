"""Load test of the mock server with wrk (64 connections), side by side with the original
``proxmox-sdk-mock`` (uvicorn) from ``.bench-venv``: requests/s, p99 latency, time from
start to healthy, and RSS after the load. Run by ``make bench``."""

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


def main() -> None:
    ours = measure(
        "proxmox-sdk (this)",
        [str(ROOT / ".venv" / "bin" / "proxmox-sdk-mock"), "--no-auth", "--namespace", "bench"],
        {},
    )
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
    print(
        f"| start to healthy (ms) | {ours['startup_ms']:.0f} | {theirs['startup_ms']:.0f} | {theirs['startup_ms'] / ours['startup_ms']:.1f}x |"
    )
    print(f"| RSS after the load (MiB) | {ours['rss_mib']:.1f} | {theirs['rss_mib']:.1f} | |")
    print(f"| VMs in the list | {ours['vms']} | {theirs['vms']} | |")


if __name__ == "__main__":
    sys.exit(main())
