"""ProxmoxSDK / SyncProxmoxSDK over the mock: construction, navigation, verbs, errors."""

from __future__ import annotations

import asyncio
import importlib
import json
import threading

import pytest
from proxmox_sdk import ProxmoxSDK, SyncProxmoxSDK
from proxmox_sdk.sdk.api import isolated_namespace
from proxmox_sdk.sdk.exceptions import (
    ProxmoxConnectionError,
    ResourceException,
    ResponseTooLargeError,
    ValidationError,
)


@pytest.fixture
def px() -> SyncProxmoxSDK:
    return ProxmoxSDK.sync_mock(mock_namespace=isolated_namespace())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"service": "XYZ", "backend": "mock"},
            r"service: unknown service 'XYZ'; supported: PVE, PMG, PBS, PDM",
        ),
        (
            {"service": "pbs", "backend": "ssh_paramiko", "host": "h"},
            r"backend: 'ssh_paramiko' is not supported for PBS; supported: https, mock",
        ),
        ({"host": "pve1"}, r"https backend needs credentials"),
        (
            {"host": "pve1", "user": "root@pam", "token_name": "t"},
            r"https backend needs credentials",
        ),
        (
            {"backend": "https", "user": "u@pam", "password": "p"},
            r"host: required for the https backend",
        ),
        (
            {"backend": "mock", "port": 70000},
            r"^port: expected an integer from 1 to 65535, got 70000$",
        ),
        (
            {"backend": "mock", "timeout": -1},
            r"^timeout must be between 0 and 86400 seconds, got -1$",
        ),
        (
            {"backend": "mock", "timeout": 1e20},
            r"^timeout must be between 0 and 86400 seconds, got 1e\+20$",
        ),
        (
            {"backend": "mock", "connect_timeout": float("nan")},
            r"^connect_timeout must be more than 0 and at most 86400 seconds, got nan$",
        ),
        (
            {"backend": "mock", "retry_backoff": float("inf")},
            r"^retry_backoff must be between 0 and 86400 seconds, got inf$",
        ),
        (
            {"backend": "mock", "max_retries": -1},
            r"^max_retries: expected an integer from 0 to 1000, got -1$",
        ),
    ],
)
def test_constructor_validation(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ProxmoxSDK(**kwargs)


def test_only_host_is_positional() -> None:
    with pytest.raises(TypeError):
        ProxmoxSDK("pve1", "root@pam")  # type: ignore[misc]


def test_properties_and_repr_hide_secrets() -> None:
    sdk = ProxmoxSDK(
        "pve1", user="root@pam", token_name="ci", token_value="s3cr3t-uuid", service="pve"
    )
    assert sdk.service == "PVE"
    assert sdk.backend_name == "https"
    text = repr(sdk)
    assert "s3cr3t" not in text and "token_value" not in text
    assert (
        text
        == "ProxmoxSDK(service='PVE', backend='https', host='pve1', user='root@pam', auth='token')"
    )
    pw = ProxmoxSDK("pve1", user="root@pam", password="hunter2")
    assert "hunter2" not in repr(pw)
    # A host that does not resolve: a connection error naming the URL, never the secret.
    with pytest.raises(ProxmoxConnectionError, match="pve1:8006") as failed:
        asyncio.run(sdk.version.get())
    assert "s3cr3t" not in str(failed.value)
    # validate=True refuses bad parameters before anything is sent.
    checked = ProxmoxSDK.sync(host="pve1", user="root@pam", password="x", validate=True)
    with pytest.raises(ValidationError) as info:
        checked.nodes("pve1").qemu.post(vmid=5)
    assert info.value.errors == {
        "vmid": "invalid format - value does not look like a valid VM ID\n"
    }
    with pytest.raises(ProxmoxConnectionError):
        checked.nodes("pve1").qemu.post(vmid=500)


@pytest.mark.parametrize(
    ("build", "path"),
    [
        (lambda p: p.nodes, "/api2/json/nodes"),
        (lambda p: p("/nodes/"), "/api2/json/nodes/"),
        (lambda p: p("nodes/pve1/qemu"), "/api2/json/nodes/pve1/qemu"),
        (lambda p: p.nodes("pve1").qemu(100).config, "/api2/json/nodes/pve1/qemu/100/config"),
        (lambda p: p.nodes(0), "/api2/json/nodes/0"),
        (lambda p: p.nodes(None), "/api2/json/nodes"),
        (lambda p: p(("a/b", "c")), "/api2/json/a%2Fb/c"),
        (lambda p: p(["x y", 1]), "/api2/json/x%20y/1"),
        (lambda p: p.nodes("pve1")("download-url"), "/api2/json/nodes/pve1/download%2Durl"),
        (lambda p: getattr(p.storage, "download-url"), "/api2/json/storage/download%2Durl"),
        (
            lambda p: p.nodes("pve1").tasks(
                "UPID:pve1:000003E8:00001B58:6B08E68D:qmcreate:101:root@pam:"
            ),
            "/api2/json/nodes/pve1/tasks/UPID%3Apve1%3A000003E8%3A00001B58%3A6B08E68D%3Aqmcreate%3A101%3Aroot%40pam%3A",
        ),
        (lambda p: p("a//b"), "/api2/json/a//b"),
    ],
)
def test_navigation(px: SyncProxmoxSDK, build, path: str) -> None:
    r = build(px)
    assert r.path == path
    assert repr(r) == f"ProxmoxResource(path='{path}')"


def test_private_names_and_bad_segments(px: SyncProxmoxSDK) -> None:
    with pytest.raises(AttributeError):
        px.nodes._private  # noqa: B018
    with pytest.raises(AttributeError):
        px._secret  # noqa: B018
    with pytest.raises(
        TypeError, match="path segment: expected str, int, list, tuple or None, got float"
    ):
        px.nodes(1.5)


def test_verbs_and_aliases(px: SyncProxmoxSDK) -> None:
    upid = px.nodes("pve1").qemu.create(vmid=100, name="web", onboot=True, cores=2)
    assert upid.startswith("UPID:pve1:") and ":qmcreate:100:" in upid
    config = px.nodes("pve1").qemu(100).config.get()
    assert config["onboot"] == 1, "booleans travel as 0/1"
    px.nodes("pve1").qemu(100).config.set(cores=4, delete="name")
    px.nodes("pve1").qemu(100).config.patch(memory="2048")
    config = px.nodes("pve1").qemu(100).config.get()
    assert (config["cores"], config["memory"], "name" in config) == (4, "2048", False)
    # Path arguments on the verb are appended like a call.
    assert px.nodes.get("pve1", "qemu")[0]["vmid"] == 100
    px.nodes("pve1").qemu(100).delete()
    assert px.nodes("pve1").qemu.get() == []


def test_errors_are_pve_like(px: SyncProxmoxSDK) -> None:
    with pytest.raises(ValidationError) as info:
        px.nodes("pve1").qemu.post(vmid=99, cores=0)
    e = info.value
    assert isinstance(e, ResourceException)
    assert e.status_code == 400
    assert e.errors == {
        "vmid": "invalid format - value does not look like a valid VM ID\n",
        "cores": "value must have a minimum value of 1",
    }
    with pytest.raises(ResourceException) as info:
        px.nodes("pve1").nothing.get()
    assert info.value.status_code == 501
    assert (
        str(info.value) == "HTTP 501 Method 'GET /nodes/pve1/nothing' not implemented: "
        "Method 'GET /nodes/pve1/nothing' not implemented"
    )
    with pytest.raises(ResourceException) as info:
        px.nodes("pve1").qemu(123).config.get()
    # The reason phrase is PVE's message, as the original's client read it over HTTPS.
    missing = "Configuration file 'nodes/pve1/qemu-server/123.conf' does not exist"
    assert (info.value.status_message, info.value.content) == (missing, missing)
    assert str(info.value) == f"HTTP 500 {missing}: {missing}"
    with pytest.raises(TypeError, match="parameter 'cores': expected str, int, float, bool, None"):
        px.nodes("pve1").qemu.post(vmid=100, cores=object())


def test_get_bounded(px: SyncProxmoxSDK) -> None:
    assert px.version.get_bounded(10_000)["release"]
    with pytest.raises(ResponseTooLargeError, match="Response exceeds the 10-byte limit"):
        px.version.get_bounded(10)
    with pytest.raises(ValueError, match="max_response_bytes"):
        px.version.get_bounded(-1)


def test_async_sdk_and_context_manager() -> None:
    namespace = isolated_namespace()

    async def main() -> None:
        sdk = ProxmoxSDK.mock(mock_namespace=namespace)
        assert sdk.is_async
        async with sdk as px:
            assert repr(px) == "ProxmoxResource(path='/api2/json')"
            await px.nodes("pve1").qemu.post(vmid=101, name="a")
            calls = [px.nodes("pve1").qemu(101).config.get() for _ in range(3)]
            results = await asyncio.gather(*calls)
            assert all(r["name"] == "a" for r in results)
            task = asyncio.ensure_future(px.version.get())
            assert (await task)["release"]
        # The SDK object navigates too.
        # the lowest free id, as text (PVE sends it so, although its schema says integer)
        assert (await sdk("cluster/nextid").get()) == "100"
        assert (await sdk.nodes.get())[0]["node"] == "pve1"
        call = sdk.version.get()
        assert "ProxmoxCall GET /api2/json/version" in repr(call)
        await call
        with pytest.raises(RuntimeError, match="already awaited"):
            await call
        with pytest.raises(RuntimeError, match="ticket"):
            await sdk.get_tokens()

    asyncio.run(main())


def test_sync_works_inside_a_running_event_loop(px: SyncProxmoxSDK) -> None:
    async def handler() -> dict:
        return px.version.get()

    assert asyncio.run(handler())["release"] == "9.2"


def test_sync_context_manager_and_from_config(tmp_path) -> None:
    with SyncProxmoxSDK.mock(mock_namespace=isolated_namespace()) as px:
        assert px.version.get()["version"]
    cfg = {"backend": "mock", "mock_namespace": isolated_namespace(), "schema_version": "9.1.11"}
    sdk = SyncProxmoxSDK.from_config(cfg)
    assert sdk.schema_version == "9.1.11"
    path = tmp_path / "cfg.json"
    path.write_text(json.dumps(cfg))
    assert SyncProxmoxSDK.from_config(path).schema_version == "9.1.11"
    yaml_path = tmp_path / "cfg.yaml"
    yaml_path.write_text("backend: mock\nservice: pve\n")
    assert SyncProxmoxSDK.from_config(str(yaml_path)).service == "PVE"
    with pytest.raises(ValueError, match="invalid YAML"):
        bad = tmp_path / "bad.yaml"
        bad.write_text("backend: [mock\n")
        SyncProxmoxSDK.from_config(bad)


def test_threads_writing_lose_nothing() -> None:
    px = ProxmoxSDK.sync_mock(mock_namespace=isolated_namespace())
    errors: list[BaseException] = []

    def worker(base: int) -> None:
        try:
            for i in range(25):
                px.nodes("pve1").qemu.post(vmid=base + i, name=f"vm{base + i}")
                px.cluster.resources.get(type="vm")
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=worker, args=(1000 + 100 * t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    vms = px.nodes("pve1").qemu.get()
    assert len(vms) == 200
    assert {vm["vmid"] for vm in vms} == {1000 + 100 * t + i for t in range(8) for i in range(25)}


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("proxmox_sdk", "ProxmoxSDK"),
        ("proxmox_sdk", "SyncProxmoxSDK"),
        ("proxmox_sdk", "Tasks"),
        ("proxmox_sdk", "Files"),
        ("proxmox_sdk", "__version__"),
        ("proxmox_sdk.sdk", "ProxmoxSDK"),
        ("proxmox_sdk.sdk.api", "ProxmoxSDK"),
        ("proxmox_sdk.sdk.resource", "ProxmoxResource"),
        ("proxmox_sdk.sdk.services", "SERVICES"),
        ("proxmox_sdk.sdk.auth.token", "parse_token_id"),
        ("proxmox_sdk.sdk.backends.mock", "MockBackend"),
        ("proxmox_sdk.sdk.backends.base", "AbstractBackend"),
        ("proxmox_sdk.sdk.backends.https", "HttpsBackend"),
        ("proxmox_sdk.sdk.backends.local", "LocalBackend"),
        ("proxmox_sdk.schema", "load_proxmox_generated_openapi"),
        ("proxmox_sdk.mock.schema_helpers", "schema_fingerprint"),
        ("proxmox_sdk.mock.state", "shared_mock_store"),
    ]
    + [
        ("proxmox_sdk.sdk.exceptions", n)
        for n in [
            "ProxmoxSDKError",
            "ResourceException",
            "AuthenticationError",
            "BackendNotAvailableError",
            "ProxmoxRedirectError",
            "ResponseTooLargeError",
            "UnsupportedResponseEncodingError",
            "ProxmoxTimeoutError",
            "ProxmoxConnectionError",
        ]
    ],
)
def test_compat_import_paths(module: str, name: str) -> None:
    assert getattr(importlib.import_module(module), name) is not None


