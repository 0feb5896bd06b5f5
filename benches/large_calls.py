"""Large answers in-process: a 10,000-guest qemu list and ``/cluster/resources`` through the
sync mock SDK, beside ``json.loads`` of the same payload (the floor a Python consumer of JSON
pays) and the memory a list adds at its peak. Run unchanged on this package and on the
original ``proxmox-sdk==0.0.15`` (see ``compare_large.py``). Prints one JSON object."""

from __future__ import annotations

import gc
import json
import os
import statistics
import sys
import time

GUESTS = int(os.environ.get("BENCH_GUESTS", "10000"))
ROUNDS = 7


def status_kib(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def reset_peak() -> None:
    # Linux: writing 5 resets the peak RSS (VmHWM) to the current RSS.
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def timed_ms(fn, rounds: int = ROUNDS) -> float:
    times = []
    for _ in range(rounds):
        gc.collect()
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def peak_mib(fn) -> tuple[float, float]:
    """(peak RSS over the RSS before the call, peak over the RSS with the answer kept)."""
    gc.collect()
    before = status_kib("VmRSS")
    reset_peak()
    kept = fn()
    peak = status_kib("VmHWM")
    after = status_kib("VmRSS")
    del kept
    return (peak - before) / 1024, (peak - after) / 1024


PATHS = {"list": "/api2/json/nodes/pve1/qemu", "resources": "/api2/json/cluster/resources"}


def original_store(px):
    """The original's store behind its mock backend (its API cannot store a list)."""
    sdk = px.__dict__.get("_sdk", px)
    backend = sdk.__dict__["_backend"]
    for _ in range(4):
        store = getattr(backend, "_store", None)
        if store is not None:
            return store
        backend = getattr(backend, "_backend", None) or getattr(backend, "_inner", None)
    raise SystemExit("the original's mock store was not found")


def build(px, payloads: str | None):
    """Ours: GUESTS guests created through the API. The original: the same answers as ours
    stored whole at their paths in its dict store (``BENCH_PAYLOADS``, written by our run)."""
    node = px.nodes("pve1")
    if payloads is None or not os.path.exists(payloads):
        for vmid in range(100, 100 + GUESTS):
            node.qemu.post(vmid=vmid, name=f"vm{vmid}", cores=1, memory="1024")
        return
    px.version.get()
    store = original_store(px)
    with open(payloads) as f:
        data = json.load(f)
    for name, path in PATHS.items():
        store.set_object(path, data[name])


def calls(px):
    return {"list": lambda: px.nodes("pve1").qemu.get(), "resources": px.cluster.resources.get}


def main() -> None:
    import importlib.util

    from proxmox_sdk import ProxmoxSDK

    ours = importlib.util.find_spec("proxmox_sdk._native") is not None
    payloads = os.environ.get("BENCH_PAYLOADS")
    px = ProxmoxSDK.sync_mock()
    t = time.perf_counter()
    build(px, None if ours else payloads)
    create_s = time.perf_counter() - t
    fns = calls(px)
    if len(sys.argv) > 2 and sys.argv[1] == "peak":
        # A fresh process per figure: freed memory of an earlier call would hide the peak.
        name = sys.argv[2]
        if name.endswith("-json"):
            # json.loads of the same payload: what the Python objects themselves take.
            with open(payloads) as f:
                text = json.dumps(json.load(f)[name.removesuffix("-json")])
            fn = lambda: json.loads(text)  # noqa: E731
        else:
            fn = fns[name]
        peak, transient = peak_mib(fn)
        print(json.dumps({"peak_mib": peak, "transient_mib": transient}))
        return
    gc.collect()
    out: dict[str, object] = {"python": sys.version.split()[0], "guests": GUESTS}
    out["create_per_guest_us"] = create_s / GUESTS * 1e6
    out["rss_with_store_mib"] = status_kib("VmRSS") / 1024
    dumped = {}
    for name, fn in fns.items():
        answer = fn()
        dumped[name] = answer
        text = json.dumps(answer)
        out[f"{name}_items"] = len(answer)
        out[f"{name}_payload_kib"] = len(text) / 1024
        del answer
        out[f"{name}_ms"] = timed_ms(fn)
        out[f"{name}_json_loads_ms"] = timed_ms(lambda text=text: json.loads(text))
    if ours and payloads:
        with open(payloads, "w") as f:
            json.dump(dumped, f)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
