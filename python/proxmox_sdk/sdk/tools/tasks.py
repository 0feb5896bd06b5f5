"""Tasks: decode UPIDs and logs, and wait for a worker task to end.

Every waiting call works with the async SDK (it returns a coroutine) and with the sync SDK
(it blocks), so the same code serves both.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any
from urllib.parse import unquote

from proxmox_sdk.sdk.exceptions import ProxmoxSDKError

MAX_POLL_INTERVAL = 30.0


class TaskFailedError(ProxmoxSDKError):
    """A task ended with an error; ``status`` is its final status."""

    def __init__(self, upid: str, status: dict[str, Any]) -> None:
        self.upid = upid
        self.status = status
        super().__init__(f"task {upid} failed: {status.get('exitstatus')}")


def _is_async(prox: Any) -> bool:
    return bool(getattr(prox, "is_async", True))


def task_succeeded(status: dict[str, Any]) -> bool:
    """PVE's rule: ``OK`` and ``WARNINGS: n`` are success, anything else is an error."""
    exit_status = str(status.get("exitstatus", ""))
    return exit_status == "OK" or exit_status.startswith("WARNINGS")


class Tasks:
    """Helpers for PVE worker tasks."""

    @staticmethod
    def decode_upid(upid: str) -> dict[str, Any]:
        """Split ``UPID:node:pid:pstart:starttime:type:id:user:`` into its parts (the
        numbers decoded from hex); ``ValueError`` if it is not a task id."""
        from proxmox_sdk import _native

        if not isinstance(upid, str):
            raise TypeError(f"upid: expected str, got {type(upid).__name__}")
        return _native.decode_upid(unquote(upid))

    @staticmethod
    def decode_log(log_list: list[dict[str, Any]]) -> str:
        """Join a task log (``[{"n": 1, "t": "..."}, ...]``) into text, in line order."""
        lines = sorted(log_list, key=lambda line: int(line.get("n", 0)))
        return "\n".join(str(line.get("t", "")) for line in lines)

    @staticmethod
    def blocking_status(
        prox: Any, task_id: str, timeout: float = 300, polling_interval: float = 1.0
    ) -> Any:
        """Poll the task until it stops, backing off exponentially (capped at 30 s); return
        its final status. Raises ``TimeoutError`` after ``timeout`` seconds. Returns a
        coroutine for the async SDK."""
        _check_durations(timeout, polling_interval)
        if _is_async(prox):
            return _blocking_status_async(prox, task_id, timeout, polling_interval)
        return _blocking_status_sync(prox, task_id, timeout, polling_interval)

    @staticmethod
    def wait_for_task(
        prox: Any, task_id: str, timeout: float = 300, polling_interval: float = 1.0
    ) -> Any:
        """Wait for the task; return its final status when it succeeded (``OK`` or
        ``WARNINGS: n``), raise :class:`TaskFailedError` when it failed."""
        _check_durations(timeout, polling_interval)
        if _is_async(prox):

            async def run() -> dict[str, Any]:
                status = await _blocking_status_async(prox, task_id, timeout, polling_interval)
                return _check(task_id, status)

            return run()
        return _check(task_id, _blocking_status_sync(prox, task_id, timeout, polling_interval))


def _check(task_id: str, status: dict[str, Any]) -> dict[str, Any]:
    if not task_succeeded(status):
        raise TaskFailedError(task_id, status)
    return status


def _check_durations(timeout: Any, polling_interval: Any) -> None:
    """The same bounds as every other duration of the package (0 to 86400 seconds)."""
    from proxmox_sdk import _native

    _native.check_seconds("timeout", timeout, True)
    _native.check_seconds("polling_interval", polling_interval, False)


def _intervals(polling_interval: float) -> Any:
    n = 0
    while True:
        yield min(polling_interval * 2**n, MAX_POLL_INTERVAL)
        n += 1


def _status_resource(prox: Any, task_id: str) -> Any:
    node = Tasks.decode_upid(task_id)["node"]
    return prox.nodes(node).tasks(task_id).status


def _blocking_status_sync(
    prox: Any, task_id: str, timeout: float, polling: float
) -> dict[str, Any]:
    resource = _status_resource(prox, task_id)
    deadline = time.monotonic() + timeout
    for delay in _intervals(polling):
        status: dict[str, Any] = resource.get()
        if status.get("status") == "stopped":
            return status
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"task {task_id} still running after {timeout} s")
        time.sleep(min(delay, remaining))
    raise AssertionError("unreachable")


async def _blocking_status_async(
    prox: Any, task_id: str, timeout: float, polling: float
) -> dict[str, Any]:
    resource = _status_resource(prox, task_id)
    deadline = time.monotonic() + timeout
    for delay in _intervals(polling):
        status: dict[str, Any] = await resource.get()
        if status.get("status") == "stopped":
            return status
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"task {task_id} still running after {timeout} s")
        await asyncio.sleep(min(delay, remaining))
    raise AssertionError("unreachable")
