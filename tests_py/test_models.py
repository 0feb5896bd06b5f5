"""The generated Pydantic models: importable per product and version, the SDK's opt-in
typed answers (``model=True``), and every GET answer the mock gives for both PVE versions
parsing into its operation's model."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest
from proxmox_sdk import ProxmoxSDK, SyncProxmoxSDK, schema
from proxmox_sdk.generated import models, operation_models, response_model

# Path parameters of the walk: the guest it creates, and the mock's usual names.
SAMPLE = {"node": "pve1", "vmid": "100", "storage": "local", "userid": "root@pam", "realm": "pam"}

# Answers that are right while their schema is not (each checked against PVE's source):
# 9.1.11 declares a Ceph monitor's `host` a boolean (PVE/API2/Ceph/MON.pm's `returns`); the
# code returns the host name, as the mock does, and 9.2 declares it a string.
SCHEMA_BUGS = {("9.1.11", "/nodes/{node}/ceph/mon")}


def _sample(s: dict[str, Any]) -> Any:
    if "enum" in s:
        return s["enum"][0]
    if s.get("type") == "integer":
        return s.get("minimum", 1)
    if s.get("type") == "boolean":
        return 0
    return "example"


@pytest.mark.parametrize("version", ["9.2", "9.1.11"])
def test_every_get_answer_of_the_mock_parses_into_its_model(version: str) -> None:
    doc = schema.load_proxmox_generated_openapi(version)
    px = SyncProxmoxSDK.mock(version, mock_namespace=f"models-walk-{version}")
    px.mock_store.reset()
    # Running, with its guest agent, so that the agent's commands answer too.
    px.nodes("pve1").qemu.post(vmid=100, name="web", agent="1", net0="virtio,bridge=vmbr0")
    px.nodes("pve1").qemu(100).status.start.post()
    parsed, failures, refused = 0, [], 0
    for template, item in sorted(doc["paths"].items()):
        op = item.get("get")
        if not op:
            continue
        path = template
        for seg in [s for s in template.split("/") if s.startswith("{")]:
            path = path.replace(seg, SAMPLE.get(seg[1:-1], "example"), 1)
        params = {
            p["name"]: _sample(p.get("schema", {}))
            for p in op.get("parameters", [])
            if p.get("in") == "query" and p.get("required")
        }
        try:
            value = px(path).get(**params)
        except Exception:
            refused += 1  # a 500 for an object that does not exist, or a 400
            continue
        try:
            response_model("GET", template, version).model_validate(value)
            parsed += 1
        except Exception as e:
            if (version, template) not in SCHEMA_BUGS:
                failures.append((template, str(e)[:500]))
    assert failures == []
    # Most of the API answers (the rest need objects the walk does not create).
    assert parsed >= 230, (parsed, refused)


def test_modules_names_and_index() -> None:
    latest = models()
    v92 = models("9.2")
    assert latest is v92 and v92.GENERATED_FOR_PROXMOX_VERSION == "9.2"
    assert models("9.1.11").GENERATED_FOR_PROXMOX_VERSION == "9.1.11"
    from proxmox_sdk.generated.proxmox.latest import pydantic_models as alias

    assert alias.GetVersionResponse is v92.GetVersionResponse
    assert len(alias.__all__) > 1000
    ops = operation_models("9.2")
    assert ops["get_nodes_node_qemu"] == {
        "method": "GET",
        "path": "/nodes/{node}/qemu",
        "request_model": "GetNodesNodeQemuRequest",
        "response_model": "GetNodesNodeQemuResponse",
    }
    # Parameters, without the path's own; PVE's names kept as aliases.
    req = v92.PostNodesNodeQemuRequest.model_validate({"vmid": 100, "cpu-units": 2})
    assert req.vmid == 100 and "node" not in v92.PostNodesNodeQemuRequest.model_fields
    for service, name in (("PBS", "pbs"), ("PMG", "pmg"), ("PDM", "pdm")):
        assert models(service=service).GENERATED_FOR_SERVICE == service, name
    with pytest.raises(ValueError, match="unknown service 'XYZ'"):
        models(service="XYZ")
    with pytest.raises(ValueError, match="no operation GET /nope"):
        response_model("GET", "/nope")
    # The original package's text loader.
    text = schema.load_pydantic_models("9.2")
    assert text is not None and "class GetVersionResponse(ProxmoxBaseModel):" in text
    assert schema.load_pydantic_models("1.0") is None


def test_model_true_gives_typed_answers_sync_and_async() -> None:
    px = SyncProxmoxSDK.mock(mock_namespace="models-typed")
    px.mock_store.reset()
    px.nodes("pve1").qemu.post(vmid=100, name="web", memory=2048)
    config = px.nodes("pve1").qemu(100).config.get(model=True)
    assert type(config).__name__ == "GetNodesNodeQemuVmidConfigResponse"
    assert (config.name, config.memory) == ("web", "2048")
    guests = px.nodes("pve1").qemu.get(model=True)
    assert [g.vmid for g in guests.root] == [100]
    assert px.version.get(model=False)["release"] == "9.2"
    with pytest.raises(TypeError, match="model: expected True or False, got str"):
        px.version.get(model="yes")
    with pytest.raises(ValueError, match="model=True: /api2/json/nope is no path"):
        px.nope.get(model=True)

    async def main() -> Any:
        sdk = ProxmoxSDK.mock(mock_namespace="models-typed")
        answers = await asyncio.gather(
            sdk.version.get(model=True), sdk.nodes("pve1").qemu(100).status.current.get(model=True)
        )
        await sdk.close()
        return answers

    version, status = asyncio.run(main())
    assert version.release == "9.2" and status.status == "stopped"


def test_without_pydantic_the_error_says_what_to_install() -> None:
    code = (
        "import sys; sys.modules['pydantic'] = None\n"
        "from proxmox_sdk.generated import models\n"
        "try:\n    models()\nexcept ImportError as e:\n    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "pip install 'proxmox-sdk[models]'" in out.stdout, out.stderr
