"""Per-call cost of the in-process mock through the SDK, run unchanged on this package and on
the original ``proxmox-sdk==0.0.15`` (see ``compare_sdk.py``). Prints one JSON object."""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import sys
import time

N = int(os.environ.get("BENCH_N", "3000"))
ROUNDS = 5


def rss_mib() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def per_call_us(fn, n: int = N) -> float:
    rounds = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        rounds.append((time.perf_counter() - t) / n)
    return statistics.median(rounds) * 1e6


async def aper_call_us(fn, n: int = N) -> float:
    rounds = []
    for _ in range(ROUNDS):
        t = time.perf_counter()
        for _ in range(n):
            await fn()
        rounds.append((time.perf_counter() - t) / n)
    return statistics.median(rounds) * 1e6


def main() -> None:
    t0 = time.perf_counter()
    from proxmox_sdk import ProxmoxSDK

    px = ProxmoxSDK.sync_mock()
    px.version.get()
    load_ms = (time.perf_counter() - t0) * 1e3
    rss_loaded = rss_mib()
    node = px.nodes("pve1")
    for vmid in range(100, 150):
        node.qemu.post(vmid=vmid, name=f"vm{vmid}", cores=1, memory="1024")
    listed = len(node.qemu.get())
    vm = node.qemu(100).config
    out = {
        "python": sys.version.split()[0],
        "load_ms": round(load_ms, 1),
        "rss_after_load_mib": round(rss_loaded, 1),
        "vms_listed": listed,
        "sync_get_version_us": per_call_us(lambda: px.version.get()),
        "sync_list_50_us": per_call_us(lambda: node.qemu.get(), N // 10),
        "sync_put_config_us": per_call_us(lambda: vm.put(cores=2), N // 3),
    }
    apx = ProxmoxSDK.mock()
    anode = apx.nodes("pve1")
    avm = anode.qemu(100).config

    async def run_async() -> None:
        out["async_get_version_us"] = await aper_call_us(lambda: apx.version.get())
        out["async_list_50_us"] = await aper_call_us(lambda: anode.qemu.get(), N // 10)
        out["async_put_config_us"] = await aper_call_us(lambda: avm.put(cores=2), N // 3)

    async def gather_many(n: int = 10_000) -> float:
        rounds = []
        for _ in range(3):
            t = time.perf_counter()
            out = await asyncio.gather(*(apx.version.get() for _ in range(n)))
            rounds.append(time.perf_counter() - t)
            assert len(out) == n
        return min(rounds) * 1e3

    asyncio.run(run_async())
    out["gather_10000_get_version_ms"] = asyncio.run(gather_many())
    out["rss_end_mib"] = round(rss_mib(), 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
