"""Across remotes: resources, their status, subscriptions."""

from __future__ import annotations

import builtins
from typing import TYPE_CHECKING, Any

from proxmox_sdk._response_utils import normalize_list
from proxmox_sdk.pdm import models as m

if TYPE_CHECKING:
    from proxmox_sdk.sdk.api import ProxmoxSDK

__all__ = ["GlobalResourcesDomain", "SubscriptionsDomain"]

# PDM's resource-type filter, by the names callers use (`qemu`, `pve-qemu`, ...).
_TYPES = ("storage", "qemu", "lxc", "network", "datastore", "node")


def _resource_type(kind: str) -> str:
    short = kind.split("-", 1)[-1] if kind.startswith(("pve-", "pbs-")) else kind
    if short not in _TYPES:
        raise ValueError(f"type: expected one of {', '.join(_TYPES)}, got {kind!r}")
    return short


class GlobalResourcesDomain:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    async def _groups(self, params: dict[str, Any]) -> builtins.list[dict[str, Any]]:
        return normalize_list(await self._sdk.resources.list.get(**params))

    async def list(
        self, *, type: str | None = None, view: str | None = None
    ) -> builtins.list[m.PDMResource]:
        """Every remote's resources, flattened (PDM groups them by remote), of one
        ``type`` (``qemu``, ``lxc``, ``node``, ``storage``, ``datastore``, ``network``) or
        ``view`` if asked."""
        params: dict[str, Any] = {}
        if type is not None:
            params["resource-type"] = _resource_type(type)
        if view is not None:
            params["view"] = view
        out = []
        for group in await self._groups(params):
            for resource in group.get("resources") or []:
                out.append(
                    m.PDMResource.model_validate({"remote": group.get("remote"), **resource})
                )
        return out

    async def status(self) -> builtins.list[m.PDMResourceStatus]:
        """Whether each remote answered PDM's last collection: ``online``, or ``error`` with
        PDM's message."""
        out = []
        for group in await self._groups({}):
            error = group.get("error")
            out.append(
                m.PDMResourceStatus.model_validate(
                    {
                        "remote": group.get("remote"),
                        "status": "error" if error else "online",
                        "error": error,
                    }
                )
            )
        return out


class SubscriptionsDomain:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    async def list(self) -> builtins.list[m.PDMSubscription]:
        """Each remote's subscription (its state, and what its first node reports)."""
        out = []
        for entry in normalize_list(await self._sdk.resources.subscription.get()):
            nodes = entry.get("node-status") or {}
            first: Any = next(iter(nodes.values()), {}) if isinstance(nodes, dict) else {}
            payload = {**(first if isinstance(first, dict) else {}), **entry}
            payload["status"] = entry.get("state", payload.get("status"))
            out.append(m.PDMSubscription.model_validate(payload))
        return out
