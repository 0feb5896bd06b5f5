"""Runs ``sdk_calls.py`` under this package (``.venv``, optimized build) and under the
original ``proxmox-sdk==0.0.15`` (``.bench-venv``), then prints both side by side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
ROWS = [
    ("sync_get_version_us", "sync GET /version (µs/call)"),
    ("async_get_version_us", "async GET /version (µs/call)"),
    ("sync_list_50_us", "sync GET /nodes/pve1/qemu, 50 VMs (µs/call)"),
    ("async_list_50_us", "async GET /nodes/pve1/qemu, 50 VMs (µs/call)"),
    ("sync_put_config_us", "sync PUT .../qemu/100/config (µs/call)"),
    ("async_put_config_us", "async PUT .../qemu/100/config (µs/call)"),
    ("gather_10000_get_version_ms", "asyncio.gather of 10,000 GET /version (ms)"),
    ("load_ms", "import + first mock call (ms)"),
    ("rss_after_load_mib", "RSS after loading the schema (MiB)"),
    ("vms_listed", "VMs returned by the list call"),
]


def run(python: Path, env: dict[str, str] | None = None) -> dict:
    out = subprocess.run(
        [str(python), str(HERE / "sdk_calls.py")],
        capture_output=True,
        text=True,
        cwd="/tmp",
        check=True,
        env={**os.environ, **(env or {})},
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ours = run(ROOT / ".venv" / "bin" / "python")
    # The original's fastest store (its default is SQLite).
    theirs = run(ROOT / ".bench-venv" / "bin" / "python", {"PROXMOX_MOCK_STORE": "dict"})
    print("| measure | proxmox-sdk (this) | proxmox-sdk 0.0.15 | ratio |")
    print("|---|---|---|---|")
    for key, label in ROWS:
        a, b = ours.get(key), theirs.get(key)
        ratio = (
            f"{b / a:.1f}x"
            if isinstance(a, float | int) and isinstance(b, float | int) and a
            else ""
        )
        fa = f"{a:.2f}" if isinstance(a, float) else str(a)
        fb = f"{b:.2f}" if isinstance(b, float) else str(b)
        print(f"| {label} | {fa} | {fb} | {ratio} |")


if __name__ == "__main__":
    sys.exit(main())
