"""The bundled API schemas of Proxmox VE (and, with ``service=``, of PBS, PMG and PDM):
versions, the OpenAPI documents, path resolution and request validation exactly as the mock
and the server apply it."""

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
    "load_pydantic_models",
    "resolve",
    "validate",
]


def available_versions(service: str = "PVE") -> list[str]:
    """The bundled versions of ``service``, oldest first (``latest`` is an alias of the
    last)."""
    return list(_native.schema_versions(service))


def latest_version(service: str = "PVE") -> str:
    """The version ``latest`` stands for."""
    return _native.latest_version(service)


def resolve_version(version: str = "latest", service: str = "PVE") -> str:
    """``latest`` (or a concrete tag) -> a bundled version tag; ``ValueError`` if unknown."""
    return _native.resolve_version(version, service)


@lru_cache(maxsize=16)
def _openapi_text(version: str, service: str) -> str:
    return _native.openapi_json(version, service)


def load_proxmox_generated_openapi(version: str = "latest", service: str = "PVE") -> dict[str, Any]:
    """The OpenAPI 3.1 document of a bundled version (a fresh dict each call)."""
    document: dict[str, Any] = json.loads(
        _openapi_text(resolve_version(version, service), service.upper())
    )
    return document


def load_proxmox_apidoc(version: str = "latest", service: str = "PVE") -> list[dict[str, Any]]:
    """The normalized apidoc tree of a bundled version (a fresh list each call)."""
    tree: list[dict[str, Any]] = json.loads(_native.apidoc_json(version, service))
    return tree


def load_pydantic_models(version_tag: str = "latest", service: str = "PVE") -> str | None:
    """The source of a bundled version's generated Pydantic models (``None`` for a version
    that is not bundled), as the original package's function; to use them, import
    :func:`proxmox_sdk.generated.models`."""
    from pathlib import Path

    from proxmox_sdk.generated import _folder, _module_dir

    try:
        tag = resolve_version(version_tag, service)
        folder = _folder(service)
    except ValueError:
        return None
    path = Path(__file__).parent / "generated" / folder / _module_dir(tag) / "pydantic_models.py"
    try:
        return path.read_text(encoding="utf-8")
    except OSError:
        return None


def resolve(
    path: str, version: str = "latest", service: str = "PVE"
) -> tuple[str, dict[str, str]] | None:
    """Resolve a concrete API path to ``(template, path_params)``, or ``None``."""
    found = _native.resolve_path(path, version, service)
    if found is None:
        return None
    template, params = found
    return template, dict(params)


def validate(
    method: str,
    path: str,
    params: dict[str, Any] | None = None,
    version: str = "latest",
    service: str = "PVE",
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
    status, body = _native.validate_json(method, path, payload, version, service)
    if status == 200:
        coerced: dict[str, Any] = json.loads(body)
        return coerced
    if status == 400:
        raise ValidationError(json.loads(body))
    raise ResourceException(status, body, body)
