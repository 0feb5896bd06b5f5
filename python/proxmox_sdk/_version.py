"""Package version helpers (``get_version()`` as in the original package)."""

from __future__ import annotations

from functools import cache
from importlib.metadata import PackageNotFoundError, version


@cache
def get_version() -> str:
    """The installed distribution's version, ``"0+unknown"`` when it is not installed."""
    try:
        return version("proxmox-sdk")
    except PackageNotFoundError:
        return "0+unknown"


__all__ = ["get_version"]
