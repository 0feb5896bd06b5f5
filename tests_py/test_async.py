"""The async SDK against asyncio's own machinery: concurrency without blocking the loop,
timeouts and cancellation that reach the native request, and every way asyncio (and
uvloop, anyio) runs awaitables. Real peers: our TLS server with injected latency on
127.0.0.1, a TCP relay in front of it that sees connections close, and the in-process mock.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time
from collections.abc import AsyncIterator, Iterator

import anyio
import httpx
import pytest
import uvloop
from proxmox_sdk import ProxmoxSDK, _native
from proxmox_sdk.server import serve

LATENCY = 0.4  # seconds the server waits before each answer
ADMIN_TOKEN = "async-admin-token"


@pytest.fixture(scope="module")
def slow_server() -> Iterator[object]:
    with serve(tls=True, admin=True, admin_token=ADMIN_TOKEN) as server:
        yield server


def set_latency(server: object, seconds: float) -> None:
    r = httpx.post(
        f"{server.url}/_mock/latency",  # type: ignore[attr-defined]
        data={"ms": int(seconds * 1000)},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
        verify=False,
    )
    r.raise_for_status()


def https_sdk(server: object, host: str | None = None) -> ProxmoxSDK:
    return ProxmoxSDK(
        host or server.url,  # type: ignore[attr-defined]
        user="root@pam",
        password=server.password,  # type: ignore[attr-defined]
        fingerprint=server.fingerprint,  # type: ignore[attr-defined]
    )


class Ticker:
    """A coroutine beside the calls that counts how often the loop lets it run."""

    def __init__(self) -> None:
        self.ticks = 0
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(0.02)
            self.ticks += 1

    def __enter__(self) -> Ticker:
        self._task = asyncio.get_running_loop().create_task(self._run())
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def wait_until_no_native_calls(deadline: float = 1.0) -> int:
    end = time.monotonic() + deadline
    while _native.native_calls_in_flight() and time.monotonic() < end:
        await asyncio.sleep(0.01)
    return _native.native_calls_in_flight()


@contextlib.asynccontextmanager
async def logged_in(server: object, host: str | None = None) -> AsyncIterator[ProxmoxSDK]:
    set_latency(server, 0)
    px = https_sdk(server, host)
    await px.version.get()  # log in and open the connection before timing anything
    set_latency(server, LATENCY)
    try:
        yield px
    finally:
        set_latency(server, 0)
        await px.close()


async def one_call_seconds(px: ProxmoxSDK) -> float:
    t = time.perf_counter()
    await px.version.get()
    return time.perf_counter() - t


# -- concurrency --------------------------------------------------------------------------


async def _gather(px: ProxmoxSDK) -> list[object]:
    return await asyncio.gather(*[px.version.get() for _ in range(5)])


async def _task_group(px: ProxmoxSDK) -> list[object]:
    async with asyncio.TaskGroup() as tg:
        tasks = [tg.create_task(px.version.get()) for _ in range(5)]
    return [t.result() for t in tasks]


async def _create_task(px: ProxmoxSDK) -> list[object]:
    tasks = [asyncio.create_task(px.version.get()) for _ in range(5)]
    return [await t for t in tasks]


async def _wait(px: ProxmoxSDK) -> list[object]:
    tasks = [asyncio.ensure_future(px.version.get()) for _ in range(5)]
    done, pending = await asyncio.wait(tasks)
    assert not pending
    return [t.result() for t in done]


async def _shielded(px: ProxmoxSDK) -> list[object]:
    return await asyncio.gather(*[asyncio.shield(px.version.get()) for _ in range(5)])


WAYS = [_gather, _create_task, _wait, _shielded]
if sys.version_info >= (3, 11):
    WAYS.append(_task_group)


@pytest.mark.parametrize("way", WAYS, ids=lambda f: f.__name__.strip("_"))
def test_five_calls_overlap_over_https(slow_server: object, way) -> None:
    async def main() -> None:
        async with logged_in(slow_server) as px:
            single = await one_call_seconds(px)
            assert single >= LATENCY
            with Ticker() as ticker:
                t = time.perf_counter()
                results = await way(px)
                elapsed = time.perf_counter() - t
            assert len(results) == 5
            assert all(r["release"] for r in results)  # type: ignore[index]
            assert elapsed < 1.5 * single, (elapsed, single)
            # The loop ran the ticker all along (0.02 s period): nothing blocked it.
            assert ticker.ticks >= int(elapsed / 0.02 * 0.5), (ticker.ticks, elapsed)

    asyncio.run(main())


def test_five_calls_overlap_on_the_async_mock_with_latency() -> None:
    async def main() -> None:
        px = ProxmoxSDK.mock(mock_namespace="async-latency")
        px.mock_store.set_latency(LATENCY)
        try:
            single = await one_call_seconds(px)
            assert single >= LATENCY
            with Ticker() as ticker:
                t = time.perf_counter()
                for way in WAYS:
                    results = await way(px)
                    assert len(results) == 5
                elapsed = time.perf_counter() - t
            assert elapsed < len(WAYS) * 1.5 * single
            assert ticker.ticks >= int(elapsed / 0.02 * 0.5)
        finally:
            px.mock_store.set_latency(0)

    asyncio.run(main())


def test_async_mock_without_latency_answers_in_place() -> None:
    async def main() -> None:
        px = ProxmoxSDK.mock(mock_namespace="async-in-place")
        results = await asyncio.gather(*[px.version.get() for _ in range(200)])
        assert len(results) == 200
        # In place: no native task was started for any of them.
        assert _native.native_calls_in_flight() == 0

    asyncio.run(main())


# -- timeouts and cancellation ------------------------------------------------------------


class Relay:
    """A TCP relay in front of the TLS server: it sees when the client drops a connection
    (TLS passes through untouched, so the pinned fingerprint still matches)."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.opened = 0
        self.closed_by_client = 0
        self.server: asyncio.AbstractServer | None = None
        self.handlers: set[asyncio.Task[None]] = set()

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.opened += 1
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(Exception):
                dst.close()

        upstream = asyncio.ensure_future(pipe(up_reader, writer))
        try:
            await pipe(reader, up_writer)  # ends when the client closes its side
            self.closed_by_client += 1
        finally:
            upstream.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await upstream
            for w in (writer, up_writer):
                w.close()
                with contextlib.suppress(Exception):
                    await w.wait_closed()
            self.handlers.discard(task)

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for task in list(self.handlers):
            task.cancel()
        await asyncio.gather(*self.handlers, return_exceptions=True)
        await self.server.wait_closed()


