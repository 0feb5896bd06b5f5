"""Shaping answers for the typed facades: the ``{"data": ...}`` envelope removed, any answer
as a list."""

from __future__ import annotations

from typing import Any, Literal

__all__ = ["normalize_list", "unwrap_data"]


def unwrap_data(data: Any) -> Any:
    """``{"data": x}`` -> ``x`` (the SDK already unwraps; proxies and recordings may not)."""
    if isinstance(data, dict) and len(data) == 1 and "data" in data:
        return data["data"]
    return data


def normalize_list(data: Any, *, dict_mode: Literal["values", "items"] = "values") -> list[Any]:
    """An answer as a list: a list as it is, ``None`` as ``[]``, a dict's values (or with
    ``dict_mode="items"`` ``[{"name": k, "value": v}, ...]``), anything else in a list."""
    data = unwrap_data(data)
    if data is None:
        return []
    if isinstance(data, list):
        return data
    if isinstance(data, dict):
        if dict_mode == "items":
            return [{"name": k, "value": v} for k, v in data.items()]
        return list(data.values())
    return [data]
