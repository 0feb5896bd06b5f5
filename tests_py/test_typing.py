"""The package's types help: the typed example passes ``mypy --strict`` and pyright (and
runs), and the file of typos fails both, on exactly the lines marked ``# error``."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).parent / "typing"
ROOT = Path(__file__).parent.parent
BIN = Path(sys.executable).parent


def _marked_lines(path: Path) -> set[int]:
    lines = path.read_text().splitlines()
    return {i for i, line in enumerate(lines, 1) if "# error" in line}


def _run(args: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_typed_example_runs() -> None:
    done = _run([sys.executable, str(HERE / "typed_example.py")])
    assert done.returncode == 0, done.stderr


def test_mypy_strict_accepts_the_example_and_refuses_each_typo() -> None:
    ok = _run([str(BIN / "mypy"), "--strict", str(HERE / "typed_example.py")])
    assert ok.returncode == 0, ok.stdout
    bad = _run([str(BIN / "mypy"), "--strict", str(HERE / "typos.py")])
    assert bad.returncode == 1, bad.stdout
    found = {int(m) for m in re.findall(r"typos\.py:(\d+): error", bad.stdout)}
    assert found == _marked_lines(HERE / "typos.py"), bad.stdout


def test_pyright_accepts_the_example_and_refuses_each_typo() -> None:
    pyright = BIN / "pyright"
    if not pyright.exists():
        pytest.fail("pyright is missing from the test venv (requirements-dev.txt)")
    args = [str(pyright), "--pythonpath", sys.executable]
    ok = _run([*args, str(HERE / "typed_example.py")])
    assert ok.returncode == 0, ok.stdout
    bad = _run([*args, str(HERE / "typos.py")])
    assert bad.returncode == 1, bad.stdout
    found = {int(m) for m in re.findall(r"typos\.py:(\d+):\d+ - error", bad.stdout)}
    assert found == _marked_lines(HERE / "typos.py"), bad.stdout
