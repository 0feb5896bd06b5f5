"""Controlling the in-memory PVE from tests: failures, latency, offline nodes, the clock
and the request log; a guest's whole life through the SDK and, unchanged, over HTTP."""

from __future__ import annotations

import time

import pytest
from proxmox_sdk import ProxmoxSDK, Tasks
from proxmox_sdk.sdk.api import isolated_namespace
from proxmox_sdk.sdk.exceptions import ResourceException
from proxmox_sdk.sdk.tools.tasks import TaskFailedError
from proxmox_sdk.server import serve


@pytest.fixture
def px():
    return ProxmoxSDK.sync_mock(mock_namespace=isolated_namespace())


def test_injected_failures_latency_offline_and_log(px) -> None:
    store = px.mock_store
    store.inject_failure("/nodes/pve1/version", status=503, message="busy", method="GET", count=2)
    for _ in range(2):
        with pytest.raises(ResourceException) as info:
            px.nodes("pve1").version.get()
        assert (info.value.status_code, info.value.content) == (503, "busy")
    assert px.nodes("pve1").version.get()["release"]

    px.nodes("pve1").qemu.post(vmid=100)
    store.inject_failure("nodes/{node}/qemu/{vmid}/status/start", message="no space left")
    upid = px.nodes("pve1").qemu(100).status.start.post()
    with pytest.raises(TaskFailedError, match="no space left"):
        Tasks.wait_for_task(px, upid)

    store.set_node_offline("pve1")
    with pytest.raises(ResourceException) as info:
        px.nodes("pve1").status.get()
    assert str(info.value) == "HTTP 595 No route to host: No route to host"
    store.set_node_offline("pve1", offline=False)

    store.set_latency(0.05)
    t = time.perf_counter()
    px.version.get()
    assert time.perf_counter() - t >= 0.05
    store.set_latency(0)

    store.clear_requests()
    px.access.users.post(userid="carol@pve", password="very-secret-1")
    log = store.requests()
    assert log[-1]["method"] == "POST" and log[-1]["path"] == "/access/users"
    assert log[-1]["params"]["password"] == "********"
    assert "very-secret-1" not in repr(log)


def test_clock_moves_uptime(px) -> None:
    px.nodes("pve1").qemu.post(vmid=100)
    px.nodes("pve1").qemu(100).status.start.post()
    before = px.nodes("pve1").qemu(100).status.current.get()["uptime"]
    px.mock_store.advance_clock(3600)
    after = px.nodes("pve1").qemu(100).status.current.get()["uptime"]
    assert after - before >= 3600


def vm_life(px) -> None:
    """The life of a VM as a user's code sees it; runs against any SDK."""
    upid = px.nodes("pve1").qemu.post(vmid=150, name="life", cores=2, memory="2048")
    assert Tasks.blocking_status(px, upid)["exitstatus"] == "OK"
    assert px.nodes("pve1").qemu(150).config.get()["name"] == "life"
    px.nodes("pve1").qemu(150).config.put(cores=4)
    Tasks.wait_for_task(px, px.nodes("pve1").qemu(150).status.start.post())
    assert px.nodes("pve1").qemu(150).status.current.get()["status"] == "running"
    Tasks.wait_for_task(px, px.nodes("pve1").qemu(150).status.stop.post())
    assert px.nodes("pve1").qemu(150).status.current.get()["status"] == "stopped"
    Tasks.wait_for_task(px, px.nodes("pve1").qemu(150).delete())
    assert all(v["vmid"] != 150 for v in px.nodes("pve1").qemu.get())
    assert all(r.get("vmid") != 150 for r in px.cluster.resources.get(type="vm"))
    with pytest.raises(ResourceException) as info:
        px.nodes("pve1").qemu(150).config.get()
    assert (
        info.value.content == "Configuration file 'nodes/pve1/qemu-server/150.conf' does not exist"
    )


