"""The typed results of :mod:`proxmox_sdk.pbs` (Pydantic v2, as the original package's:
``model_validate``, field aliases for PBS's hyphenated keys, and extra keys kept, since PBS
answers carry more than any model names)."""

from __future__ import annotations

from typing import Any, Literal

try:
    from pydantic import BaseModel, ConfigDict, Field, field_validator
except ImportError as e:  # pragma: no cover - exercised by the packaging smoke test
    raise ImportError(
        "proxmox_sdk.pbs needs pydantic (v2) for its result models: pip install 'proxmox-sdk[pbs]'"
    ) from e

__all__ = [
    "BackupType",
    "GCStatus",
    "JobRunState",
    "JobType",
    "PBSBackupGroup",
    "PBSCPUInfo",
    "PBSDatastore",
    "PBSJob",
    "PBSMemoryInfo",
    "PBSNodeStatus",
    "PBSSnapshot",
    "PBSSnapshotFile",
    "PBSSnapshotVerification",
    "PBSVersion",
    "VerifyState",
]


class _PBSBase(BaseModel):
    """Extra keys are kept (PBS adds fields release by release); fields fill by name or
    by alias."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


class PBSVersion(_PBSBase):
    """``GET /version``."""

    version: str
    release: str | None = None
    repoid: str | None = None


class PBSCPUInfo(_PBSBase):
    cpus: int | None = None
    model: str | None = None


class PBSMemoryInfo(_PBSBase):
    total: int | None = None
    used: int | None = None
    free: int | None = None


class PBSNodeStatus(_PBSBase):
    """``GET /nodes/{node}/status``."""

    uptime: int | None = None
    cpu: float | None = None
    loadavg: list[float] | None = None
    memory: PBSMemoryInfo | None = None
    cpuinfo: PBSCPUInfo | None = None
    kversion: str | None = None
    boot_mode: dict[str, Any] | None = None


GCStatus = Literal["ok", "running", "error", "pending", "unknown"]


class PBSDatastore(_PBSBase):
    """An entry of ``GET /admin/datastore`` (its ``store`` is ``name``), or a datastore's
    status with its sizes (``Datastores.usage``)."""

    name: str = Field(alias="store")
    path: str | None = None
    comment: str | None = None
    total: int | None = None
    used: int | None = None
    avail: int | None = None
    history: list[float] | None = None
    estimated_full_date: int | None = Field(default=None, alias="estimated-full-date")
    gc_status: GCStatus | None = Field(default=None, alias="gc-status")


BackupType = Literal["vm", "ct", "host"]


class PBSBackupGroup(_PBSBase):
    """An entry of ``GET /admin/datastore/{store}/groups``."""

    backup_type: BackupType = Field(alias="backup-type")
    backup_id: str = Field(alias="backup-id")
    last_backup: int | None = Field(default=None, alias="last-backup")
    backup_count: int | None = Field(default=None, alias="backup-count")
    files: list[str] | None = None
    owner: str | None = None
    comment: str | None = None


VerifyState = Literal["ok", "failed", "none", "pending"]


class PBSSnapshotFile(_PBSBase):
    """One archive of a snapshot. PBS lists them by name (``"index.json.blob"``) or, in
    other releases, as objects with sizes; both read into this."""

    filename: str
    size: int | None = None
    crypt_mode: str | None = Field(default=None, alias="crypt-mode")


class PBSSnapshotVerification(_PBSBase):
    state: VerifyState | None = None
    upid: str | None = None


class PBSSnapshot(_PBSBase):
    """An entry of ``GET /admin/datastore/{store}/snapshots``."""

    backup_type: BackupType = Field(alias="backup-type")
    backup_id: str = Field(alias="backup-id")
    backup_time: int = Field(alias="backup-time")
    size: int | None = None
    owner: str | None = None
    protected: bool | None = None
    comment: str | None = None
    files: list[PBSSnapshotFile] | None = None
    verification: PBSSnapshotVerification | None = None
    fingerprint: str | None = None

    @field_validator("files", mode="before")
    @classmethod
    def _file_names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"filename": f} if isinstance(f, str) else f for f in value]
        return value


JobType = Literal["verify", "prune", "gc", "sync", "tape"]
JobRunState = Literal["ok", "error", "warning", "running", "unknown"]


class PBSJob(_PBSBase):
    """One job of ``/config/{verify,prune,sync,tape-backup-job}``, with its type."""

    job_type: JobType
    job_id: str = Field(alias="id")
    store: str | None = None
    schedule: str | None = None
    comment: str | None = None
    disable: bool | None = None
    last_run_upid: str | None = Field(default=None, alias="last-run-upid")
    last_run_state: JobRunState | None = Field(default=None, alias="last-run-state")
    last_run_endtime: int | None = Field(default=None, alias="last-run-endtime")
    next_run: int | None = Field(default=None, alias="next-run")
