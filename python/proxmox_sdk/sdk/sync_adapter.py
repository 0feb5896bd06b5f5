"""Blocking access to the async facades' domain helpers (``SyncPBSClient.datastores``...)."""

from __future__ import annotations

import asyncio
import functools
from inspect import isawaitable
from typing import Any

__all__ = ["BlockingDomainProxy"]


class BlockingDomainProxy:
    """Exposes the async methods of ``target`` as blocking ones run on ``loop``; nested
    domain objects (``pdm.access.users``) are wrapped the same way."""

    def __init__(self, loop: asyncio.AbstractEventLoop, target: Any) -> None:
        self._loop = loop
        self._target = target

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._target, name)
        if not callable(attr):
            if hasattr(attr, "__dict__") and not isinstance(attr, type):
                return BlockingDomainProxy(self._loop, attr)
            return attr

        @functools.wraps(attr)
        def blocking(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            if isawaitable(result):
                return self._loop.run_until_complete(result)
            return result

        return blocking

    def __repr__(self) -> str:
        return f"<blocking {self._target!r}>"
