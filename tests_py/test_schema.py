"""proxmox_sdk.schema: bundled versions, OpenAPI documents, resolution and validation."""

from __future__ import annotations

import pytest
from openapi_spec_validator import validate as validate_openapi
from proxmox_sdk import schema
from proxmox_sdk.sdk.exceptions import ResourceException, ValidationError


def test_versions() -> None:
    assert schema.available_versions() == ["9.1.11", "9.2"]
    assert schema.latest_version() == "9.2"
    assert schema.resolve_version("latest") == "9.2"
    with pytest.raises(
        ValueError, match=r"unknown schema version '7\.4' \(available: 9\.1\.11, 9\.2, latest\)"
    ):
        schema.resolve_version("7.4")


@pytest.mark.parametrize(("version", "operations"), [("9.2", 675), ("9.1.11", 649)])
def test_openapi_documents_are_valid_openapi_31(version: str, operations: int) -> None:
    doc = schema.load_proxmox_generated_openapi(version)
    assert doc["openapi"] == "3.1.0"
    assert doc["info"]["version"] == version
    validate_openapi(doc)
    count = sum(
        1
        for item in doc["paths"].values()
        for method in item
        if method in {"get", "post", "put", "delete"}
    )
    assert count == operations


def test_latest_is_92_and_each_call_is_fresh() -> None:
    a = schema.load_proxmox_generated_openapi()
    b = schema.load_proxmox_generated_openapi("9.2")
    assert a == b
    a["paths"].clear()
    assert schema.load_proxmox_generated_openapi()["paths"]


def test_apidoc_tree() -> None:
    tree = schema.load_proxmox_apidoc("9.1.11")
    assert [n["path"] for n in tree] == sorted(n["path"] for n in tree)
    assert any(n["path"] == "/version" for n in tree)


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/api2/json/version", ("/version", {})),
        (
            "/nodes/pve1/qemu/100/status/start",
            ("/nodes/{node}/qemu/{vmid}/status/start", {"node": "pve1", "vmid": "100"}),
        ),
        (
            "/nodes/pve1/storage/local/content/local%3Aiso%2Fx.iso",
            (
                "/nodes/{node}/storage/{storage}/content/{volume}",
                {"node": "pve1", "storage": "local", "volume": "local:iso/x.iso"},
            ),
        ),
        ("/nodes/pve1/nothing", None),
    ],
)
def test_resolve(path: str, expected: tuple[str, dict[str, str]] | None) -> None:
    assert schema.resolve(path) == expected


@pytest.mark.parametrize(
    ("method", "path", "params", "coerced"),
    [
        (
            "POST",
            "/nodes/pve1/qemu",
            {"vmid": 100, "cores": "2", "onboot": True, "name": None},
            {"node": "pve1", "vmid": 100, "cores": 2, "onboot": 1},
        ),
        (
            "GET",
            "/nodes/pve1/qemu/100/config",
            {"current": False},
            {"node": "pve1", "vmid": 100, "current": 0},
        ),
        ("GET", "/version", None, {}),
    ],
)
def test_validate_accepts_and_coerces(
    method: str, path: str, params: dict | None, coerced: dict
) -> None:
    assert schema.validate(method, path, params) == coerced


@pytest.mark.parametrize(
    ("params", "errors"),
    [
        ({}, {"vmid": "property is missing and it is not optional"}),
        ({"vmid": 99}, {"vmid": "invalid format - value does not look like a valid VM ID\n"}),
        ({"vmid": 100, "cores": 0}, {"cores": "value must have a minimum value of 1"}),
        (
            {"vmid": 100, "nope": 1},
            {
                "nope": "property is not defined in schema and the schema does not allow additional properties"
            },
        ),
        (
            {"vmid": 100, "net0": "virtio,colour=blue"},
            {"net0": "invalid format - invalid key in comma-separated list property: colour\n"},
        ),
    ],
)
def test_validate_refuses_with_pve_messages(params: dict, errors: dict) -> None:
    with pytest.raises(ValidationError) as info:
        schema.validate("POST", "/nodes/pve1/qemu", params)
    assert info.value.status_code == 400
    assert info.value.status_message == "Parameter verification failed."
    assert info.value.errors == errors
    assert str(info.value).startswith("HTTP 400 Parameter verification failed.: ")


def test_validate_unknown_path_is_501() -> None:
    with pytest.raises(ResourceException) as info:
        schema.validate("GET", "/nodes/pve1/nothing")
    assert info.value.status_code == 501
    assert str(info.value) == (
        "HTTP 501 Method 'GET /nodes/pve1/nothing' not implemented: "
        "Method 'GET /nodes/pve1/nothing' not implemented"
    )


def test_validate_bad_arguments() -> None:
    with pytest.raises(TypeError, match="params: expected a dict"):
        schema.validate("GET", "/version", [("a", 1)])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="unknown schema version"):
        schema.validate("GET", "/version", {}, version="1.0")
