"""The Proxmox products the SDK speaks to: default port, the backends each supports and
their wire details (one table, kept in the native core and shared with the CLI)."""

from __future__ import annotations

from typing import Any

from proxmox_sdk import _native

SERVICES: dict[str, dict[str, Any]] = _native.services()


def service_config(service: str) -> tuple[str, dict[str, Any]]:
    """``(NAME, config)`` for a service name in any case; ``ValueError`` naming the known ones."""
    name = str(service).upper()
    if name not in SERVICES:
        known = ", ".join(SERVICES)
        raise ValueError(f"service: unknown service {service!r}; supported: {known}")
    return name, SERVICES[name]
