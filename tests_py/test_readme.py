"""The README's SDK examples run as pasted into a file (each in a fresh interpreter, over
the in-process mock)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).parent.parent / "README.md"


def _sdk_blocks() -> list[str]:
    text = README.read_text(encoding="utf-8")
    section = text.split("### SDK", 1)[1].split("\n### ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, flags=re.S)


def test_every_sdk_example_runs_as_a_script(tmp_path: Path) -> None:
    blocks = _sdk_blocks()
    assert len(blocks) >= 2
    for n, code in enumerate(blocks):
        script = tmp_path / f"example_{n}.py"
        script.write_text(code, encoding="utf-8")
        done = subprocess.run(
            [sys.executable, str(script)], capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, (code, done.stderr)
