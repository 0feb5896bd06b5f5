"""Runs ``large_calls.py`` under this package (``.venv``, optimized build; ``BIN_DIR`` picks
another) and under the original ``proxmox-sdk==0.0.15`` with its dict store (``.bench-venv``,
given the very answers ours gave), then prints them side by side with ``json.loads`` of the
same payload and the peak memory of one call (each in a fresh process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
OURS = Path(os.environ.get("BIN_DIR", ROOT / ".venv" / "bin")) / "python"
ORIGINAL = ROOT / ".bench-venv" / "bin" / "python"


def run(python: Path, *args: str, env: dict[str, str]) -> dict:
    out = subprocess.run(
        [str(python), str(HERE / "large_calls.py"), *args],
        capture_output=True,
        text=True,
        cwd="/tmp",
        check=True,
        env={**os.environ, **env},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    payloads = str(Path(tempfile.mkdtemp()) / "payloads.json")
    env = {"BENCH_PAYLOADS": payloads, "PROXMOX_MOCK_STORE": "dict"}
    ours = run(OURS, env=env)
    theirs = run(ORIGINAL, env=env)
    n = ours["guests"]
    print(f"\nIn-process answers with {n:,} guests (sync mock, median of 7)")
    print(
        "| answer | items | payload | this | 0.0.15 (dict store) | ratio | json.loads | this / json.loads |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, label in (("list", "GET /nodes/pve1/qemu"), ("resources", "GET /cluster/resources")):
        a, b, j = ours[f"{name}_ms"], theirs[f"{name}_ms"], ours[f"{name}_json_loads_ms"]
        print(
            f"| {label} | {ours[f'{name}_items']:,} | {ours[f'{name}_payload_kib'] / 1024:.1f} MiB "
            f"| {a:.1f} ms | {b:.1f} ms | {b / a:.1f}x | {j:.1f} ms | {a / j:.2f} |"
        )
    print(
        f"\nPeak memory of one call with {n:,} guests (MiB over the RSS before it; a fresh "
        "process each, the store built first)"
    )
    print("| answer | this | json.loads of the same payload | this over json.loads |")
    print("|---|---|---|---|")
    for name in ("list", "resources"):
        a = run(OURS, "peak", name, env=env)["peak_mib"]
        j = run(OURS, "peak", f"{name}-json", env=env)["peak_mib"]
        print(f"| {name} | {a:.1f} | {j:.1f} | {a - j:+.1f} |")
    print(
        f"\nstore: {ours['rss_with_store_mib']:.0f} MiB RSS with {n:,} guests; "
        f"create {ours['create_per_guest_us']:.0f} µs per guest"
    )


if __name__ == "__main__":
    sys.exit(main())
