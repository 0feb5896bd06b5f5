"""The differential test: one scenario (scenario.py) played against fakepve, an
independent PVE emulator whose error catalogue was extracted from PVE's source, and
against our server; every difference a client could notice (status, message, blamed
parameters, answer shape, task outcome) must be one of the documented cases below, each
saying who is right about PVE and why. A new difference fails, and so does a documented
one that went away (the list stays true)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from differential import Player, differences, our_server, sigint_default
from scenario import SCENARIO

NODE = "pve1"
PASSWORD = "Differential-pw-1"

# Why fakepve and PVE part ways, once per reason.
NO_USER_STORE = (
    "fakepve keeps no users, tokens or roles of its own: a user it accepts cannot log in, "
    "a token it issues does not authenticate, created roles read back as another role. "
    "PVE keeps them in user.cfg/shadow.cfg/token.cfg and authenticates against them "
    "(pve-access-control PVE/AccessControl.pm authenticate_user, verify_token; "
    "PVE/API2/User.pm, PVE/API2/Role.pm), as ours does."
)
NO_TICKET = (
    "A request without ticket or token is PVE's `401 No ticket` (pve-http-server "
    "PVE/APIServer/AnyEvent.pm auth_handler; see ../shared/PVE-WIRE.md); fakepve answers "
    "as for a forged ticket."
)

APLINFO = (
    "fakepve has no appliance index (its `aplinfo` answers from the schema). PVE's "
    "apl_download (pve-manager PVE/API2/Nodes.pm) refuses a template not in the index "
    '(`raise_param_exc({ template => "no such template"})`) and a storage without '
    "`vztmpl` content (`storage '$storage' does not support templates`) before forking "
    "the download."
)

# step -> (the differences, in `differences()`'s words; why, citing PVE)
KNOWN: dict[str, tuple[list[str], str]] = {
    "vm-list": (
        ["data[]: ours lacks serial", "data[]: only ours has diskread, diskwrite"],
        "qemu-server's vmstatus (PVE/QemuServer.pm) starts every guest's diskread and "
        "diskwrite at 0 and sets serial only for a guest with a serial port "
        "(`$d->{serial} = 1 if conf_has_serial($conf)`); fakepve drops the first and "
        "always sends the second.",
    ),
    "pool-get": (
        [
            "data: ours lacks poolid",
            "data.members[]: only ours has cpu, disk, diskread, diskwrite, maxcpu, maxdisk, "
            "maxmem, mem, netin, netout, template, uptime",
        ],
        "PVE's GET /pools/{poolid} answers `members` and `comment` (its returns schema, "
        "pve-manager PVE/API2/Pool.pm read_pool), fakepve adds the id; each guest member is "
        "PVE::API2Tools::extract_vm_stats of the guest, which copies the counters of its RRD "
        "entry (uptime, cpu, maxcpu, mem, maxmem, disk, maxdisk, net and disk I/O, template), "
        "where fakepve gives only name and status.",
    ),
    "unknown-path": (
        [
            "status: ours 501, fakepve 404",
            "message: ours \"Method 'GET /nodes/pve1/nosuchthing' not implemented\", "
            "fakepve 'Not Found'",
        ],
        "PVE answers a path its API lacks with 501 `Method '...' not implemented` "
        "(PVE/APIServer/AnyEvent.pm handle_api2_request; ../shared/PVE-WIRE.md).",
    ),
    "task-bogus": (
        [
            "status: ours 400, fakepve 500",
            "message: ours 'Parameter verification failed.', fakepve \"unable to parse "
            "worker upid '<upid>'\"",
            "errors: ours {'upid': 'unable to parse worker upid'}, fakepve {}",
        ],
        "pve-manager PVE/API2/Tasks.pm read_task_status: "
        '`raise_param_exc({ upid => "unable to parse worker upid" }) if !$task`, a 400.',
    ),
    "domains-anonymous": (
        ["data[]: ours lacks default"],
        "fakepve marks its one made-up realm `default`; PVE's index copies `default` only "
        "from a realm configured so (PVE/API2/Domains.pm index), which ours has none of.",
    ),
    "vm-status-stopped-shape": (
        ["data: ours lacks balloon, clipboard"],
        "A stopped VM has no balloon (qemu-server's vmstatus takes it from the running "
        "VM's QMP query-balloon); PVE sends `clipboard: null` without a configured "
        "clipboard, which its own returns schema (a string enum) does not allow, so ours "
        "leaves it out and its answers validate (a client reading it gets nothing either way).",
    ),
    "fw-rule-add-missing-group": (
        [
            "status: ours 400, fakepve 200",
            "message: ours 'Parameter verification failed.', fakepve 'OK'",
            "errors: ours {'action': \"security group 'nogroup' does not exist\"}, fakepve {}",
        ],
        "pve-firewall's verify_rule checks a `type=group` rule's action against the "
        "cluster's security groups (`security group '$action' does not exist`, raised as a "
        "parameter error); fakepve stores the rule.",
    ),
    "cluster-status": (
        ["data[]: ours lacks nodes, quorate, version"],
        "fakepve reports a one-node cluster (`fakecluster`); a node that is in no cluster "
        "answers its node entry only (pve-manager PVE/API2/ClusterConfig.pm / "
        "PVE::Cluster::get_clinfo), as ours does until it has more than one node.",
    ),
    "nodes-anonymous": (
        ["message: ours 'No ticket', fakepve 'permission denied - invalid PVE ticket'"],
        NO_TICKET,
    ),
    "apl-download-unknown": (
        [
            "status: ours 400, fakepve 200",
            "message: ours 'Parameter verification failed.', fakepve 'OK'",
            "errors: ours {'template': 'no such template'}, fakepve {}",
            "task: ours None, fakepve 'OK'",
            "data: ours null, fakepve string",
        ],
        APLINFO,
    ),
    "apl-download-no-vztmpl": (
        [
            "status: ours 500, fakepve 200",
            "message: ours \"storage 'local-lvm' does not support templates\", fakepve 'OK'",
            "task: ours None, fakepve 'OK'",
            "data: ours null, fakepve string",
        ],
        APLINFO,
    ),
    "ct-template": (
        ["task: ours None, fakepve 'OK'", "data: ours null, fakepve string"],
        "PVE 9.2's schema: `POST /nodes/{node}/lxc/{vmid}/template` returns null "
        "(pve-container src/PVE/API2/LXC.pm `template` converts under the config lock, "
        "without a worker); fakepve runs a `vztemplate` task.",
    ),
}
for _step, _diffs in {
    "user-create-again": [
        "status: ours 500, fakepve 200",
        "message: ours \"create user failed: user 'alice@pve' already exists\", fakepve 'OK'",
    ],
    "user-get-missing": [
        "status: ours 500, fakepve 200",
        "message: ours \"no such user ('bob@pve')\", fakepve 'OK'",
        "data: ours null, fakepve object",
    ],
    "alice-login": [
        "status: ours 200, fakepve 401",
        "message: ours 'OK', fakepve 'authentication failure'",
    ],
    "alice-vm-list": [
        "status: ours 200, fakepve 401",
        "message: ours 'OK', fakepve 'permission denied - invalid PVE ticket'",
        "data: ours list, fakepve null",
    ],
    "alice-vm-config": [
        "status: ours 403, fakepve 401",
        "message: ours 'Permission check failed (/vms/200, VM.Audit)', "
        "fakepve 'permission denied - invalid PVE ticket'",
    ],
    "alice-vm-config-put": [
        "status: ours 403, fakepve 401",
        "message: ours 'Permission check failed (/vms/200, VM.Config.Disk|VM.Config.CDROM|"
        "VM.Config.CPU|VM.Config.Memory|VM.Config.Network|VM.Config.HWType|"
        "VM.Config.Options|VM.Config.Cloudinit)', fakepve 'permission denied - invalid PVE "
        "ticket'",
    ],
    "alice-vm-destroy": [
        "status: ours 403, fakepve 401",
        "message: ours 'Permission check failed (/vms/200, VM.Allocate)', "
        "fakepve 'permission denied - invalid PVE ticket'",
    ],
    "alice-root-update": [
        "status: ours 403, fakepve 401",
        "message: ours 'Permission check failed (/access/groups, User.Modify)', "
        "fakepve 'permission denied - invalid PVE ticket'",
    ],
    "alice-vm-config-granted": [
        "status: ours 200, fakepve 401",
        "message: ours 'OK', fakepve 'permission denied - invalid PVE ticket'",
    ],
    "alice-vm-config-put-granted": [
        "status: ours 200, fakepve 401",
        "message: ours 'OK', fakepve 'permission denied - invalid PVE ticket'",
    ],
    "alice-vm-start-granted": [
        "status: ours 200, fakepve 401",
        "message: ours 'OK', fakepve 'permission denied - invalid PVE ticket'",
        "task: ours 'OK', fakepve None",
        "data: ours string, fakepve null",
    ],
    "alice-vm-stop-granted": [
        "status: ours 200, fakepve 401",
        "message: ours 'OK', fakepve 'permission denied - invalid PVE ticket'",
        "task: ours 'OK', fakepve None",
        "data: ours string, fakepve null",
    ],
    "token-vm-config": [
        "status: ours 200, fakepve 401",
        "message: ours 'OK', fakepve 'authentication failure'",
    ],
    "role-create-bad-priv": [
        "status: ours 500, fakepve 200",
        "message: ours \"create role failed: invalid privilege 'No.Such'\", fakepve 'OK'",
    ],
    "role-get": [
        "data: ours lacks Datastore.Audit, Mapping.Audit, Pool.Audit, SDN.Audit, "
        "Sys.Audit, VM.GuestAgent.Audit",
    ],
    "token-list": [
        # PVE/API2/User.pm token_index answers each token's user.cfg entry: its expire and
        # privsep are always there (comment only when set).
        "data[]: only ours has expire, privsep",
    ],
    "token-after-delete": [
        "message: ours \"no such token 't1' for user 'alice@pve'\", fakepve 'authentication failure'",
    ],
    "user-delete-again": [
        "status: ours 500, fakepve 200",
        "message: ours \"no such user ('alice@pve')\", fakepve 'OK'",
    ],
}.items():
    KNOWN[_step] = (_diffs, NO_USER_STORE)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def fakepve(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    exe = shutil.which("fakepve", path=os.path.dirname(sys.executable))
    assert exe, "fakepve is installed by requirements-dev.txt"
    guests = tmp_path_factory.mktemp("fakepve") / "guests.json"
    guests.write_text(json.dumps({"guests": []}))
    port = _free_port()
    proc = subprocess.Popen(
        [exe, str(guests), "--host", "127.0.0.1", "--port", str(port), "--time-scale", "0"],
        env={**os.environ, "PVE_PASS": PASSWORD},
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=sigint_default,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert "listening on https://127.0.0.1" in line, line
        yield f"https://127.0.0.1:{port}"
    finally:
        proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=20)


def _our_server(version: str | None) -> Iterator[str]:
    settings = {"PROXMOX_MOCK_PASSWORD": PASSWORD, "PROXMOX_MOCK_NODES": NODE}
    if version:
        settings["PROXMOX_MOCK_SCHEMA_VERSION"] = version
    with our_server(settings) as base:
        yield base


@pytest.fixture(scope="module")
def ours() -> Iterator[str]:
    yield from _our_server(None)


@pytest.fixture(scope="module")
def ours_9_1() -> Iterator[str]:
    yield from _our_server("9.1.11")


@pytest.fixture(scope="module")
def ours_9_2() -> Iterator[str]:
    """A second 9.2 server, fresh for the comparison of versions."""
    yield from _our_server("9.2")


def _play(base: str) -> dict[str, dict[str, object]]:
    player = Player(base, PASSWORD, NODE)
    try:
        return {s.name: player.play(s) for s in SCENARIO}
    finally:
        player.close()


def test_scenario_names_are_unique() -> None:
    names = [s.name for s in SCENARIO]
    assert len(names) == len(set(names))
    assert set(KNOWN) <= set(names), set(KNOWN) - set(names)


def test_ours_differs_from_fakepve_only_where_documented(
    fakepve: str, ours: str, tmp_path: Path
) -> None:
    theirs = _play(fakepve)
    mine = _play(ours)
    unexpected: dict[str, list[str]] = {}
    stale: list[str] = []
    for s in SCENARIO:
        found = differences(mine[s.name], theirs[s.name])
        expected = KNOWN.get(s.name, ([], ""))[0]
        if found != expected:
            unexpected[s.name] = found
        if s.name in KNOWN and not found:
            stale.append(s.name)
    report = tmp_path / "differences.json"
    report.write_text(json.dumps({"unexpected": unexpected, "stale": stale}, indent=1))
    lines = [f"{name}:\n    " + "\n    ".join(d or ["(none)"]) for name, d in unexpected.items()]
    assert not unexpected and not stale, (
        f"{len(unexpected)} steps differ other than documented, stale: {stale}\n" + "\n".join(lines)
    )


# Where the two bundled schema versions disagree, the 9.1.11 mock answers by its own.
VERSION_DIFFERENCES: dict[str, list[str]] = {}


def test_both_schema_versions_answer_the_scenario_alike(ours_9_2: str, ours_9_1: str) -> None:
    """The semantics are the same for 9.2 and 9.1.11 wherever their schemas agree: the
    whole scenario (access, guests, snapshots, clone, pools, storage, firewall, cluster,
    tasks) answers alike on both."""
    releases = []
    for base in (ours_9_2, ours_9_1):
        player = Player(base, PASSWORD, NODE)
        try:
            releases.append(player.http.get("/version", headers=player.identities["root"]).json())
        finally:
            player.close()
    assert [r["data"]["version"] for r in releases] == ["9.2.0", "9.1.11"]
    new = _play(ours_9_2)
    old = _play(ours_9_1)
    unexpected = {
        s.name: d
        for s in SCENARIO
        if (d := differences(old[s.name], new[s.name])) != VERSION_DIFFERENCES.get(s.name, [])
    }
    assert not unexpected, unexpected