def ct_life(px) -> None:
    """The life of a container, likewise."""
    ct = px.nodes("pve1").lxc(160)
    upid = px.nodes("pve1").lxc.post(
        vmid=160,
        ostemplate="local:vztmpl/debian-13.tar.zst",
        hostname="box",
        memory=512,
        storage="local-lvm",
    )
    assert Tasks.blocking_status(px, upid)["exitstatus"] == "OK"
    assert ct.config.get()["hostname"] == "box"
    ct.config.put(memory=1024, delete="hostname")
    config = ct.config.get()
    assert "hostname" not in config and int(config["memory"]) == 1024
    Tasks.wait_for_task(px, ct.status.start.post())
    assert ct.status.current.get()["status"] == "running"
    assert [r["status"] for r in px.cluster.resources.get(type="vm") if r["vmid"] == 160] == [
        "running"
    ]
    Tasks.wait_for_task(px, ct.status.stop.post())
    assert ct.status.current.get()["status"] == "stopped"
    Tasks.wait_for_task(px, ct.delete())
    assert all(c["vmid"] != 160 for c in px.nodes("pve1").lxc.get())
    assert all(r.get("vmid") != 160 for r in px.cluster.resources.get())
    with pytest.raises(ResourceException) as info:
        ct.config.get()
    assert info.value.content == "Configuration file 'nodes/pve1/lxc/160.conf' does not exist"


def test_vm_life_in_process(px) -> None:
    vm_life(px)
    ct_life(px)


def test_vm_and_container_life_over_http_through_our_sdk() -> None:
    """Unchanged, through the HTTP server with this SDK's HTTPS transport."""
    with serve(tls=True) as server:
        px = ProxmoxSDK.sync(
            host=server.url.removeprefix("https://"),
            user="root@pam",
            password=server.password,
            fingerprint=server.fingerprint,
        )
        vm_life(px)
        ct_life(px)


def test_vm_life_over_http_with_proxmoxer() -> None:
    """The same steps through the HTTP server, driven by proxmoxer (a different client)."""
    from proxmoxer import ProxmoxAPI
    from proxmoxer.core import ResourceException as ProxmoxerError

    with serve(tls=True) as server:
        host, port = server.url.removeprefix("https://").split(":")
        api = ProxmoxAPI(
            host, port=int(port), user="root@pam", password=server.password, verify_ssl=False
        )
        node = api.nodes("pve1")
        node.qemu.post(vmid=150, name="life")
        node.qemu(150).status.start.post()
        assert node.qemu(150).status.current.get()["status"] == "running"
        again = node.qemu(150).status.start.post()
        status = node.tasks(again).status.get()
        assert (status["status"], status["exitstatus"]) == ("stopped", "VM 150 already running")
        node.qemu(150).status.stop.post()
        node.qemu(150).delete()
        assert node.qemu.get() == []
        with pytest.raises(ProxmoxerError, match="does not exist"):
            node.qemu(150).config.get()


def test_time_scale_and_clock_make_tasks_take_time(px) -> None:
    store = px.mock_store
    store.set_time_scale(1.0)
    upid = px.nodes("pve1").qemu.post(vmid=100)
    assert px.nodes("pve1").tasks(upid).status.get()["status"] == "running"
    with pytest.raises(TimeoutError):
        Tasks.blocking_status(px, upid, timeout=0.05, polling_interval=0.01)
    store.advance_clock(10)
    assert Tasks.wait_for_task(px, upid)["exitstatus"] == "OK"


def test_guest_disks_live_in_storage_content(px) -> None:
    node = px.nodes("pve1")
    # PVE's `local` holds no guest disks; a directory storage that does.
    px.storage.post(storage="dimg", type="dir", path="/srv/dimg", content="images,rootdir")
    node.qemu.post(vmid=100, scsi0="local-lvm:32,iothread=1", efidisk0="local-lvm:0.004")
    node.qemu.post(vmid=101, virtio0="dimg:8", ide2="local:iso/debian.iso,media=cdrom")
    node.qemu.post(vmid=104, virtio0="dimg:2,format=qcow2")
    node.lxc.post(vmid=102, ostemplate="local:vztmpl/d.tar.zst", rootfs="dimg:4")
    with pytest.raises(ResourceException, match="storage 'local' does not support vm images"):
        node.qemu.post(vmid=105, virtio0="local:8")
    config = node.qemu(100).config.get()
    assert config["scsi0"] == "local-lvm:vm-100-disk-1,iothread=1,size=32G"
    assert config["efidisk0"] == "local-lvm:vm-100-disk-0,size=4M"
    # A directory storage makes raw images unless asked for another format (PVE's default).
    assert node.qemu(101).config.get()["virtio0"] == "dimg:101/vm-101-disk-0.raw,size=8G"
    assert node.qemu(104).config.get()["virtio0"] == "dimg:104/vm-104-disk-0.qcow2,size=2G"
    assert node.qemu(101).config.get()["ide2"] == "local:iso/debian.iso,media=cdrom"
    assert node.lxc(102).config.get()["rootfs"] == "dimg:102/vm-102-disk-0.raw,size=4G"
    lvm = node.storage("local-lvm").content.get()
    assert sorted((v["volid"], v["size"], v["vmid"], v["content"]) for v in lvm) == [
        ("local-lvm:vm-100-disk-0", round(0.004 * 1024**3), 100, "images"),
        ("local-lvm:vm-100-disk-1", 32 * 1024**3, 100, "images"),
    ]
    assert [v["volid"] for v in node.storage("dimg").content.get(vmid=101)] == [
        "dimg:101/vm-101-disk-0.raw"
    ]
    with pytest.raises(ResourceException, match="storage 'nope' does not exist"):
        node.qemu.post(vmid=103, scsi0="nope:1")
    # Destroying a guest frees its volumes.
    node.qemu(100).delete()
    assert node.storage("local-lvm").content.get() == []


