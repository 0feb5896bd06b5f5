"""``proxmox_sdk.ceph``: CephClient over the PVE API (against the in-memory PVE's Ceph) and
the direct providers against small local fakes of the Dashboard and RGW admin APIs
(``ceph_fakes``: JWT, versioned media types, S3 v2 signatures checked by the fake)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import ceph_fakes
import pytest
from proxmox_sdk.ceph import CephClient, SyncCephClient
from proxmox_sdk.ceph import models as m
from proxmox_sdk.ceph.providers import (
    DashboardCephClient,
    ProviderCapability,
    RBDClient,
    RGWAdminClient,
)
from proxmox_sdk.sdk.api import isolated_namespace
from proxmox_sdk.sdk.exceptions import (
    AuthenticationError,
    CephCapabilityUnsupportedError,
    ResourceException,
)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def test_ceph_over_the_pve_api() -> None:
    async def go() -> None:
        async with CephClient.mock(mock_namespace=isolated_namespace("ceph")) as ceph:
            status = await ceph.status()
            assert isinstance(status, m.CephClusterStatus)
            assert status.health["status"] == "HEALTH_OK" and status.quorum_names == ["pve1"]
            flags = await ceph.cluster.flags()
            assert len(flags) == 11 and not any(f.value for f in flags)
            await ceph.write.flag_set("noout")
            assert (await ceph.cluster.flag("noout")).value is True
            assert (await ceph.status()).health["status"] == "HEALTH_WARN"
            await ceph.write.flag_unset("noout")
            osds = await ceph.nodes.osds("pve1")
            assert [o.osd_id for o in osds] == [0] and osds[0].status == "up"
            mons = await ceph.nodes.monitors("pve1")
            assert mons[0].daemon_type == "mon" and mons[0].name == "pve1"
            upid = await ceph.write.pool_create("pve1", "vmdata", size=3, pg_num=64)
            assert ":cephcreatepool:" in upid
            assert [p.name for p in await ceph.nodes.pools("pve1")] == ["vmdata"]
            with pytest.raises(ValueError, match="pool_delete is destructive"):
                await ceph.write.pool_delete("pve1", "vmdata")
            for call in (
                ceph.write.osd_delete("pve1", 0),
                ceph.write.mon_delete("pve1", "pve1"),
                ceph.write.mgr_delete("pve1", "pve1"),
                ceph.write.mds_delete("pve1", "pve1"),
            ):
                with pytest.raises(ValueError, match="confirm_destroy=True"):
                    await call
            assert ":cephdestroypool:" in await ceph.write.pool_delete(
                "pve1", "vmdata", confirm_destroy=True
            )
            assert await ceph.nodes.pools("pve1") == []

    run(go())
    with SyncCephClient.mock(mock_namespace=isolated_namespace("ceph")) as ceph:
        assert ceph.status().fsid
        assert len(ceph.cluster.flags()) == 11


@pytest.fixture
def dashboard() -> Iterator[ceph_fakes.FakeService]:
    svc = ceph_fakes.dashboard()
    yield svc
    svc.stop()


def test_dashboard_provider(dashboard: ceph_fakes.FakeService) -> None:
    async def go() -> None:
        async with DashboardCephClient(dashboard.url, username="admin", password="dash-pw") as d:
            assert (await d.health()).status == "HEALTH_OK"
            assert (await d.version()).startswith("ceph version 19")
            assert [p.pool_name for p in await d.pools()] == ["rbd"]
            await d.pool_create({"pool": "images", "size": 2})
            assert {p.pool_name for p in await d.pools()} == {"rbd", "images"}
            with pytest.raises(ValueError, match="confirm_destroy"):
                await d.pool_delete("images")
            await d.pool_delete("images", confirm_destroy=True)
            assert [o.osd for o in await d.osds()] == [0]
            caps = await d.capabilities()
            assert caps.available and caps.supports("pool", "delete") and caps.version
            assert not caps.supports("rgw_user", "delete")
            with pytest.raises(
                CephCapabilityUnsupportedError,
                match="dashboard provider does not support capability 'rgw_user:delete'",
            ):
                d.require("rgw_user", "delete", caps)
            rbd = RBDClient(d)
            await rbd.create_image("rbd", "disk1", 1 << 30)
            assert [i.name for i in await rbd.list_images("rbd")] == ["disk1"]
            with pytest.raises(ValueError, match="allow_shrink"):
                await rbd.resize_image("rbd", "disk1", 1 << 20, current_size_bytes=1 << 30)
            await rbd.resize_image("rbd", "disk1", 2 << 30, current_size_bytes=1 << 30)
            assert dashboard.state["edits"] == [("rbd/disk1", {"size": 2 << 30})]
            assert (await rbd.capabilities()).supports("rbd_image", "resize")

        # Bad credentials: a login error; capabilities degrade instead of raising.
        bad = DashboardCephClient(dashboard.url, username="admin", password="wrong")
        with pytest.raises(AuthenticationError, match="HTTP 401"):
            await bad.summary()
        caps = await bad.capabilities()
        assert isinstance(caps, ProviderCapability) and not caps.available
        assert not caps.supports("pool", "list")

    run(go())
    accepts = {
        a for (_, path, a, _) in dashboard.state["requests"] if path.startswith("/api/block")
    }
    assert accepts == {"application/vnd.ceph.api.v2.0+json"}


def test_rgw_admin_provider() -> None:
    svc = ceph_fakes.rgw("ADMINKEY", "admin-secret-xyz")

    async def go() -> None:
        async with RGWAdminClient(
            svc.url, access_key="ADMINKEY", secret_key="admin-secret-xyz"
        ) as rgw:
            assert await rgw.list_user_ids() == ["alice"]
            alice = await rgw.get_user("alice")
            assert alice.user_id == "alice" and "keys" not in alice.model_dump()
            await rgw.create_user("bob", display_name="Bob", max_buckets=5)
            assert {u.user_id for u in await rgw.list_users()} == {"alice", "bob"}
            assert (await rgw.set_user_suspended("bob", suspended=True)).suspended == 1
            await rgw.set_user_quota("bob", max_size=1024)
            assert svc.state["quotas"][0]["quota-type"] == "user"
            assert await rgw.list_buckets() == ["photos", "logs"]
            assert (await rgw.get_bucket("photos")).num_objects == 3
            assert (await rgw.usage()).summary[0]["user"] == "alice"
            with pytest.raises(ValueError, match="confirm_destroy"):
                await rgw.remove_user("bob")
            await rgw.remove_user("bob", confirm_destroy=True)
            assert (await rgw.capabilities()).supports("rgw_user", "quota")
        # A wrong secret: the fake's signature check refuses it.
        async with RGWAdminClient(svc.url, access_key="ADMINKEY", secret_key="wrong") as bad:
            with pytest.raises(ResourceException) as info:
                await bad.list_user_ids()
            assert info.value.status_code == 403
            assert not (await bad.capabilities()).available
        assert "admin-secret-xyz" not in repr(bad)

    try:
        run(go())
    finally:
        svc.stop()
    with pytest.raises(ValueError, match="access_key and secret_key"):
        RGWAdminClient("http://x", access_key="", secret_key="s")
