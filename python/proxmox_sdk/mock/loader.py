"""The mock's initial data file (``PROXMOX_MOCK_DATA_PATH``), as the original's loader.

The file maps API paths to answers (JSON or YAML); the native store reads it when a
mock starts. ``load_mock_data`` returns ``None`` when the file is missing, unreadable or
not a mapping, as the original did.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from proxmox_sdk import _native

DEFAULT_MOCK_DATA_PATH = "/etc/proxmox-sdk/mock-data.json"
ENV_VAR_NAME = "PROXMOX_MOCK_DATA_PATH"


def get_mock_data_path() -> str | None:
    """The data file named by ``PROXMOX_MOCK_DATA_PATH``, or the default path."""
    return os.environ.get(ENV_VAR_NAME, DEFAULT_MOCK_DATA_PATH)


def load_mock_data(file_path: str | Path | None = None) -> dict[str, Any] | None:
    """The data file's mapping (``.json``, ``.yaml``/``.yml``), or ``None``."""
    path = file_path or get_mock_data_path()
    if not path or Path(path).suffix.lower() not in (".json", ".yaml", ".yml"):
        return None
    try:
        data = json.loads(_native.read_structured_file(str(path)))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


__all__ = ["DEFAULT_MOCK_DATA_PATH", "ENV_VAR_NAME", "get_mock_data_path", "load_mock_data"]
