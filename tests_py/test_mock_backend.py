"""MockBackend and the mock state helpers, called exactly as proxbox-api and test suites
of the original package call them."""

from __future__ import annotations

import asyncio
import json

import pytest
from proxmox_sdk import ProxmoxSDK
from proxmox_sdk.mock.schema_helpers import schema_fingerprint
from proxmox_sdk.mock.state import shared_mock_store
from proxmox_sdk.schema import load_proxmox_generated_openapi
from proxmox_sdk.sdk.api import isolated_namespace
from proxmox_sdk.sdk.backends.mock import MockBackend
from proxmox_sdk.sdk.exceptions import ResourceException, ValidationError


@pytest.fixture(autouse=True)
def namespace(monkeypatch: pytest.MonkeyPatch) -> str:
    ns = isolated_namespace("mock-backend")
    monkeypatch.setenv("PROXMOX_MOCK_STATE_NAMESPACE", ns)
    return ns


def run(coro):
    return asyncio.run(coro)


def test_proxbox_calls() -> None:
    backend = MockBackend(schema_version="latest", api_path_prefix="/api2/json", service="PVE")
    assert backend._store is None
    assert run(backend.request("GET", "/api2/json/nodes/pve01/qemu")) == []
    store = backend._store
    assert store is not None
    store.set_object("/api2/json/nodes/pve01/qemu/100/config", {"name": "vm100", "cores": 2})
    vms = run(backend.request("GET", "/api2/json/nodes/pve01/qemu"))
    assert [(v["vmid"], v["name"]) for v in vms] == [(100, "vm100")]
    assert store.get_object("/api2/json/nodes/pve01/qemu/100/config") == {
        "name": "vm100",
        "cores": 2,
    }
    assert run(backend.request("GET", "/api2/json/nodes/pve01/qemu/100/config")) == {
        "name": "vm100",
        "cores": 2,
    }
    assert store.delete_object("/api2/json/nodes/pve01/qemu/100/config")
    assert store.is_deleted("/api2/json/nodes/pve01/qemu/100/config")
    with pytest.raises(ResourceException) as info:
        run(backend.request("GET", "/api2/json/nodes/pve01/qemu/100/config"))
    assert info.value.status_code == 500
    assert (
        info.value.content == "Configuration file 'nodes/pve01/qemu-server/100.conf' does not exist"
    )
    store.reset()
    assert not store.is_deleted("/api2/json/nodes/pve01/qemu/100/config")
    run(backend.close())


def test_requests_with_params_and_data() -> None:
    backend = MockBackend()
    upid = run(
        backend.request(
            "POST", "/api2/json/nodes/pve1/qemu", data={"vmid": 120, "name": "x", "start": False}
        )
    )
    assert upid.startswith("UPID:pve1:")
    config = run(
        backend.request("GET", "/api2/json/nodes/pve1/qemu/120/config", params={"current": True})
    )
    assert config["name"] == "x"
    with pytest.raises(ValidationError) as info:
        run(backend.request("POST", "/api2/json/nodes/pve1/qemu", data={"vmid": "abc"}))
    assert info.value.errors == {"vmid": "type check ('integer') failed - got 'abc'"}
    with pytest.raises(ResourceException) as info:
        run(backend.request("GET", "/api2/json/does/not/exist"))
    assert info.value.status_code == 501


def test_state_is_shared_across_mocks_in_a_namespace() -> None:
    a = MockBackend()
    b = MockBackend()
    run(a.request("POST", "/api2/json/pools", data={"poolid": "shared"}))
    assert [p["poolid"] for p in run(b.request("GET", "/api2/json/pools"))] == ["shared"]
    sdk = ProxmoxSDK.sync_mock()
    assert sdk.pools.get()[0]["poolid"] == "shared"
    other_version = MockBackend(schema_version="9.1.11")
    assert run(other_version.request("GET", "/api2/json/pools")) == []


def test_fingerprint_and_shared_store() -> None:
    doc = load_proxmox_generated_openapi()
    fp = schema_fingerprint(doc)
    assert fp == schema_fingerprint(load_proxmox_generated_openapi("9.2"))
    assert fp != schema_fingerprint(load_proxmox_generated_openapi("9.1.11"))
    backend = MockBackend()
    run(backend.request("POST", "/api2/json/pools", data={"poolid": "gone-after-reset"}))
    store = shared_mock_store(fp)
    assert store.schema_version == "9.2"
    store.reset()
    assert run(backend.request("GET", "/api2/json/pools")) == []
    with pytest.raises(ValueError, match="matches no bundled schema version"):
        shared_mock_store("0000000000000000")


def test_data_path_seeds_new_stores(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "seed.json"
    data.write_text(json.dumps({"/api2/json/nodes/pve1/lxc/200/config": {"hostname": "ct200"}}))
    monkeypatch.setenv("PROXMOX_MOCK_DATA_PATH", str(data))
    monkeypatch.setenv("PROXMOX_MOCK_STATE_NAMESPACE", isolated_namespace("seeded"))
    cts = run(MockBackend().request("GET", "/api2/json/nodes/pve1/lxc"))
    assert [(c["vmid"], c["name"] if "name" in c else None) for c in cts][0][0] == 200
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"nodes/pve1": {}}))
    monkeypatch.setenv("PROXMOX_MOCK_DATA_PATH", str(bad))
    monkeypatch.setenv("PROXMOX_MOCK_STATE_NAMESPACE", isolated_namespace("bad"))
    with pytest.raises(ValueError, match=r"bad\.json: key 'nodes/pve1': expected an API path"):
        run(MockBackend().request("GET", "/api2/json/version"))


def test_seed_save_load(tmp_path) -> None:
    sdk = ProxmoxSDK.sync_mock()
    store = sdk.mock_store
    store.seed({"/api2/json/pools/seeded/": {"comment": "from seed"}})
    sdk.pools.post(poolid="later")
    file = tmp_path / "state.json"
    store.save(file)
    store.reset()
    assert [p["poolid"] for p in sdk.pools.get()] == ["seeded"]
    store.load(file)
    assert [p["poolid"] for p in sdk.pools.get()] == ["later", "seeded"]
    with pytest.raises(ValueError, match="expected an API path"):
        store.seed({"pools": {}})


def test_lenient_mode_keeps_legacy_seeding() -> None:
    backend = MockBackend(lenient=True)
    assert run(backend.request("POST", "/api2/json/custom/thing", data={"a": 1})) is None
    assert run(backend.request("GET", "/api2/json/custom/thing")) == {"a": 1}
