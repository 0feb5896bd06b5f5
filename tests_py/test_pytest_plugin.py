"""The pytest plugin as a user's suite meets it: the mock fixtures, the server fixtures
(function and session scope, trusted by fingerprint and by CA bundle) and the
``proxmox_mock_data`` marker."""

from __future__ import annotations

import asyncio
import json
import ssl
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest

SEED = {"/nodes/pve1/qemu/150/config": {"name": "seeded", "memory": 1024}}


def _names(guests: list[dict[str, Any]]) -> dict[int, str]:
    return {g["vmid"]: g.get("name", "") for g in guests}


@pytest.mark.proxmox_mock_data(SEED)
def test_marker_seeds_the_sync_mock(proxmox_mock_sync: Any) -> None:
    assert _names(proxmox_mock_sync.nodes("pve1").qemu.get()) == {150: "seeded"}


@pytest.mark.proxmox_mock_data(SEED)
def test_marker_seeds_the_async_mock(proxmox_mock: Any) -> None:
    async def main() -> list[dict[str, Any]]:
        return await proxmox_mock.nodes("pve1").qemu.get()  # type: ignore[no-any-return]

    assert _names(asyncio.run(main())) == {150: "seeded"}


def test_marker_takes_a_file(pytester: pytest.Pytester, tmp_path: Path) -> None:
    seed = tmp_path / "seed.yaml"
    seed.write_text("/nodes/pve1/qemu/151/config:\n  name: from-yaml\n")
    pytester.makepyfile(
        f"""
        import pytest

        @pytest.mark.proxmox_mock_data({str(seed)!r})
        def test_seeded(proxmox_mock_sync):
            guests = proxmox_mock_sync.nodes("pve1").qemu.get()
            assert [g["name"] for g in guests] == ["from-yaml"]

        @pytest.mark.proxmox_mock_data(42)
        def test_refused(proxmox_mock_sync):
            pass
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*proxmox_mock_data: expected a mapping*got int*"])


@pytest.mark.proxmox_mock_data(SEED)
def test_server_fixture_fingerprint_ca_bundle_and_credentials(proxmox_server: Any) -> None:
    srv = proxmox_server
    assert srv.url == f"https://{srv.host}" and srv.user == "root@pam" and srv.password
    # The SDK pinned by fingerprint, logged in with the credentials.
    sdk = srv.sync_sdk()
    assert _names(sdk.nodes("pve1").qemu.get()) == {150: "seeded"}
    sdk.close()
    # Any HTTP client, trusting the CA bundle (certificate checks on, host name checked).
    context = ssl.create_default_context(cafile=srv.ca_bundle)
    login = urllib.parse.urlencode({"username": srv.user, "password": srv.password}).encode()
    with urllib.request.urlopen(f"{srv.url}/api2/json/access/ticket", login, context=context) as r:
        assert json.loads(r.read())["data"]["ticket"].startswith("PVE:root@pam:")
    # Without it, the certificate is refused.
    with pytest.raises(OSError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(f"{srv.url}/api2/json/version", context=ssl.create_default_context())

    async def main() -> Any:
        px = srv.sdk()
        try:
            return await px.version.get()
        finally:
            await px.close()

    assert asyncio.run(main())["release"]


_SESSION_URLS: set[str] = set()


@pytest.mark.parametrize("round_", [1, 2])
def test_session_server_is_one_for_the_session(proxmox_server_session: Any, round_: int) -> None:
    _SESSION_URLS.add(proxmox_server_session.url)
    assert len(_SESSION_URLS) == 1
    sdk = proxmox_server_session.sync_sdk()
    assert sdk.version.get()["release"]
    sdk.close()