def test_wait_for_times_out_on_time_and_drops_the_connection(slow_server: object) -> None:
    port = int(slow_server.url.rsplit(":", 1)[1])  # type: ignore[attr-defined]

    async def main() -> None:
        relay = Relay(port)
        relay_port = await relay.start()
        async with logged_in(slow_server, f"127.0.0.1:{relay_port}") as px:
            assert relay.opened == 1 and relay.closed_by_client == 0
            t = time.perf_counter()
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(px.version.get(), 0.1)
            assert time.perf_counter() - t < 0.3
            assert await wait_until_no_native_calls() == 0
            # The request was cancelled natively: its connection is closed, not left open.
            for _ in range(50):
                if relay.closed_by_client:
                    break
                await asyncio.sleep(0.01)
            assert relay.closed_by_client == 1
            # The client is still usable: a new connection is made for the next call.
            set_latency(slow_server, 0)
            assert (await px.version.get())["release"]
        await relay.stop()

    asyncio.run(main())


def test_asyncio_timeout_and_task_cancel_cancel_the_native_request(slow_server: object) -> None:
    async def main() -> None:
        async with logged_in(slow_server) as px:
            if sys.version_info >= (3, 11):
                t = time.perf_counter()
                with pytest.raises(TimeoutError):
                    async with asyncio.timeout(0.1):
                        await px.version.get()
                assert time.perf_counter() - t < 0.3
                assert await wait_until_no_native_calls() == 0
            task = asyncio.create_task(px.version.get())
            await asyncio.sleep(0.05)
            assert _native.native_calls_in_flight() == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert await wait_until_no_native_calls() == 0

    asyncio.run(main())


def test_a_call_let_go_in_flight_cancels_the_native_request(slow_server: object) -> None:
    """A call driven by hand and dropped while its request is out, or closed after its
    future was cancelled by hand, aborts the native request (nothing else would: no task
    is there to cancel)."""

    async def main() -> None:
        async with logged_in(slow_server) as px:
            call = px.version.get()
            fut = call.send(None)
            assert _native.native_calls_in_flight() == 1
            del call
            assert await wait_until_no_native_calls() == 0
            assert not fut.done()  # aborted, never settled: nobody can take the answer

            call = px.version.get()
            fut = call.send(None)
            assert _native.native_calls_in_flight() == 1
            fut.cancel()
            call.close()
            assert await wait_until_no_native_calls() == 0
            # The client goes on serving.
            set_latency(slow_server, 0)
            assert (await px.version.get())["release"]

    asyncio.run(main())


def test_wait_for_on_the_async_mock_with_latency() -> None:
    async def main() -> None:
        px = ProxmoxSDK.mock(mock_namespace="async-wait-for")
        px.mock_store.set_latency(1.0)
        try:
            t = time.perf_counter()
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(px.version.get(), 0.1)
            assert time.perf_counter() - t < 0.3
            assert await wait_until_no_native_calls() == 0
        finally:
            px.mock_store.set_latency(0)

    asyncio.run(main())


