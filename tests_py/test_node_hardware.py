"""``proxmox_sdk.node.hardware``: the parsers against output the real ``dmidecode``,
``ethtool`` and ``ip`` printed (fixtures captured with the tools; dmidecode decoding SMBIOS
tables built by ``smbios_dump``), and ``discover_node`` end to end over
``RemoteSSHClient`` against the test sshd running the real commands."""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import smbios_dump
from proxmox_sdk.node.hardware import (
    DEFAULT_NIC_SKIP,
    ChassisFacts,
    EthtoolFacts,
    HardwareFacts,
    NicFacts,
    SystemFacts,
    discover_node,
    is_valid_nic_name,
    parse_dmidecode_chassis,
    parse_dmidecode_system,
    parse_ethtool,
    parse_ip_link,
)
from proxmox_sdk.ssh import CommandNotAllowed, RemoteSSHClient

FIXTURES = Path(__file__).parent / "fixtures" / "hardware"
DMIDECODE = shutil.which("dmidecode") or "/usr/sbin/dmidecode"


def fixture(name: str) -> str:
    return (FIXTURES / name).read_text()


def test_dmidecode_system_and_chassis() -> None:
    assert parse_dmidecode_system(fixture("dmidecode-rack-t1.txt")) == SystemFacts(
        manufacturer="Dell Inc.",
        product_name="PowerEdge R740",
        serial_number="7XJ2KQ2",
        uuid="4c4c4544-0058-4a10-8032-b7c04f4b5132",
        sku_number="SKU=0715;ModelName=PowerEdge R740",
        family="PowerEdge",
        version=None,
    )
    assert parse_dmidecode_chassis(fixture("dmidecode-rack-t3.txt")) == ChassisFacts(
        manufacturer="Dell Inc.",
        type="Rack Mount Chassis",
        serial_number="7XJ2KQ2",
        version=None,
        asset_tag="RACK-A12-U07",
        height_u=2,
        sku_number=None,
    )
    # The placeholder strings cheap boards ship with read as unknown.
    tower = parse_dmidecode_system(fixture("dmidecode-tower-t1.txt"))
    assert tower == SystemFacts(uuid="03000200-0400-0500-0006-000700080009")
    chassis = parse_dmidecode_chassis(fixture("dmidecode-tower-t3.txt"))
    assert (chassis.type, chassis.manufacturer, chassis.height_u) == ("Desktop", None, None)
    # No block of that kind (dmidecode without access to the tables): empty facts.
    denied = "# dmidecode 3.4\nScanning /dev/mem for entry point.\n/dev/mem: No such file\n"
    assert parse_dmidecode_system(denied) == SystemFacts()
    assert parse_dmidecode_chassis("") == ChassisFacts()


@pytest.mark.skipif(
    not Path(DMIDECODE).exists(), reason="dmidecode is installed by make system-deps"
)
def test_fixtures_are_what_dmidecode_prints(tmp_path: Path) -> None:
    """The committed dmidecode fixtures are the real tool's output for smbios_dump's
    tables (so the parsers are tested against dmidecode, not against our idea of it)."""
    for name, dump in smbios_dump.write(tmp_path).items():
        for kind in ("1", "3"):
            out = subprocess.run(
                [DMIDECODE, "--from-dump", str(dump), "-t", kind],
                capture_output=True,
                text=True,
                check=True,
            ).stdout.replace(str(dump), f"/run/{name}.smbios")
            assert out == fixture(f"dmidecode-{name}-t{kind}.txt"), (name, kind)


def test_ethtool() -> None:
    assert parse_ethtool(fixture("ethtool-veth.txt")) == EthtoolFacts(
        speed_mbps=10000,
        duplex="Full",
        link_detected=False,
        port="Twisted Pair",
        auto_negotiation=False,
    )
    # A virtual NIC: `Speed: Unknown!`, `Duplex: Unknown! (255)`.
    assert parse_ethtool(fixture("ethtool-eth0.txt")) == EthtoolFacts(
        speed_mbps=None, duplex=None, link_detected=True, port="Other", auto_negotiation=False
    )
    assert parse_ethtool(fixture("ethtool-lo.txt")) == EthtoolFacts(link_detected=True)
    assert parse_ethtool("Speed: 25Gb/s\nDuplex: Full\n").speed_mbps == 25000
    assert parse_ethtool("") == EthtoolFacts()


