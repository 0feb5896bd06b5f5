"""The default datacenter of the PDM mock, in the original package's seed shape."""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["get_default_pdm_seed"]

_SEED: dict[str, Any] | None = None


def get_default_pdm_seed() -> dict[str, Any]:
    """A fresh copy of the default seed: 3 remotes, 16 VMs, 5 containers, 2 datastores,
    51 snapshots, 3 users, 5 ACL entries, 2 views (the native mock's own default)."""
    global _SEED
    if _SEED is None:
        from proxmox_sdk import _native

        client = _native.Client.mock("latest", "pdm-default-seed", None, False, "PDM")
        _SEED = client.store.pdm_seed()
    return copy.deepcopy(_SEED)
