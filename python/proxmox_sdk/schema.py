"""The bundled Proxmox VE API schemas: versions, the OpenAPI documents, path resolution and
request validation exactly as the mock and the server apply it."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from proxmox_sdk import _native
from proxmox_sdk.sdk.exceptions import ResourceException, ValidationError

__all__ = [
    "available_versions",
    "latest_version",
    "resolve_version",
    "load_proxmox_generated_openapi",
    "load_proxmox_apidoc",
    "resolve",
    "validate",
]


def available_versions() -> list[str]:
    """The bundled PVE versions, oldest first (``latest`` is an alias of the last)."""
    return list(_native.schema_versions())


def latest_version() -> str:
    """The version ``latest`` stands for."""
    return _native.latest_version()


def resolve_version(version: str = "latest") -> str:
    """``latest`` (or a concrete tag) -> a bundled version tag; ``ValueError`` if unknown."""
    return _native.resolve_version(version)


@lru_cache(maxsize=8)
def _openapi_text(version: str) -> str:
    return _native.openapi_json(version)


def load_proxmox_generated_openapi(version: str = "latest") -> dict[str, Any]:
    """The OpenAPI 3.1 document of a bundled version (a fresh dict each call)."""
    return json.loads(_openapi_text(resolve_version(version)))


def load_proxmox_apidoc(version: str = "latest") -> list[dict[str, Any]]:
    """The normalized apidoc tree of a bundled version (a fresh list each call)."""
    return json.loads(_native.apidoc_json(version))


def resolve(path: str, version: str = "latest") -> tuple[str, dict[str, str]] | None:
    """Resolve a concrete API path to ``(template, path_params)``, or ``None``."""
    found = _native.resolve_path(path, version)
    if found is None:
        return None
    template, params = found
    return template, dict(params)


def validate(
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    version: str = "latest",
) -> dict[str, Any]:
    """Validate a request the way PVE does and return the coerced parameters (path
    parameters included, booleans as 0/1, numbers as numbers).

    Raises :class:`~proxmox_sdk.sdk.exceptions.ValidationError` (400, with ``errors``) for
    bad parameters and :class:`~proxmox_sdk.sdk.exceptions.ResourceException` (501) when
    the path or method does not exist.
    """
    if params is not None and not isinstance(params, dict):
        raise TypeError(f"params: expected a dict, got {type(params).__name__}")
    payload = json.dumps({k: v for k, v in (params or {}).items() if v is not None})
    status, body = _native.validate_json(method, path, payload, version)
    if status == 200:
        return json.loads(body)
    if status == 400:
        raise ValidationError(json.loads(body))
    raise ResourceException(status, "Not Implemented", body)
