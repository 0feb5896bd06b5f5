"""The job configurations (``/config/verify``, ``/config/prune``, ``/config/sync``,
``/config/tape-backup-job``) as one list of :class:`~proxmox_sdk.pbs.models.PBSJob`.
Garbage collection is per datastore (``Datastores.usage``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from proxmox_sdk._response_utils import normalize_list
from proxmox_sdk.pbs import models as m

if TYPE_CHECKING:
    from proxmox_sdk.sdk.api import ProxmoxSDK

__all__ = ["Jobs"]

_JOB_PATHS: dict[m.JobType, str] = {
    "verify": "config/verify",
    "prune": "config/prune",
    "sync": "config/sync",
    "tape": "config/tape-backup-job",
}


class Jobs:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    async def list(self, job_type: m.JobType | None = None) -> list[m.PBSJob]:
        """Every job, or those of one type; ``"gc"`` is refused (``ValueError``)."""
        if job_type == "gc":
            raise ValueError("Use Datastores.usage(store).gc_status for GC state")
        if job_type is not None and job_type not in _JOB_PATHS:
            raise ValueError(f"job_type: expected one of {', '.join(_JOB_PATHS)}, got {job_type!r}")
        wanted = tuple(_JOB_PATHS) if job_type is None else (job_type,)
        jobs: list[m.PBSJob] = []
        for kind in wanted:
            for item in normalize_list(await self._sdk(_JOB_PATHS[kind]).get()):
                jobs.append(m.PBSJob.model_validate({**item, "job_type": kind}))
        return jobs
