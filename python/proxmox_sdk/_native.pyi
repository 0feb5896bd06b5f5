"""Type stubs of the native core ``proxmox_sdk._native`` (built from ``src/python/``)."""

__all__ = [
    "__version__",
    "apidoc_json",
    "codegen_main",
    "latest_version",
    "openapi_json",
    "resolve_path",
    "resolve_version",
    "schema_versions",
    "validate_json",
]
__version__: str

def schema_versions() -> list[str]:
    """The bundled schema versions, oldest first."""

def latest_version() -> str:
    """The version ``latest`` stands for."""

def resolve_version(version: str) -> str:
    """Map ``latest`` (or a concrete tag) to a bundled version tag; ``ValueError`` if unknown."""

def openapi_json(version: str = "latest") -> str:
    """The OpenAPI 3.1 document of a bundled version, as JSON text."""

def apidoc_json(version: str = "latest") -> str:
    """The normalized apidoc of a bundled version, as JSON text."""

def validate_json(
    method: str, path: str, params_json: str, version: str = "latest"
) -> tuple[int, str]:
    """Validate a request: ``(200, coerced_json)``, ``(400, errors_json)`` or ``(501, message)``."""

def resolve_path(path: str, version: str = "latest") -> tuple[str, list[tuple[str, str]]] | None:
    """Resolve a concrete path to ``(template, [(param, value), ...])``, or ``None``."""

def codegen_main(argv: list[str]) -> int:
    """Run ``proxmox-sdk-codegen`` with ``argv`` (program name first); return the exit code."""
