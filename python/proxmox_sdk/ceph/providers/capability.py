"""``ProviderCapability``: what a direct Ceph provider can do, as a plan engine asks it."""

from __future__ import annotations

try:
    from pydantic import BaseModel, ConfigDict, Field
except ImportError as e:  # pragma: no cover
    raise ImportError("proxmox_sdk.ceph needs pydantic: pip install 'proxmox-sdk[ceph]'") from e

__all__ = ["ProviderCapability"]


class ProviderCapability(BaseModel):
    """``operations`` maps ``"{kind}:{action}"``, ``"{kind}:*"``, ``"{action}"`` and
    ``"{kind}"`` keys to booleans (looked up in that order); without an entry, reads follow
    ``read`` and any other action is unsupported, so a gate never opens by default."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    provider: str
    available: bool = False
    version: str | None = None
    read: bool = False
    write: bool = False
    metrics: bool = False
    operations: dict[str, bool] = Field(default_factory=dict)
    notes: list[str] = Field(default_factory=list)

    def supports(self, kind: str, action: str | None = None) -> bool:
        if not self.available:
            return False
        keys = [f"{kind}:{action}", f"{kind}:*", action] if action else []
        keys.append(kind)
        for key in keys:
            if key in self.operations:
                return self.operations[key]
        if action and action not in ("get", "list", "read"):
            return False
        return self.read
