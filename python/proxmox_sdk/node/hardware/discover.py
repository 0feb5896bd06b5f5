"""``discover_node``: run ``dmidecode``, ``ip`` and ``ethtool`` on a node over a connected
:class:`proxmox_sdk.ssh.RemoteSSHClient` and assemble :class:`HardwareFacts`.

Four commands per node (``dmidecode -t 1``, ``dmidecode -t 3``, ``ip -o link show``) plus
one ``ethtool <nic>`` per interface kept; a client with an allowlist must allow
``dmidecode``, ``ip`` and ``ethtool`` (``CommandNotAllowed`` otherwise, and discovery
stops). Connecting, credentials and retries are the caller's.
"""

from __future__ import annotations

import re

from proxmox_sdk.node.hardware.dmidecode import parse_dmidecode_chassis, parse_dmidecode_system
from proxmox_sdk.node.hardware.ethtool import is_valid_nic_name, parse_ethtool, parse_ip_link
from proxmox_sdk.node.hardware.facts import HardwareFacts, NicFacts
from proxmox_sdk.ssh import CommandNotAllowed, RemoteSSHClient

__all__ = ["DEFAULT_NIC_SKIP", "discover_node"]

#: Interfaces not worth an ``ethtool`` (nor a place in the result) on a Proxmox node: the
#: loopback, and the bridges, taps, veths, firewall links, bonds and tunnels PVE and
#: containers create.
DEFAULT_NIC_SKIP: re.Pattern[str] = re.compile(
    r"^(lo|docker\d+|veth.*|vmbr\d+|tap\d+i\d+|fwbr.*|fwln.*|fwpr.*|"
    r"bond\d+|virbr\d+|wg\d+)$"
)


async def discover_node(
    client: RemoteSSHClient,
    *,
    nic_skip: re.Pattern[str] = DEFAULT_NIC_SKIP,
) -> HardwareFacts:
    """The node's system, chassis and physical NICs. An ``ethtool`` that fails or exits
    non-zero (virtual and unsupported NICs) leaves that NIC without link facts."""
    system_out = await client.run(["dmidecode", "-t", "1"])
    chassis_out = await client.run(["dmidecode", "-t", "3"])
    links_out = await client.run(["ip", "-o", "link", "show"])
    nics: list[NicFacts] = []
    for nic in parse_ip_link(links_out.stdout):
        if nic_skip.match(nic.name) or not is_valid_nic_name(nic.name):
            continue
        try:
            out = await client.run(["ethtool", nic.name])
        except CommandNotAllowed:
            raise
        except Exception:
            nics.append(nic)
            continue
        link = parse_ethtool(out.stdout) if out.exit_code == 0 else None
        nics.append(
            NicFacts(
                name=nic.name,
                mac_address=nic.mac_address,
                mtu=nic.mtu,
                operstate=nic.operstate,
                kind=nic.kind,
                ethtool=link,
            )
        )
    return HardwareFacts(
        system=parse_dmidecode_system(system_out.stdout),
        chassis=parse_dmidecode_chassis(chassis_out.stdout),
        nics=tuple(nics),
    )
