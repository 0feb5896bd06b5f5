"""Generated Pydantic v2 models of every operation's parameters and answer, per product
and version (needs the ``models`` extra: ``pip install 'proxmox-sdk[models]'``).

Importable as ``proxmox_sdk.generated.<product>.v<version>.pydantic_models`` (``9.1.11`` is
``v9_1_11``: a module name cannot hold dots) and ``proxmox_sdk.generated.<product>.latest.
pydantic_models``; :func:`models` takes the version as written. Products: ``proxmox`` (PVE),
``pbs``, ``pmg``, ``pdm``. Answers: ``await px.nodes("pve1").qemu(100).config.get(model=True)``
returns ``GetNodesNodeQemuVmidConfigResponse``; :func:`response_model` finds the class of an
operation.
"""

from __future__ import annotations

import functools
import importlib
import json
from collections.abc import Awaitable
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["models", "operation_models", "response_model"]

_FOLDERS = {"PVE": "proxmox", "PBS": "pbs", "PMG": "pmg", "PDM": "pdm"}


def _folder(service: str) -> str:
    try:
        return _FOLDERS[service.upper()]
    except KeyError:
        raise ValueError(
            f"service: expected one of {', '.join(_FOLDERS)}, got {service!r}"
        ) from None


def _module_dir(version: str) -> str:
    return "v" + "".join(c if c.isalnum() else "_" for c in version)


@functools.cache
def _resolved(version: str, service: str) -> str:
    from proxmox_sdk import _native

    return _native.resolve_version(version, service.upper())


def models(version: str = "latest", service: str = "PVE") -> ModuleType:
    """The models module of a bundled ``version`` (``latest``, ``9.2``, ``9.1.11``)."""
    tag = _resolved(version, service)
    name = f"{__name__}.{_folder(service)}.{_module_dir(tag)}.pydantic_models"
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as e:
        if e.name and e.name.split(".")[0] in ("pydantic", "pydantic_core"):
            raise ImportError(
                "the generated models need pydantic v2: pip install 'proxmox-sdk[models]'"
            ) from e
        raise


@functools.cache
def operation_models(version: str = "latest", service: str = "PVE") -> dict[str, Any]:
    """``operationId -> {method, path, request_model, response_model}`` of a version."""
    tag = _resolved(version, service)
    index = Path(__file__).parent / _folder(service) / _module_dir(tag) / "model_index.json"
    operations: dict[str, Any] = json.loads(index.read_text(encoding="utf-8"))["operations"]
    return operations


@functools.cache
def _by_route(version: str, service: str) -> dict[tuple[str, str], str]:
    return {
        (op["method"], op["path"]): op["response_model"]
        for op in operation_models(version, service).values()
    }


def response_model(
    method: str, template: str, version: str = "latest", service: str = "PVE"
) -> type[BaseModel]:
    """The answer's model of an operation (``"GET"``, ``"/nodes/{node}/qemu"``)."""
    name = _by_route(_resolved(version, service), service.upper()).get((method.upper(), template))
    if name is None:
        raise ValueError(f"no operation {method.upper()} {template} in {service} {version}")
    cls: type[BaseModel] = getattr(models(version, service), name)
    return cls


def _to_model(service: str, version: str, method: str, template: str, value: Any) -> Any:
    """The answer as its model (what ``model=True`` returns), checked by pydantic-core."""
    return response_model(method, template, version, service).model_validate(value)


async def _typed(
    call: Awaitable[Any], service: str, version: str, method: str, template: str
) -> Any:
    cls = response_model(method, template, version, service)  # before the request is sent
    return cls.model_validate(await call)
