"""The native module's allocator options (mimalloc's, set by index at import): each index
names the option meant, which mimalloc itself confirms by reading ``MIMALLOC_<NAME>``
from the environment; without those variables the module's own values apply."""

from __future__ import annotations

import json
import os
import subprocess
import sys

PROBE = (
    "import json; from proxmox_sdk import _native; print(json.dumps(_native._allocator_options()))"
)


def _options(**env: str) -> dict[str, int]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("MIMALLOC_")}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return dict(json.loads(out.stdout))


def test_defaults_apply_without_the_environment() -> None:
    assert _options() == {"arena_eager_commit": 0, "purge_delay": 1}


def test_each_index_is_the_option_mimalloc_reads_by_name() -> None:
    # Values nobody would choose, read by mimalloc from its own variables: a wrong index
    # would show the module's value (or another option's) instead.
    got = _options(MIMALLOC_ARENA_EAGER_COMMIT="2", MIMALLOC_PURGE_DELAY="37")
    assert got == {"arena_eager_commit": 2, "purge_delay": 37}
