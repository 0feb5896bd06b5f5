"""Tasks: UPID and log decoding, waiting with backoff, async and sync."""

from __future__ import annotations

import asyncio

import pytest
from proxmox_sdk import ProxmoxSDK, Tasks
from proxmox_sdk.sdk.api import isolated_namespace
from proxmox_sdk.sdk.tools.tasks import TaskFailedError

UPID = "UPID:pve1:000003E8:00001B58:6B08E68D:qmcreate:101:root@pam:"


def test_decode_upid_and_log() -> None:
    assert Tasks.decode_upid(UPID) == {
        "upid": UPID,
        "node": "pve1",
        "pid": 1000,
        "pstart": 7000,
        "starttime": 0x6B08E68D,
        "type": "qmcreate",
        "id": "101",
        "user": "root@pam",
        "comment": "",
    }
    assert Tasks.decode_upid(UPID.replace(":", "%3A"))["node"] == "pve1"
    with pytest.raises(ValueError, match="upid: 'not-a-upid' is not a task id"):
        Tasks.decode_upid("not-a-upid")
    assert Tasks.decode_log([{"n": 2, "t": "b"}, {"n": 1, "t": "a"}]) == "a\nb"


def test_sync_wait() -> None:
    px = ProxmoxSDK.sync_mock(mock_namespace=isolated_namespace())
    upid = px.nodes("pve1").qemu.post(vmid=100)
    status = Tasks.blocking_status(px, upid)
    assert (status["status"], status["exitstatus"], status["type"]) == ("stopped", "OK", "qmcreate")
    assert Tasks.wait_for_task(px, upid)["exitstatus"] == "OK"


def test_async_wait_and_outcomes() -> None:
    sdk = ProxmoxSDK.mock(mock_namespace=isolated_namespace())
    store = sdk.mock_store

    async def main() -> None:
        upid = await sdk.nodes("pve1").qemu.post(vmid=100)
        assert (await Tasks.wait_for_task(sdk, upid))["exitstatus"] == "OK"
        warn = UPID.replace("101", "102")
        store.set_object(
            f"/nodes/pve1/tasks/{warn}/status", {"status": "stopped", "exitstatus": "WARNINGS: 2"}
        )
        assert (await Tasks.wait_for_task(sdk, warn))["exitstatus"] == "WARNINGS: 2"
        failed = UPID.replace("101", "103")
        store.set_object(
            f"/nodes/pve1/tasks/{failed}/status",
            {"status": "stopped", "exitstatus": "TASK ERROR: boom"},
        )
        with pytest.raises(TaskFailedError, match="TASK ERROR: boom") as info:
            await Tasks.wait_for_task(sdk, failed)
        assert info.value.status["exitstatus"] == "TASK ERROR: boom"
        running = UPID.replace("101", "104")
        store.set_object(f"/nodes/pve1/tasks/{running}/status", {"status": "running"})
        with pytest.raises(TimeoutError, match="still running"):
            await Tasks.blocking_status(sdk, running, timeout=0.05, polling_interval=0.01)

    asyncio.run(main())


def test_plugin_fixtures_are_isolated_a(proxmox_mock_sync) -> None:
    proxmox_mock_sync.nodes("pve1").qemu.post(vmid=100)
    assert len(proxmox_mock_sync.nodes("pve1").qemu.get()) == 1


def test_plugin_fixtures_are_isolated_b(proxmox_mock_sync, proxmox_mock) -> None:
    proxmox_mock_sync.nodes("pve1").qemu.post(vmid=100)
    assert len(proxmox_mock_sync.nodes("pve1").qemu.get()) == 1

    async def other() -> list:
        return await proxmox_mock.nodes("pve1").qemu.get()

    assert asyncio.run(other()) == [], "each fixture has its own state"


def test_failed_guest_action_raises_task_failed() -> None:
    px = ProxmoxSDK.sync_mock(mock_namespace=isolated_namespace())
    Tasks.wait_for_task(px, px.nodes("pve1").qemu.post(vmid=100))
    Tasks.wait_for_task(px, px.nodes("pve1").qemu(100).status.start.post())
    assert px.nodes("pve1").qemu(100).status.current.get()["status"] == "running"
    upid = px.nodes("pve1").qemu(100).status.start.post()
    with pytest.raises(TaskFailedError, match="VM 100 already running"):
        Tasks.wait_for_task(px, upid)
    log = px.nodes("pve1").tasks(upid).log.get()
    assert Tasks.decode_log(log) == "TASK ERROR: VM 100 already running"
