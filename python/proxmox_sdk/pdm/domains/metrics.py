"""``/remotes/metric-collection``: when metrics were last collected; collect now."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from proxmox_sdk._response_utils import normalize_list, unwrap_data
from proxmox_sdk.pdm import models as m

if TYPE_CHECKING:
    from proxmox_sdk.sdk.api import ProxmoxSDK

__all__ = ["MetricsDomain"]


class MetricsDomain:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    async def status(self) -> m.PDMMetricCollectionStatus:
        """The collection's state over all remotes (PDM reports one entry per remote; they
        stay as ``remotes``): the latest collection, ``ok`` or the first error."""
        entries = normalize_list(await self._sdk.remotes("metric-collection").status.get())
        errors = [e.get("error") for e in entries if e.get("error")]
        times = [t for e in entries if isinstance(t := e.get("last-collection"), int)]
        return m.PDMMetricCollectionStatus.model_validate(
            {
                "last-collection": max(times) if times else None,
                "enabled": True,
                "status": "error" if errors else "ok",
                "error": errors[0] if errors else None,
                "remotes": entries,
            }
        )

    async def trigger(self, remote: str | None = None) -> Any:
        """Collects now (from one remote if asked)."""
        params = {} if remote is None else {"remote": remote}
        return unwrap_data(await self._sdk.remotes("metric-collection").trigger.post(**params))