def test_exception_hierarchy_and_services() -> None:
    from proxmox_sdk.sdk import exceptions as ex
    from proxmox_sdk.sdk.auth.token import parse_token_id
    from proxmox_sdk.sdk.services import SERVICES

    assert parse_token_id("u@r!t") == ("u@r", "t")
    assert parse_token_id("u@r") == ("u@r", "")
    assert {k: v["default_port"] for k, v in SERVICES.items()} == {
        "PVE": 8006,
        "PMG": 8006,
        "PBS": 8007,
        "PDM": 8443,
    }
    t = ex.ProxmoxTimeoutError()
    assert isinstance(t, ex.ResourceException) and (t.status_code, t.status_message) == (
        504,
        "Gateway Timeout",
    )
    c = ex.ProxmoxConnectionError()
    assert (c.status_code, c.status_message) == (503, "Service Unavailable")
    r = ex.ProxmoxRedirectError(302, "https://elsewhere/next?ticket=x")
    assert (r.status, r.location_host, r.status_code) == (302, "elsewhere", 302)
    assert str(r) == "HTTP redirect 302 refused (location host: elsewhere)"
    assert str(ex.ProxmoxRedirectError(304)) == "HTTP redirect 304 refused"
    assert str(ex.ResponseTooLargeError(10)) == "Response exceeds the 10-byte limit"
    assert str(ex.UnsupportedResponseEncodingError()) == (
        "Bounded responses require identity content encoding"
    )
    ceph = ex.CephCapabilityUnsupportedError("rbd.snapshots", provider="dashboard", detail="v17")
    assert str(ceph) == "dashboard provider does not support capability 'rbd.snapshots': v17"
    assert str(ex.CephCapabilityUnsupportedError("x")) == "provider does not support capability 'x'"
    # Login failures are AuthenticationError and the transport error at once.
    lt = ex.LoginTimeoutError("slow")
    assert isinstance(lt, ex.AuthenticationError) and isinstance(lt, ex.ProxmoxTimeoutError)
    # The status is the original's, the text says what happened (no server sent a 504).
    assert (lt.status_code, str(lt)) == (504, "slow")
    lc = ex.LoginConnectionError("refused")
    assert (lc.status_code, str(lc)) == (503, "refused")
    assert isinstance(lc, ex.AuthenticationError) and isinstance(lc, ex.ProxmoxConnectionError)
    import pickle

    for e in (r, ceph, lt, lc, ex.ResponseTooLargeError(5)):
        back = pickle.loads(pickle.dumps(e))
        assert type(back) is type(e) and str(back) == str(e)
    for cls in (
        ex.ResourceException,
        ex.AuthenticationError,
        ex.BackendNotAvailableError,
        ex.ProxmoxRedirectError,
    ):
        assert issubclass(cls, ex.ProxmoxSDKError)


def test_sdk_objects_navigate_and_keep_their_attributes() -> None:
    """The SDK object is a ProxmoxResource subclass: its own methods and properties win,
    everything else is a path segment (found without raising AttributeError)."""
    sdk = ProxmoxSDK.sync_mock(mock_namespace="nav-subclass")
    assert sdk.version.path == "/api2/json/version"
    assert sdk.backend_name == "mock" and sdk.service == "PVE"
    assert callable(sdk.close) and callable(sdk.get)
    assert sdk.nodes("pve1").qemu.path == "/api2/json/nodes/pve1/qemu"
    with pytest.raises(AttributeError):
        sdk._no_such_private_name  # noqa: B018


def test_the_typed_options_are_exactly_the_native_ones() -> None:
    """``ClientOptions`` (for type checkers) names every native option and no other: the
    native refusal of an unknown keyword lists the options it knows."""
    from typing import get_type_hints

    from proxmox_sdk import _native
    from proxmox_sdk.sdk.options import ClientOptions

    with pytest.raises(TypeError) as e:
        _native.Client.connect(not_an_option=1)
    native = set(str(e.value).split("the options are: ")[1].rstrip(")").split(", "))
    assert native == set(get_type_hints(ClientOptions))
