"""The Proxmox products the SDK speaks to: default port and the backends each supports."""

from __future__ import annotations

from typing import Any

SERVICES: dict[str, dict[str, Any]] = {
    "PVE": {
        "default_port": 8006,
        "supported_backends": ["https", "ssh_paramiko", "openssh", "local", "mock"],
        "supported_https_auths": ["password", "token"],
        "token_separator": "=",
        "auth_cookie": "PVEAuthCookie",
        "auth_header_prefix": "PVEAPIToken=",
        "cli": "pvesh",
    },
    "PMG": {
        "default_port": 8006,
        "supported_backends": ["https", "ssh_paramiko", "openssh", "local", "mock"],
        "supported_https_auths": ["password"],
        "token_separator": "=",
        "auth_cookie": "PMGAuthCookie",
        "auth_header_prefix": "PMGAPIToken=",
        "cli": "pmgsh",
    },
    "PBS": {
        "default_port": 8007,
        "supported_backends": ["https", "mock"],
        "supported_https_auths": ["password", "token"],
        "token_separator": ":",
        "auth_cookie": "PBSAuthCookie",
        "auth_header_prefix": "PBSAPIToken=",
    },
    "PDM": {
        "default_port": 8443,
        "supported_backends": ["https", "mock"],
        "supported_https_auths": ["password", "token"],
        "token_separator": ":",
        "auth_cookie": "PDMAuthCookie",
        "auth_header_prefix": "PDMAPIToken=",
    },
}


def service_config(service: str) -> tuple[str, dict[str, Any]]:
    """``(NAME, config)`` for a service name in any case; ``ValueError`` naming the known ones."""
    name = str(service).upper()
    if name not in SERVICES:
        known = ", ".join(SERVICES)
        raise ValueError(f"service: unknown service {service!r}; supported: {known}")
    return name, SERVICES[name]
