"""API token helpers."""

from __future__ import annotations


def parse_token_id(token_id: str) -> tuple[str, str]:
    """``"user@realm!name"`` -> ``("user@realm", "name")``; without ``!`` -> ``(token_id, "")``."""
    user, sep, name = token_id.partition("!")
    return (user, name) if sep else (token_id, "")
