"""Blocking access to the async facades' domain helpers (``SyncPBSClient.datastores``...)."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable
from inspect import isawaitable
from typing import Any, TypeVar

__all__ = ["BlockingDomainProxy", "SyncFacade"]

_S = TypeVar("_S", bound="SyncFacade")
_T = TypeVar("_T")


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


class SyncFacade:
    """The blocking twin of an async facade client (``_async``, e.g. ``PBSClient``): the
    same arguments and ``mock()``, answers without ``await`` on an event loop of its own."""

    _async: Any

    def __init__(self, **kwargs: Any) -> None:
        self._loop = asyncio.new_event_loop()
        self._client = self._async(**kwargs)

    @classmethod
    def mock(cls: type[_S], schema_version: str = "latest", **options: Any) -> _S:
        """Over the in-memory product (as the async client's ``mock()``)."""
        self = cls.__new__(cls)
        self._loop = asyncio.new_event_loop()
        self._client = cls._async.mock(schema_version, **options)
        return self

    def __enter__(self: _S) -> _S:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self._loop.is_closed():
            return
        try:
            self._loop.run_until_complete(self._client.close())
        finally:
            self._loop.close()

    def _run(self, call: Awaitable[_T]) -> _T:
        return self._loop.run_until_complete(call)

    def _domain(self, target: Any) -> Any:
        return BlockingDomainProxy(self._loop, target)
