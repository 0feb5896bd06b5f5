"""Python-side figures (run by `make bench` against the optimized (profiling) build in .venv)."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time


def import_ms() -> float:
    code = (
        "import time; t = time.perf_counter(); import proxmox_sdk; print(time.perf_counter() - t)"
    )
    runs = [
        float(
            subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True
            ).stdout
        )
        for _ in range(15)
    ]
    return statistics.median(runs) * 1e3


def per_call_us(fn, n: int) -> float:
    rounds = []
    for _ in range(5):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - t) / n)
    return statistics.median(rounds) * 1e6


def main() -> None:
    from proxmox_sdk import schema

    schema.validate("GET", "/version")  # load the model once
    params = {"vmid": 101, "name": "web-1", "cores": 2, "memory": "2048", "onboot": True}
    t = time.perf_counter()
    schema.load_proxmox_generated_openapi("9.2")
    openapi_ms = (time.perf_counter() - t) * 1e3
    print("| figure | measured | target |")
    print("|---|---|---|")
    print(f"| `import proxmox_sdk` | {import_ms():.1f} ms | < 50 ms |")
    validate_us = per_call_us(lambda: schema.validate("POST", "/nodes/pve1/qemu", params), 5000)
    print(f"| `schema.validate` (5 params, from Python) | {validate_us:.1f} µs | |")
    print(f"| `load_proxmox_generated_openapi('9.2')` first call | {openapi_ms:.0f} ms | |")


if __name__ == "__main__":
    main()
