"""A script that uses every public entry point the way user code does, checked by
``mypy --strict`` and pyright in ``make lint`` (and run by ``test_typing.py``, so it stays
true at run time too). ``assert_type`` pins what the type checkers must infer."""

from __future__ import annotations

import asyncio
from typing import Any

import proxmox_sdk
from proxmox_sdk import (
    AuthenticationError,
    ProxmoxResource,
    ProxmoxSDK,
    ProxmoxSDKError,
    ResourceException,
    SyncProxmoxSDK,
    Tasks,
    ValidationError,
    schema,
)
from proxmox_sdk._native import MockStore, ProxmoxCall
from typing_extensions import assert_type


async def async_use() -> list[dict[str, Any]]:
    sdk = ProxmoxSDK.mock(schema_version="9.2", mock_namespace="typed-example")
    assert_type(sdk, ProxmoxSDK)
    assert_type(sdk.mock_store, MockStore)
    sdk.mock_store.reset()
    guests = sdk.nodes("pve1").qemu
    assert_type(guests, ProxmoxResource[ProxmoxCall])
    call = guests.post(vmid=100, name="web", memory=2048)
    assert_type(call, ProxmoxCall)
    await call
    config = await sdk.nodes("pve1").qemu(100).config.get()
    assert config["name"] == "web"
    async with ProxmoxSDK.mock(mock_namespace="typed-example") as px:
        assert_type(px, ProxmoxResource[ProxmoxCall])
        nodes: list[dict[str, Any]] = await px.nodes.get()
    try:
        await sdk.nodes("pve1").qemu(100).config.put(memory="lots")
    except ValidationError as e:
        assert e.status_code == 400
    await sdk.close()
    return nodes


def sync_use() -> str:
    sdk = SyncProxmoxSDK.mock(mock_namespace="typed-example")
    assert_type(sdk, SyncProxmoxSDK)
    version: dict[str, Any] = sdk.version.get()
    with ProxmoxSDK.sync_mock(mock_namespace="typed-example") as px:
        assert_type(px, ProxmoxResource[Any])
        px.nodes("pve1").qemu(100).status.start.post()
    twin = ProxmoxSDK.sync(backend="mock", mock_namespace="typed-example", timeout=5.0)
    assert_type(twin, SyncProxmoxSDK)
    upid = twin.nodes("pve1").qemu(100).status.stop.post()
    status = Tasks.blocking_status(twin, upid)
    assert status["exitstatus"] == "OK"
    try:
        twin.nodes("nosuchnode").qemu(100).config.get()
    except ResourceException as e:
        assert isinstance(e.status_code, int)
    except (AuthenticationError, ProxmoxSDKError):
        raise
    sdk.close()
    return str(version["version"])


def schema_use() -> None:
    versions = schema.available_versions()
    assert "9.2" in versions
    openapi = schema.load_proxmox_generated_openapi("9.2")
    assert openapi["openapi"].startswith("3.1")
    assert isinstance(proxmox_sdk.__version__, str)


def main() -> None:
    nodes = asyncio.run(async_use())
    assert nodes
    sync_use()
    schema_use()


if __name__ == "__main__":
    main()
