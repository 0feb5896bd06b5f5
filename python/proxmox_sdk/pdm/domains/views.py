"""``/config/views``: named filters over the resources."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from proxmox_sdk._response_utils import normalize_list, unwrap_data
from proxmox_sdk.pdm import models as m

if TYPE_CHECKING:
    from proxmox_sdk.sdk.api import ProxmoxSDK

__all__ = ["ViewsDomain"]


def _view(data: dict[str, Any]) -> m.PDMView:
    """PDM's ``include``/``exclude`` lists also read as ``rules``."""
    rules = [
        {"type": kind, "pattern": str(p)}
        for kind in ("include", "exclude")
        for p in (data.get(kind) or [])
    ]
    payload = dict(data)
    payload.setdefault("rules", rules)
    return m.PDMView.model_validate(payload)


class ViewsDomain:
    def __init__(self, sdk: ProxmoxSDK) -> None:
        self._sdk = sdk

    async def list(self) -> list[m.PDMView]:
        return [_view(item) for item in normalize_list(await self._sdk.config.views.get())]

    async def get(self, view_id: str) -> m.PDMView:
        data = unwrap_data(await self._sdk.config.views(view_id).get())
        return _view({"id": view_id, **(data if isinstance(data, dict) else {})})

    async def create(self, *, id: str, **fields: Any) -> Any:
        return unwrap_data(await self._sdk.config.views.post(id=id, **fields))

    async def update(self, view_id: str, **changes: Any) -> Any:
        return unwrap_data(await self._sdk.config.views(view_id).put(**changes))

    async def delete(self, view_id: str) -> Any:
        return unwrap_data(await self._sdk.config.views(view_id).delete())
