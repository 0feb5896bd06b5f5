"""proxmox_sdk: the Proxmox VE API toolkit for Python, with a Rust engine.

Importing the package is cheap: the native module and submodules load on first use of a
name that needs them.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers see; at run time each name loads on first use
    from proxmox_sdk import schema
    from proxmox_sdk.sdk.api import ProxmoxSDK, SyncProxmoxSDK
    from proxmox_sdk.sdk.backends.mock import MockBackend
    from proxmox_sdk.sdk.exceptions import (
        AuthenticationError,
        BackendNotAvailableError,
        ProxmoxConnectionError,
        ProxmoxRedirectError,
        ProxmoxSDKError,
        ProxmoxTimeoutError,
        ResourceException,
        ResponseTooLargeError,
        UnsupportedResponseEncodingError,
        ValidationError,
    )
    from proxmox_sdk.sdk.resource import ProxmoxResource
    from proxmox_sdk.sdk.tools.files import Files
    from proxmox_sdk.sdk.tools.tasks import Tasks

    __version__: str

# name -> (module, attribute)
_LAZY: dict[str, tuple[str, str]] = {
    "ProxmoxSDK": ("proxmox_sdk.sdk.api", "ProxmoxSDK"),
    "SyncProxmoxSDK": ("proxmox_sdk.sdk.api", "SyncProxmoxSDK"),
    "ProxmoxResource": ("proxmox_sdk.sdk.resource", "ProxmoxResource"),
    "MockBackend": ("proxmox_sdk.sdk.backends.mock", "MockBackend"),
    "Tasks": ("proxmox_sdk.sdk.tools.tasks", "Tasks"),
    "Files": ("proxmox_sdk.sdk.tools.files", "Files"),
    "schema": ("proxmox_sdk.schema", ""),
    "ProxmoxSDKError": ("proxmox_sdk.sdk.exceptions", "ProxmoxSDKError"),
    "ResourceException": ("proxmox_sdk.sdk.exceptions", "ResourceException"),
    "ValidationError": ("proxmox_sdk.sdk.exceptions", "ValidationError"),
    "AuthenticationError": ("proxmox_sdk.sdk.exceptions", "AuthenticationError"),
    "BackendNotAvailableError": ("proxmox_sdk.sdk.exceptions", "BackendNotAvailableError"),
    "ProxmoxRedirectError": ("proxmox_sdk.sdk.exceptions", "ProxmoxRedirectError"),
    "ResponseTooLargeError": ("proxmox_sdk.sdk.exceptions", "ResponseTooLargeError"),
    "UnsupportedResponseEncodingError": (
        "proxmox_sdk.sdk.exceptions",
        "UnsupportedResponseEncodingError",
    ),
    "ProxmoxTimeoutError": ("proxmox_sdk.sdk.exceptions", "ProxmoxTimeoutError"),
    "ProxmoxConnectionError": ("proxmox_sdk.sdk.exceptions", "ProxmoxConnectionError"),
}

__all__ = [
    "__version__",
    "ProxmoxSDK",
    "SyncProxmoxSDK",
    "ProxmoxResource",
    "MockBackend",
    "Tasks",
    "Files",
    "schema",
    "ProxmoxSDKError",
    "ResourceException",
    "ValidationError",
    "AuthenticationError",
    "BackendNotAvailableError",
    "ProxmoxRedirectError",
    "ResponseTooLargeError",
    "UnsupportedResponseEncodingError",
    "ProxmoxTimeoutError",
    "ProxmoxConnectionError",
]
assert set(__all__) == {"__version__", *_LAZY}, "keep __all__ and _LAZY in step"


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            text = version("proxmox-sdk")
        except PackageNotFoundError:  # running from a source tree without metadata
            text = importlib.import_module("proxmox_sdk._native").__version__
        globals()["__version__"] = text
        return text
    target = _LAZY.get(name)
    if target is None:
        raise AttributeError(f"module 'proxmox_sdk' has no attribute {name!r}")
    module = importlib.import_module(target[0])
    value = getattr(module, target[1]) if target[1] else module
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
