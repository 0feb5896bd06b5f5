"""The ``proxmox-sdk-codegen`` console script, run as a real subprocess."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def codegen() -> list[str]:
    exe = shutil.which("proxmox-sdk-codegen", path=str(Path(sys.executable).parent))
    assert exe, "console script proxmox-sdk-codegen is not installed"
    return [exe]


@pytest.mark.parametrize("version", ["9.2", "9.1.11"])
def test_regenerates_committed_files(tmp_path: Path, version: str) -> None:
    src = ROOT / "generated" / "inputs" / "proxmox" / version / "apidoc.js"
    out = subprocess.run(
        [*codegen(), "--input", str(src), "--version-tag", version, "--output-dir", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith(f"{version}: ")
    for name in ("apidoc.json", "openapi.json"):
        written = (tmp_path / version / name).read_bytes()
        committed = (ROOT / "generated" / "proxmox" / version / name).read_bytes()
        assert written == committed, name
    index = json.loads((tmp_path / "versions.json").read_text())
    assert index == {"latest": version, "versions": [version]}


def test_module_entry_and_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.js"
    bad.write_text("const apiSchema = [{]")
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "proxmox_sdk.codegen",
            "--input",
            str(bad),
            "--version-tag",
            "1.0",
            "--output-dir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 1
    assert f"{bad}: invalid apidoc at byte 20: key must be a string" in out.stderr
    usage = subprocess.run([*codegen(), "--version-tag", "9.2"], capture_output=True, text=True)
    assert usage.returncode == 2
    assert "--input" in usage.stderr


def test_python_api_returns_exit_code(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from proxmox_sdk.codegen import main

    assert main(["--input", str(tmp_path / "missing.js"), "--version-tag", "9.2"]) == 1
