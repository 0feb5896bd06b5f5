"""The Proxmox products the SDK speaks to: default port, the backends each supports and
their wire details (one table, kept in the native core and shared with the CLI).

``SERVICES[name]`` is a :class:`ServiceConfig` with the original package's attribute names;
item access (``SERVICES["PBS"]["default_port"]``) reads the same fields, plus the native
table's own names (``auth_cookie``, ``supported_https_auths``, ``auth_header_prefix``).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from proxmox_sdk import _native


@dataclass(frozen=True)
class ServiceConfig:
    """Configuration metadata for a Proxmox service type."""

    supported_backends: tuple[str, ...]
    supported_auth_methods: tuple[str, ...]
    default_port: int
    token_separator: str
    auth_cookie_name: str
    api_path_prefix: str
    cli_name: str | None
    cli_extra_options: tuple[str, ...]
    #: How an API token is introduced in the ``Authorization`` header (``PVEAPIToken=``).
    auth_header_prefix: str = ""

    _ALIASES = {
        "auth_cookie": "auth_cookie_name",
        "supported_https_auths": "supported_auth_methods",
        "cli": "cli_name",
    }

    def __getitem__(self, key: str) -> Any:
        name = self._ALIASES.get(key, key)
        if name not in {f.name for f in fields(self)}:
            raise KeyError(key)
        return getattr(self, name)

    def get(self, key: str, default: Any = None) -> Any:
        try:
            return self[key]
        except KeyError:
            return default


def _from_native(row: dict[str, Any]) -> ServiceConfig:
    cli = row.get("cli")
    return ServiceConfig(
        supported_backends=tuple(row["supported_backends"]),
        supported_auth_methods=tuple(row["supported_https_auths"]),
        default_port=int(row["default_port"]),
        token_separator=row["token_separator"],
        auth_cookie_name=row["auth_cookie"],
        api_path_prefix="/api2/json",
        cli_name=cli,
        cli_extra_options=("--output-format", "json") if cli else (),
        auth_header_prefix=row["auth_header_prefix"],
    )


SERVICES: dict[str, ServiceConfig] = {
    name: _from_native(row) for name, row in _native.services().items()
}


def service_config(service: str) -> tuple[str, ServiceConfig]:
    """``(NAME, config)`` for a service name in any case; ``ValueError`` naming the known ones."""
    name = str(service).upper()
    if name not in SERVICES:
        known = ", ".join(SERVICES)
        raise ValueError(f"service: unknown service {service!r}; supported: {known}")
    return name, SERVICES[name]


__all__ = ["SERVICES", "ServiceConfig", "service_config"]