def test_ip_link_and_names() -> None:
    nics = parse_ip_link(fixture("ip-o-link.txt"))
    by_name = {n.name: n for n in nics}
    assert list(by_name) == ["lo", "ifb0", "ifb1", "eth0", "vmbr0", "eno1", "veth100i0"]
    assert by_name["lo"] == NicFacts(
        name="lo",
        mac_address="00:00:00:00:00:00",
        mtu=65536,
        operstate="UNKNOWN",
        kind="link/loopback",
    )
    eth0 = by_name["eth0"]
    assert (eth0.mac_address, eth0.mtu, eth0.operstate, eth0.kind) == (
        "02:fc:00:00:00:01",
        1400,
        "UP",
        "link/ether",
    )
    assert by_name["eno1"].name == "eno1", "the @peer suffix is not part of the name"
    assert eth0.speed_gbps is None
    assert NicFacts("x", ethtool=EthtoolFacts(speed_mbps=25000)).speed_gbps == 25.0
    assert parse_ip_link("garbage\n\n") == []
    for ok in ("eth0", "eno1", "enp3s0f1", "bond0.100", "vmbr0_v2"):
        assert is_valid_nic_name(ok), ok
    for bad in ("", "a" * 16, "eth0;rm", "eth 0", "$(id)", "eth0\n"):
        assert not is_valid_nic_name(bad), bad
    for skipped in ("lo", "vmbr0", "tap100i0", "veth100i0", "fwbr100i0", "bond0", "wg0"):
        assert DEFAULT_NIC_SKIP.match(skipped), skipped
    for kept in ("eth0", "eno1", "enp3s0"):
        assert not DEFAULT_NIC_SKIP.match(kept), kept


@pytest.fixture
def node_tools(sshd: Any, fake_pvesh: Any, tmp_path: Path) -> Any:
    """The node's `dmidecode` reads the rack server's SMBIOS tables (this host's are not
    readable in a container); `ip` and `ethtool` are the real ones."""
    if not Path(DMIDECODE).exists():
        pytest.fail("dmidecode is missing: `make system-deps` installs it (Debian dmidecode)")
    dump = smbios_dump.write(tmp_path)["rack"]
    tmp_path.chmod(0o755)
    wrapper = fake_pvesh.bin_dir / "dmidecode"
    wrapper.write_text(f'#!/bin/sh\nexec {DMIDECODE} --from-dump {dump} "$@"\n')
    wrapper.chmod(0o755)
    yield sshd
    wrapper.unlink()


def test_discover_node_over_ssh(node_tools: Any) -> None:
    sshd = node_tools
    expected_links = parse_ip_link(
        subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    )

    async def go() -> HardwareFacts:
        async with RemoteSSHClient(
            "127.0.0.1",
            port=sshd.port,
            username=sshd.user,
            private_key=sshd.key.read_text(),
            known_host_fingerprint=sshd.host_fingerprint,
            command_allowlist=["dmidecode", "ip", "ethtool"],
        ) as ssh:
            return await discover_node(ssh)

    facts = asyncio.run(go())
    assert facts.system.product_name == "PowerEdge R740"
    assert facts.chassis.height_u == 2
    kept = [n.name for n in expected_links if not DEFAULT_NIC_SKIP.match(n.name)]
    assert [n.name for n in facts.nics] == kept
    eth0 = next(n for n in facts.nics if n.name == "eth0")
    assert eth0.ethtool is not None and eth0.ethtool.link_detected is True

    async def narrowed() -> None:
        async with RemoteSSHClient(
            "127.0.0.1",
            port=sshd.port,
            username=sshd.user,
            private_key=sshd.key.read_text(),
            known_host_fingerprint=sshd.host_fingerprint,
            command_allowlist=["dmidecode", "ip"],
        ) as ssh:
            # A custom skip pattern keeps everything but lo.
            with pytest.raises(CommandNotAllowed, match="ethtool"):
                await discover_node(ssh, nic_skip=re.compile(r"^lo$"))

    asyncio.run(narrowed())