def test_destroy_refusals_and_purge(px) -> None:
    node = px.nodes("pve1")
    node.qemu.post(vmid=100)
    node.qemu.post(vmid=101)
    px.cluster.backup.post(id="nightly", vmid="100,101", schedule="daily", storage="local")
    px.cluster.backup.post(id="only-100", vmid="100", schedule="weekly", storage="local")
    px.cluster.ha.resources.post(sid="vm:100")
    Tasks.wait_for_task(px, node.qemu(100).status.start.post())
    with pytest.raises(ResourceException, match="VM 100 is running - destroy failed"):
        node.qemu(100).delete()
    Tasks.wait_for_task(px, node.qemu(100).status.stop.post())
    with pytest.raises(ResourceException, match="used in HA resources and purge parameter not set"):
        node.qemu(100).delete()
    Tasks.wait_for_task(px, node.qemu(100).delete(purge=1))
    assert px.cluster.ha.resources.get() == []
    jobs = {j["id"]: j for j in px.cluster.backup.get()}
    assert list(jobs) == ["nightly"]
    assert jobs["nightly"]["vmid"] == "101"


def test_pending_changes_of_a_running_vm(px) -> None:
    vm = px.nodes("pve1").qemu(100)
    px.nodes("pve1").qemu.post(vmid=100, cores=1, name="a", balloon=512)
    Tasks.wait_for_task(px, vm.status.start.post())
    vm.config.put(cores=4, name="b", delete="balloon")
    # name applies at once; cores and the delete wait for the next start.
    current = vm.config.get(current=1)
    assert (current["cores"], current["name"], current["balloon"]) == (1, "b", 512)
    shown = vm.config.get()
    assert (shown["cores"], shown["name"]) == (4, "b") and "balloon" not in shown
    pending = {p["key"]: p for p in vm.pending.get()}
    # PVE's schema types both as strings.
    assert pending["cores"] == {"key": "cores", "value": "1", "pending": "4"}
    assert pending["balloon"] == {"key": "balloon", "value": "512", "delete": 1}
    assert pending["name"] == {"key": "name", "value": "b"}
    Tasks.wait_for_task(px, vm.status.stop.post())
    assert vm.config.get(current=1)["cores"] == 1
    Tasks.wait_for_task(px, vm.status.start.post())
    current = vm.config.get(current=1)
    assert current["cores"] == 4 and "balloon" not in current
    assert all("pending" not in p and "delete" not in p for p in vm.pending.get())


def test_unknown_nodes_answer_as_pve_when_the_cluster_is_named(monkeypatch) -> None:
    monkeypatch.setenv("PROXMOX_MOCK_NODES", "pve1,pve2")
    px = ProxmoxSDK.sync_mock(mock_namespace=isolated_namespace())
    assert [n["node"] for n in px.nodes.get()] == ["pve1", "pve2"]
    assert px.nodes("pve2").qemu.get() == []
    with pytest.raises(ResourceException) as info:
        px.nodes("pve9").qemu.get()
    assert (info.value.status_code, info.value.content) == (
        500,
        "hostname lookup 'pve9' failed - failed to get address info for: pve9: "
        "Name or service not known",
    )
    monkeypatch.delenv("PROXMOX_MOCK_NODES")
    legacy = ProxmoxSDK.sync_mock(mock_namespace=isolated_namespace())
    assert legacy.nodes("pve01").qemu.get() == []
