"""Every product end to end: the SDK's mock of PBS, PMG and PDM answers from that product's
schema (not PVE's), the server serves each with its auth (ticket cookie, token header, PMG
without tokens), and the HTTPS backend sends each product's token header to our server in
that product's mode."""

from __future__ import annotations

import asyncio
import subprocess
import sys

import pytest
from proxmox_sdk import ProxmoxSDK, SyncProxmoxSDK, schema
from proxmox_sdk.sdk.api import isolated_namespace
from proxmox_sdk.sdk.backends.mock import MockBackend
from proxmox_sdk.sdk.exceptions import AuthenticationError, ResourceException
from proxmox_sdk.server import serve


def test_each_service_has_its_own_schema() -> None:
    assert schema.available_versions("PBS") == ["4"]
    assert schema.available_versions("PMG") == ["6.3"]
    assert schema.available_versions("PDM") == ["1"]
    pbs = schema.load_proxmox_generated_openapi(service="PBS")
    assert pbs["info"]["title"] == "Proxmox Backup Server API"
    assert "/admin/datastore" in pbs["paths"]
    assert "PBSAPIToken" in pbs["components"]["securitySchemes"]
    pmg = schema.load_proxmox_generated_openapi(service="pmg")
    assert "PMGAPIToken" not in pmg["components"]["securitySchemes"], "PMG has no API tokens"
    assert schema.resolve("/nodes/localhost/tasks", service="PBS") == (
        "/nodes/{node}/tasks",
        {"node": "localhost"},
    )
    with pytest.raises(ValueError, match="unknown service 'PXE'"):
        schema.available_versions("PXE")


def test_mock_of_each_service() -> None:
    pbs = SyncProxmoxSDK.mock(service="PBS", mock_namespace=isolated_namespace("svc"))
    assert pbs.service == "PBS" and pbs.schema_version == "4"
    stores = pbs.admin.datastore.get()
    assert [s["store"] for s in stores] == ["backup", "offsite"]
    # PVE's paths are not PBS's.
    with pytest.raises(ResourceException) as info:
        pbs.nodes("pve1").qemu.get()
    assert info.value.status_code == 501
    pdm = SyncProxmoxSDK.mock(service="PDM", mock_namespace=isolated_namespace("svc"))
    assert len(pdm.remotes.remote.get()) == 3
    pmg = SyncProxmoxSDK.mock(service="PMG", mock_namespace=isolated_namespace("svc"))
    assert {d["domain"] for d in pmg.config.domains.get()} == {"example.com", "example.org"}

    backend = MockBackend(service="PBS", namespace=isolated_namespace("svc"))
    out = asyncio.run(backend.request("GET", "/api2/json/admin/datastore"))
    assert len(out) == 2


def test_async_mock_of_pbs() -> None:
    async def go() -> list[str]:
        async with ProxmoxSDK.mock(service="PBS", mock_namespace=isolated_namespace("svc")) as px:
            snaps = await px.admin.datastore("backup").snapshots.get(**{"backup-type": "vm"})
            return sorted({s["backup-id"] for s in snaps})

    assert asyncio.run(go()) == ["100"]


@pytest.mark.parametrize(
    ("service", "path", "check"),
    [
        ("PBS", "admin/datastore", lambda v: len(v) == 2),
        ("PDM", "resources/list", lambda v: len(v) == 3),
        ("PMG", "config/domains", lambda v: len(v) == 2),
    ],
)
def test_https_backend_against_our_server_in_each_mode(service: str, path: str, check) -> None:
    with serve(tls=True, password="pw-1", service=service) as srv:
        px = SyncProxmoxSDK(
            host=srv.url,
            service=service,
            user="root@pam",
            password="pw-1",
            fingerprint=srv.fingerprint,
        )
        assert check(px(path).get())
        # Ticket login worked with the product's cookie; a wrong password is refused.
        bad = SyncProxmoxSDK(
            host=srv.url,
            service=service,
            user="root@pam",
            password="nope",
            fingerprint=srv.fingerprint,
        )
        with pytest.raises(AuthenticationError, match="401"):
            bad(path).get()


def test_token_headers_per_service() -> None:
    for service, sep in (("PBS", ":"), ("PDM", ":"), ("PVE", "=")):
        with serve(password="pw-2", service=service) as srv:
            root = SyncProxmoxSDK(host=srv.url, service=service, user="root@pam", password="pw-2")
            created = root.access.users("root@pam").token("ci").post()
            secret = created["value"]
            tok = SyncProxmoxSDK(
                host=srv.url, service=service, user="root@pam", token_name="ci", token_value=secret
            )
            assert tok.version.get()["version"]
            # The header really is the product's (a PVE-style header is refused by PBS).
            import httpx

            prefix = {"PBS": "PBSAPIToken", "PDM": "PDMAPIToken", "PVE": "PVEAPIToken"}[service]
            good = httpx.get(
                f"{srv.url}/api2/json/version",
                headers={"Authorization": f"{prefix}=root@pam!ci{sep}{secret}"},
            )
            assert good.status_code == 200, (service, good.text)
            if service != "PVE":
                wrong = httpx.get(
                    f"{srv.url}/api2/json/version",
                    headers={"Authorization": f"PVEAPIToken=root@pam!ci={secret}"},
                )
                assert wrong.status_code == 401


def test_pmg_refuses_tokens_before_sending() -> None:
    with pytest.raises(ValueError, match="PMG has no API tokens"):
        SyncProxmoxSDK(
            host="pmg.example", service="PMG", user="root@pam", token_name="a", token_value="b"
        )


def test_server_and_cli_take_service() -> None:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "proxmox_sdk.cli",
            "--service",
            "PBS",
            "get",
            "/admin/datastore",
            "-o",
            "json",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    assert '"backup"' in out.stdout
    help_text = subprocess.run(
        [sys.executable, "-m", "proxmox_sdk.server", "--help"], capture_output=True, text=True
    ).stdout
    assert "--service" in help_text and "PDM 8443" in help_text
