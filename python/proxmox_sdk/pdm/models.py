"""The typed results of :mod:`proxmox_sdk.pdm` (Pydantic v2, as the original package's:
the same model names and fields; extra keys kept)."""

from __future__ import annotations

from typing import Any, Literal

try:
    from pydantic import BaseModel, ConfigDict, Field, field_validator
except ImportError as e:  # pragma: no cover - exercised by the packaging smoke test
    raise ImportError(
        "proxmox_sdk.pdm needs pydantic (v2) for its result models: pip install 'proxmox-sdk[pdm]'"
    ) from e

__all__ = [
    "GuestStatus",
    "GuestType",
    "PDMACLEntry",
    "PDMAPIToken",
    "PDMGuest",
    "PDMGuestConfig",
    "PDMMetricCollectionStatus",
    "PDMNode",
    "PDMPBSDatastore",
    "PDMPBSSnapshot",
    "PDMRRDData",
    "PDMRemote",
    "PDMRemoteNode",
    "PDMRemoteVersion",
    "PDMResource",
    "PDMResourceStatus",
    "PDMSubscription",
    "PDMTFAEntry",
    "PDMTask",
    "PDMTaskStatus",
    "PDMUser",
    "PDMVersion",
    "PDMView",
    "PDMViewRule",
    "RemoteType",
]


class _PDMBase(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


class PDMVersion(_PDMBase):
    version: str
    release: str | None = None
    repoid: str | None = None


RemoteType = Literal["pve", "pbs"]


def _node_entry(item: Any) -> Any:
    """A node as PDM writes it: an address, or a property string
    (``hostname=10.0.0.1,fingerprint=AA:...``)."""
    if not isinstance(item, str):
        return item
    if "=" not in item:
        return {"hostname": item}
    fields: dict[str, str] = {}
    for part in item.split(","):
        key, _, value = part.partition("=")
        fields[key.strip()] = value.strip()
    return fields


class PDMRemoteNode(_PDMBase):
    """One node of a remote: its address and certificate fingerprint."""

    hostname: str
    fingerprint: str | None = None


class PDMRemote(_PDMBase):
    """A registered remote (``GET /remotes/remote``)."""

    id: str
    type: RemoteType
    nodes: list[PDMRemoteNode] | None = None
    authid: str | None = None
    token: str | None = None
    fingerprint: str | None = None
    web_url: str | None = Field(default=None, alias="web-url")

    @field_validator("nodes", mode="before")
    @classmethod
    def normalize_node_addresses(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [_node_entry(item) for item in value]


class PDMRemoteVersion(_PDMBase):
    version: str
    release: str | None = None
    repoid: str | None = None


GuestType = Literal["qemu", "lxc"]
GuestStatus = Literal["running", "stopped", "paused", "suspended", "unknown"]


class PDMGuest(_PDMBase):
    """A VM or container of a PVE remote."""

    remote: str
    vmid: int
    name: str | None = None
    type: GuestType | None = None
    status: GuestStatus | None = None
    node: str | None = None
    cpu: float | None = None
    cpus: int | None = None
    mem: int | None = None
    maxmem: int | None = None
    disk: int | None = None
    maxdisk: int | None = None
    uptime: int | None = None
    tags: str | None = None
    template: bool | None = None
    lock: str | None = None


class PDMGuestConfig(_PDMBase):
    """A guest's configuration (its keys vary with the guest type; all are kept)."""

    digest: str | None = None
    name: str | None = None
    cores: int | None = None
    sockets: int | None = None
    memory: int | None = None
    ostype: str | None = None
    boot: str | None = None
    onboot: bool | None = None


class PDMNode(_PDMBase):
    remote: str
    node: str
    status: str | None = None
    type: str | None = None
    cpu: float | None = None
    maxcpu: int | None = None
    mem: int | None = None
    maxmem: int | None = None
    uptime: int | None = None
    level: str | None = None


class PDMTask(_PDMBase):
    upid: str = Field(alias="upid")
    node: str | None = None
    type: str | None = None
    id: str | None = None
    user: str | None = None
    starttime: int | None = None
    endtime: int | None = None
    status: str | None = None
    exitstatus: str | None = None


class PDMTaskStatus(_PDMBase):
    upid: str
    node: str | None = None
    status: str | None = None
    exitstatus: str | None = None
    starttime: int | None = None
    endtime: int | None = None
    type: str | None = None


class PDMRRDData(_PDMBase):
    time: int | None = None
    cpu: float | None = None
    mem: float | None = None
    maxmem: float | None = None
    disk: float | None = None
    maxdisk: float | None = None
    netin: float | None = None
    netout: float | None = None


class PDMPBSDatastore(_PDMBase):
    remote: str
    store: str
    total: int | None = None
    used: int | None = None
    avail: int | None = None
    comment: str | None = None


class PDMPBSSnapshot(_PDMBase):
    remote: str
    store: str
    namespace: str | None = None
    backup_type: str = Field(alias="backup-type")
    backup_id: str = Field(alias="backup-id")
    backup_time: int = Field(alias="backup-time")
    size: int | None = None
    owner: str | None = None
    protected: bool | None = None


class PDMResource(_PDMBase):
    """One resource of one remote (``GET /resources/list``, flattened)."""

    remote: str
    type: str
    id: str
    name: str | None = None
    node: str | None = None
    status: str | None = None
    cpu: float | None = None
    mem: int | None = None
    maxmem: int | None = None
    disk: int | None = None
    maxdisk: int | None = None


class PDMResourceStatus(_PDMBase):
    remote: str
    status: str | None = None
    error: str | None = None


class PDMSubscription(_PDMBase):
    remote: str
    status: str | None = None
    productname: str | None = None
    serverid: str | None = None
    checktime: int | None = None
    nexttime: int | None = None
    level: str | None = None
    message: str | None = None


class PDMMetricCollectionStatus(_PDMBase):
    last_collection: int | None = Field(default=None, alias="last-collection")
    enabled: bool | None = None
    status: str | None = None
    error: str | None = None


class PDMUser(_PDMBase):
    userid: str
    comment: str | None = None
    enable: bool | None = None
    expire: int | None = None
    firstname: str | None = None
    lastname: str | None = None
    email: str | None = None


class PDMACLEntry(_PDMBase):
    path: str
    type: str
    ugid: str
    roleid: str
    propagate: bool | None = None


class PDMTFAEntry(_PDMBase):
    id: str
    type: str
    description: str | None = None
    enable: bool | None = None
    created: int | None = None


class PDMAPIToken(_PDMBase):
    tokenid: str
    comment: str | None = None
    expire: int | None = None
    privsep: bool | None = None


class PDMViewRule(_PDMBase):
    type: Literal["include", "exclude"]
    pattern: str
    field: str | None = None


class PDMView(_PDMBase):
    """A view (PDM's ``include``/``exclude`` rules are kept as they are, and read as
    ``rules`` too)."""

    id: str
    name: str | None = None
    comment: str | None = None
    rules: list[PDMViewRule] | None = None
    config: dict[str, Any] | None = None
