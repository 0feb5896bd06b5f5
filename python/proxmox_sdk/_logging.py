"""Keeps the native log bridge in step with Python's ``logging`` configuration.

Records from the Rust core go to loggers under ``proxmox_sdk`` (``proxmox_sdk.http``,
``proxmox_sdk.ssh``, ``proxmox_sdk.local``, ``proxmox_sdk.mock``). Nothing is configured
here: the package only adds the ``NullHandler`` the logging HOWTO asks libraries to add,
and watches for level changes so that a disabled logger costs the native code nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

_ROOT = "proxmox_sdk"
_installed = False


def _most_verbose_level() -> int | None:
    """The lowest effective level among ``proxmox_sdk`` loggers (``None``: all disabled)."""
    manager = logging.root.manager
    levels = [logging.getLogger(_ROOT).getEffectiveLevel()]
    for name, logger in list(manager.loggerDict.items()):
        if name.startswith(_ROOT + ".") and isinstance(logger, logging.Logger):
            if not logger.disabled:
                levels.append(logger.getEffectiveLevel())
    level = max(min(levels), manager.disable + 1)
    return None if level > logging.CRITICAL else level


def install(notify: Callable[[int | None], None]) -> None:
    """Hook ``logging``'s cache clearing (called on every level change) so that ``notify``
    hears the most verbose level in use; idempotent. Called by the native module."""
    global _installed
    if _installed:
        return
    _installed = True
    logging.getLogger(_ROOT).addHandler(logging.NullHandler())
    manager = logging.root.manager
    original = manager._clear_cache  # type: ignore[attr-defined]

    def _clear_cache(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        notify(_most_verbose_level())

    manager._clear_cache = _clear_cache  # type: ignore[attr-defined]
    notify(_most_verbose_level())
