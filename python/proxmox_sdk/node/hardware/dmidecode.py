"""Parsers of ``dmidecode -t 1`` and ``dmidecode -t 3``.

dmidecode prints a banner (``# dmidecode 3.4``, ``SMBIOS 3.3.0 present.``), then one block
per structure: ``Handle 0x0100, DMI type 1, 27 bytes``, the block's title on the next line,
and its fields indented by a tab (``\\tManufacturer: Dell Inc.``), up to a blank line.
Fields indented twice belong to a list under the field before and are skipped. The first
block of the wanted title is used (some machines report two chassis). The placeholders
firmware vendors leave (``Not Specified``, ``To Be Filled By O.E.M.``, ``Default string``,
...) read as ``None``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from proxmox_sdk.node.hardware.facts import ChassisFacts, SystemFacts

__all__ = ["parse_dmidecode_chassis", "parse_dmidecode_system"]

_PLACEHOLDERS = frozenset(
    {
        "",
        "not specified",
        "not present",
        "not available",
        "to be filled by o.e.m.",
        "to be filled by oem",
        "system manufacturer",
        "system product name",
        "system serial number",
        "system version",
        "default string",
        "0",
        "none",
        "unknown",
    }
)
_HANDLE = re.compile(r"^Handle 0x[0-9A-Fa-f]+,")
_HEIGHT = re.compile(r"(\d+)\s*U\b", re.IGNORECASE)


def _value(raw: str | None) -> str | None:
    if raw is None:
        return None
    value = raw.strip()
    return None if value.lower() in _PLACEHOLDERS else value


def _blocks(text: str) -> Iterator[tuple[str, dict[str, str]]]:
    """``(title, fields)`` of every structure block."""
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        if not _HANDLE.match(lines[i]):
            i += 1
            continue
        title = lines[i + 1].strip() if i + 1 < len(lines) else ""
        fields: dict[str, str] = {}
        i += 2
        while i < len(lines) and lines[i].strip():
            line = lines[i]
            # One level of indentation is a field; two are items of the field above.
            if line.startswith(("\t\t", "        ")) or not line.startswith(("\t", " ")):
                i += 1
                continue
            key, sep, val = line.strip().partition(":")
            if sep:
                fields.setdefault(key.strip(), val.strip())
            i += 1
        if title:
            yield title, fields


def _first(text: str, title: str) -> dict[str, str] | None:
    return next((f for t, f in _blocks(text) if t == title), None)


def parse_dmidecode_system(text: str) -> SystemFacts:
    """``dmidecode -t 1`` output -> :class:`SystemFacts` (empty facts without the block)."""
    f = _first(text, "System Information")
    if f is None:
        return SystemFacts()
    return SystemFacts(
        manufacturer=_value(f.get("Manufacturer")),
        product_name=_value(f.get("Product Name")),
        serial_number=_value(f.get("Serial Number")),
        uuid=_value(f.get("UUID")),
        sku_number=_value(f.get("SKU Number")),
        family=_value(f.get("Family")),
        version=_value(f.get("Version")),
    )


def _height(raw: str | None) -> int | None:
    match = _HEIGHT.search(raw or "")
    return int(match.group(1)) if match else None


def parse_dmidecode_chassis(text: str) -> ChassisFacts:
    """``dmidecode -t 3`` output -> :class:`ChassisFacts` (empty facts without the block)."""
    f = _first(text, "Chassis Information")
    if f is None:
        return ChassisFacts()
    return ChassisFacts(
        manufacturer=_value(f.get("Manufacturer")),
        type=_value(f.get("Type")),
        serial_number=_value(f.get("Serial Number")),
        version=_value(f.get("Version")),
        asset_tag=_value(f.get("Asset Tag")),
        height_u=_height(f.get("Height")),
        sku_number=_value(f.get("SKU Number")),
    )
