"""The one gate every destructive Ceph helper passes (``confirm_destroy=True``)."""

from __future__ import annotations

__all__ = ["require_confirm"]


def require_confirm(operation: str, confirm_destroy: bool) -> None:
    """``ValueError`` unless the caller confirmed the destructive ``operation``."""
    if confirm_destroy is not True:
        raise ValueError(f"{operation} is destructive; pass confirm_destroy=True to proceed.")
