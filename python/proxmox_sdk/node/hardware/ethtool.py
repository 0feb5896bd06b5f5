"""Parsers of ``ethtool <nic>`` and ``ip -o link show``, and the NIC-name check that keeps
anything odd out of an ``ethtool`` argv."""

from __future__ import annotations

import re

from proxmox_sdk.node.hardware.facts import EthtoolFacts, NicFacts

__all__ = ["is_valid_nic_name", "parse_ethtool", "parse_ip_link"]

_NIC_NAME = re.compile(r"[A-Za-z0-9._-]{1,15}")
_SPEED = re.compile(r"^(\d+)\s*([GMK]?)b/?s?$", re.IGNORECASE)
# `4: eth0: <FLAGS> mtu 1500 qdisc ... state UP ...\    link/ether 02:..:01 brd ...`; a
# name may carry `@peer` (veth pairs, VLANs on their parent).
_LINK = re.compile(
    r"^\d+:\s+(?P<name>[^:@\s]+)(?:@[^:\s]+)?:\s+<[^>]*>\s+mtu\s+(?P<mtu>\d+)\b.*?"
    r"\bstate\s+(?P<state>\S+)"
)
_KIND = re.compile(r"(?P<kind>link/[\w-]+)(?:\s+(?P<addr>(?!brd\b)\S+))?")


def is_valid_nic_name(name: str) -> bool:
    """Whether ``name`` is a Linux interface name safe to pass to ``ethtool``: at most 15
    characters of letters, digits, ``.``, ``_`` and ``-``."""
    # fullmatch: `$` would let a trailing newline through.
    return isinstance(name, str) and _NIC_NAME.fullmatch(name) is not None


def _speed_mbps(raw: str | None) -> int | None:
    match = _SPEED.match((raw or "").strip())
    if not match:
        return None  # `Unknown!`, absent
    n, unit = int(match.group(1)), match.group(2).upper()
    if unit == "G":
        return n * 1000
    if unit == "K":
        return max(1, n // 1000)
    return n


def _flag(raw: str | None) -> bool | None:
    value = (raw or "").strip().lower()
    if value in {"yes", "on", "true"}:
        return True
    if value in {"no", "off", "false"}:
        return False
    return None


def _known(raw: str | None) -> str | None:
    value = (raw or "").strip()
    return None if not value or value.lower().startswith("unknown") else value


def parse_ethtool(text: str) -> EthtoolFacts:
    """``ethtool <nic>`` output -> :class:`EthtoolFacts` (the ``Settings for`` line and
    the link-mode lists are ignored; ``Unknown!`` values read as ``None``)."""
    fields: dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.strip().partition(":")
        if sep and key and not line.startswith("Settings for"):
            fields.setdefault(key.strip(), value.strip())
    return EthtoolFacts(
        speed_mbps=_speed_mbps(fields.get("Speed")),
        duplex=_known(fields.get("Duplex")),
        link_detected=_flag(fields.get("Link detected")),
        port=_known(fields.get("Port")),
        auto_negotiation=_flag(fields.get("Auto-negotiation")),
    )


def parse_ip_link(text: str) -> list[NicFacts]:
    """``ip -o link show`` output -> one :class:`NicFacts` per interface (without
    ``ethtool`` facts); lines that are not interfaces are skipped."""
    nics: list[NicFacts] = []
    for line in text.splitlines():
        match = _LINK.match(line.strip())
        if not match:
            continue
        kind = _KIND.search(line[match.end() :])
        nics.append(
            NicFacts(
                name=match.group("name"),
                mac_address=kind.group("addr") if kind else None,
                mtu=int(match.group("mtu")),
                operstate=match.group("state"),
                kind=kind.group("kind") if kind else None,
            )
        )
    return nics
