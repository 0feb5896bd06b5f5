"""Builds an SMBIOS 3.0 table in the file format of ``dmidecode --dump-bin`` (entry point at
offset 0, structure table at offset 32), so that the real ``dmidecode --from-dump`` can
decode a machine's identity on a host whose firmware tables are not readable (a
container). The node-hardware tests run the real tool on these dumps."""

from __future__ import annotations

import struct
import uuid
from pathlib import Path


def _strings(*values: str) -> bytes:
    if not values:
        return b"\0\0"
    return b"".join(v.encode() + b"\0" for v in values) + b"\0"


def _system(
    handle: int,
    manufacturer: str,
    product: str,
    version: str,
    serial: str,
    system_uuid: uuid.UUID,
    sku: str,
    family: str,
) -> bytes:
    # Type 1, SMBIOS 2.4+ layout: 27 bytes; strings 1..6.
    body = struct.pack("<BBBB", 1, 2, 3, 4) + system_uuid.bytes_le + struct.pack("<BBB", 6, 5, 6)
    header = struct.pack("<BBH", 1, 4 + len(body), handle)
    return header + body + _strings(manufacturer, product, version, serial, sku, family)


def _chassis(
    handle: int,
    manufacturer: str,
    kind: int,
    version: str,
    serial: str,
    asset: str,
    height_u: int,
    sku: str,
) -> bytes:
    # Type 3, SMBIOS 2.7+ layout without contained elements: strings 1..5.
    body = struct.pack(
        "<BBBBBBBBBIBBBBB",
        1,  # manufacturer
        kind,  # type (0x17: rack mount chassis)
        2,  # version
        3,  # serial number
        4,  # asset tag
        3,
        3,
        3,  # boot-up, power supply, thermal state: safe
        3,  # security status: none
        0,  # OEM-defined
        height_u,
        2,  # power cords
        0,
        0,  # no contained elements
        5,  # SKU number
    )
    header = struct.pack("<BBH", 3, 4 + len(body), handle)
    return header + body + _strings(manufacturer, version, serial, asset, sku)


def _end(handle: int) -> bytes:
    return struct.pack("<BBH", 127, 4, handle) + b"\0\0"


def build(system: dict[str, object], chassis: dict[str, object]) -> bytes:
    table = (
        _system(0x0100, **system)  # type: ignore[arg-type]
        + _chassis(0x0300, **chassis)  # type: ignore[arg-type]
        + _end(0x7F00)
    )
    ep = bytearray(b"_SM3_" + bytes([0, 0x18, 3, 3, 0, 1, 0]) + struct.pack("<IQ", len(table), 32))
    ep[5] = (-sum(ep)) & 0xFF
    return bytes(ep) + b"\0" * (32 - len(ep)) + table


#: Two machines: a rack server and a small tower with the placeholder strings cheap
#: boards ship with.
MACHINES = {
    "rack": build(
        {
            "manufacturer": "Dell Inc.",
            "product": "PowerEdge R740",
            "version": "Not Specified",
            "serial": "7XJ2KQ2",
            "system_uuid": uuid.UUID("4c4c4544-0058-4a10-8032-b7c04f4b5132"),
            "sku": "SKU=0715;ModelName=PowerEdge R740",
            "family": "PowerEdge",
        },
        {
            "manufacturer": "Dell Inc.",
            "kind": 0x17,
            "version": "Not Specified",
            "serial": "7XJ2KQ2",
            "asset": "RACK-A12-U07",
            "height_u": 2,
            "sku": "Not Specified",
        },
    ),
    "tower": build(
        {
            "manufacturer": "To Be Filled By O.E.M.",
            "product": "To Be Filled By O.E.M.",
            "version": "To Be Filled By O.E.M.",
            "serial": "To Be Filled By O.E.M.",
            "system_uuid": uuid.UUID("03000200-0400-0500-0006-000700080009"),
            "sku": "Default string",
            "family": "To Be Filled By O.E.M.",
        },
        {
            "manufacturer": "To Be Filled By O.E.M.",
            "kind": 0x03,
            "version": "Default string",
            "serial": "Default string",
            "asset": "Default string",
            "height_u": 0,
            "sku": "Default string",
        },
    ),
}


def write(directory: Path) -> dict[str, Path]:
    """Writes each machine's dump as ``<name>.smbios`` under ``directory``."""
    out = {}
    for name, data in MACHINES.items():
        path = directory / f"{name}.smbios"
        path.write_bytes(data)
        out[name] = path
    return out
