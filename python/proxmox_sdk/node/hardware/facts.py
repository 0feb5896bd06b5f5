"""The hardware facts ``discover_node`` returns (the shapes consumers such as proxbox-api
read): frozen dataclasses, every field optional but a NIC's name."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["ChassisFacts", "EthtoolFacts", "HardwareFacts", "NicFacts", "SystemFacts"]


@dataclass(frozen=True)
class SystemFacts:
    """The machine's identity (``dmidecode -t 1``, "System Information")."""

    manufacturer: str | None = None
    product_name: str | None = None
    serial_number: str | None = None
    uuid: str | None = None
    sku_number: str | None = None
    family: str | None = None
    version: str | None = None


@dataclass(frozen=True)
class ChassisFacts:
    """The enclosure (``dmidecode -t 3``, "Chassis Information"); ``height_u`` in rack
    units."""

    manufacturer: str | None = None
    type: str | None = None
    serial_number: str | None = None
    version: str | None = None
    asset_tag: str | None = None
    height_u: int | None = None
    sku_number: str | None = None


@dataclass(frozen=True)
class EthtoolFacts:
    """What ``ethtool <nic>`` reports of a link (absent values stay ``None``)."""

    speed_mbps: int | None = None
    duplex: str | None = None
    link_detected: bool | None = None
    port: str | None = None
    auto_negotiation: bool | None = None


@dataclass(frozen=True)
class NicFacts:
    """One interface of ``ip -o link show``, with its ``ethtool`` facts when read."""

    name: str
    mac_address: str | None = None
    mtu: int | None = None
    operstate: str | None = None
    kind: str | None = None
    ethtool: EthtoolFacts | None = None

    @property
    def speed_gbps(self) -> float | None:
        """The link speed in Gbit/s (``None`` when unknown)."""
        if self.ethtool is None or self.ethtool.speed_mbps is None:
            return None
        return self.ethtool.speed_mbps / 1000


@dataclass(frozen=True)
class HardwareFacts:
    """Everything ``discover_node`` found on one node."""

    system: SystemFacts
    chassis: ChassisFacts
    nics: tuple[NicFacts, ...] = field(default_factory=tuple)