def test_a_cancelled_write_on_the_mock_is_not_applied() -> None:
    """Cancellation during the latency drops the request before the mock sees it."""

    async def main() -> None:
        px = ProxmoxSDK.mock(mock_namespace="async-cancel-write")
        px.mock_store.reset()
        px.mock_store.set_latency(0.5)
        try:
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(px.nodes("pve1").qemu.post(vmid=321, name="x"), 0.05)
            await wait_until_no_native_calls()
            await asyncio.sleep(0.6)
        finally:
            px.mock_store.set_latency(0)
        assert [g["vmid"] for g in await px.nodes("pve1").qemu.get()] == []

    asyncio.run(main())


# -- the awaitable itself -----------------------------------------------------------------


def test_a_call_runs_once_like_a_coroutine() -> None:
    async def main() -> None:
        px = ProxmoxSDK.mock(mock_namespace="async-once")
        call = px.version.get()
        assert asyncio.iscoroutine(call)
        assert (await call)["release"]
        with pytest.raises(RuntimeError, match="cannot reuse already awaited ProxmoxCall"):
            await call
        # A call that is never awaited sends nothing; close() is allowed.
        px.nodes("pve1").qemu.post(vmid=999).close()
        assert px.mock_store.get_object("/nodes/pve1/qemu/999/config") is None

    asyncio.run(main())


def test_errors_arrive_through_gather() -> None:
    async def main() -> None:
        px = ProxmoxSDK.mock(mock_namespace="async-errors")
        px.mock_store.set_latency(0.05)
        try:
            results = await asyncio.gather(
                px.version.get(),
                px.nodes("pve1").qemu(4242).config.get(),
                return_exceptions=True,
            )
        finally:
            px.mock_store.set_latency(0)
        assert results[0]["release"]  # type: ignore[index]
        assert "4242.conf' does not exist" in str(results[1])

    asyncio.run(main())


def test_under_uvloop(slow_server: object) -> None:
    async def main() -> None:
        async with logged_in(slow_server) as px:
            single = await one_call_seconds(px)
            t = time.perf_counter()
            await _gather(px)
            assert time.perf_counter() - t < 1.5 * single
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(px.version.get(), 0.1)
            assert await wait_until_no_native_calls() == 0

    uvloop.run(main())


def test_under_anyio_asyncio_backend(slow_server: object) -> None:
    async def main() -> None:
        async with logged_in(slow_server) as px:
            single = await one_call_seconds(px)
            results: list[object] = []

            async def fetch() -> None:
                results.append(await px.version.get())

            t = time.perf_counter()
            async with anyio.create_task_group() as tg:
                for _ in range(5):
                    tg.start_soon(fetch)
            assert len(results) == 5
            assert time.perf_counter() - t < 1.5 * single
            with pytest.raises(TimeoutError), anyio.fail_after(0.1):
                await px.version.get()
            assert await wait_until_no_native_calls() == 0

    anyio.run(main, backend="asyncio")


# -- completions under load ------------------------------------------------------------
# Answers reach the loop through a socket it watches: a lost wake-up shows as a gather
# that never ends (hence the deadline), a wrong answer as a mismatch.


async def _many(px: ProxmoxSDK, n: int = 3000, at_once: int = 50) -> None:
    sem = asyncio.Semaphore(at_once)

    async def one(i: int) -> object:
        async with sem:
            if i % 3 == 0:
                return await px.nodes.get()
            return await px.version.get()

    out = await asyncio.gather(*(one(i) for i in range(n)))
    assert len(out) == n
    for i, answer in enumerate(out):
        if i % 3 == 0:
            assert isinstance(answer, list) and answer[0]["node"] == "pve1", answer
        else:
            assert isinstance(answer, dict) and "release" in answer, answer


def _in_threads(run, count: int, deadline: float = 120) -> None:
    """Runs `run` in `count` daemon threads at once: a lost answer leaves a thread waiting
    forever, which fails the test (rather than hanging the suite)."""
    import threading

    errors: list[BaseException] = []

    def worker() -> None:
        try:
            run()
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(count)]
    for t in threads:
        t.start()
    end = time.monotonic() + deadline
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "a loop never got all its answers"
    assert errors == []


@pytest.mark.parametrize("runner", ["asyncio", "uvloop"])
def test_thousands_of_answers_reach_the_loop(slow_server: object, runner: str) -> None:
    set_latency(slow_server, 0)

    async def main() -> None:
        async with https_sdk(slow_server) as px:
            await _many(px)
        assert await wait_until_no_native_calls() == 0

    def run() -> None:
        # Twice: a second loop (asyncio.run makes a new one) gets a mailbox of its own.
        for _ in range(2):
            (uvloop.run if runner == "uvloop" else asyncio.run)(main())

    _in_threads(run, 1)


def test_loops_in_threads_each_get_their_answers(slow_server: object) -> None:
    set_latency(slow_server, 0)

    async def main() -> None:
        async with https_sdk(slow_server) as px:
            await _many(px, n=600, at_once=20)

    _in_threads(lambda: asyncio.run(main()), 3)
