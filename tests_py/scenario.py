"""The differential test's scenario: what a provisioning script, a sync job and a test
suite do to a PVE node, refusals included, one step per call (see differential.py)."""

from __future__ import annotations

from differential import step

Q = "/nodes/{node}/qemu"
VM = Q + "/200"
RULES = VM + "/firewall/rules"
ALIASES = "/cluster/firewall/aliases"
IPSETS = "/cluster/firewall/ipset"
BAD_DIGEST = "0" * 40
PASSWORD = "Alice-pass-42"

STORAGE = [
    step(
        "storage-add",
        "POST",
        "/storage",
        {"storage": "dstore", "type": "dir", "path": "/srv/dstore", "content": "images,iso"},
    ),
    step(
        "storage-add-again", "POST", "/storage", {"storage": "dstore", "type": "dir", "path": "/x"}
    ),
    step("storage-add-bad-type", "POST", "/storage", {"storage": "other", "type": "nope"}),
    step(
        "storage-add-bad-content",
        "POST",
        "/storage",
        {"storage": "other", "type": "dir", "path": "/x", "content": "nonsense"},
    ),
    step(
        "storage-add-bad-id", "POST", "/storage", {"storage": "1 bad", "type": "dir", "path": "/x"}
    ),
    step("storage-get", "GET", "/storage/dstore"),
    step("storage-get-missing", "GET", "/storage/nostore"),
    step("storage-list-dir", "GET", "/storage", {"type": "dir"}),
    step("storage-update", "PUT", "/storage/dstore", {"content": "images,iso,vztmpl"}),
    step("storage-update-bad-content", "PUT", "/storage/dstore", {"content": "nonsense"}),
    step("storage-update-unknown-key", "PUT", "/storage/dstore", {"nosuchkey": "1"}),
    step("storage-update-digest", "PUT", "/storage/dstore", {"digest": BAD_DIGEST, "shared": "0"}),
    step("storage-update-missing", "PUT", "/storage/nostore", {"content": "images"}),
    step("node-storage-list", "GET", "/nodes/{node}/storage"),
    step("storage-add-dir-no-path", "POST", "/storage", {"storage": "nopath", "type": "dir"}),
    step(
        "storage-add-unexpected",
        "POST",
        "/storage",
        {"storage": "lv2", "type": "lvmthin", "vgname": "pve", "thinpool": "data", "path": "/x"},
    ),
    step(
        "storage-add-bad-path", "POST", "/storage", {"storage": "rel", "type": "dir", "path": "x"}
    ),
    step("storage-update-fixed", "PUT", "/storage/local-lvm", {"vgname": "other"}),
    step("storage-delete-required", "PUT", "/storage/local-lvm", {"delete": "thinpool"}),
    step(
        "storage-add-nfs",
        "POST",
        "/storage",
        {"storage": "nfs1", "type": "nfs", "server": "10.0.0.9", "export": "/export"},
    ),
    step("storage-get-nfs", "GET", "/storage/nfs1"),
    step("storage-delete-nfs", "DELETE", "/storage/nfs1"),
]

QEMU = [
    step(
        "vm-create",
        "POST",
        Q,
        {
            "vmid": "200",
            "name": "diff-vm",
            "memory": "512",
            "cores": "1",
            "scsi0": "dstore:1,format=qcow2",
        },
    ),
    step("vm-create-again", "POST", Q, {"vmid": "200", "name": "diff-vm"}),
    step("vm-create-bad-vmid", "POST", Q, {"vmid": "99"}),
    step("vm-create-bad-name", "POST", Q, {"vmid": "201", "name": "bad name!"}),
    step("vm-create-bad-enum", "POST", Q, {"vmid": "201", "ostype": "nope"}),
    step("vm-create-unknown-key", "POST", Q, {"vmid": "201", "nosuchkey": "1"}),
    step("vm-create-bad-net", "POST", Q, {"vmid": "201", "net0": "virtio=zz"}),
    step("vm-list", "GET", Q),
    step("vm-config-get", "GET", VM + "/config", save={"digest": "data.digest"}, shape=False),
    step("vm-config-get-missing", "GET", Q + "/201/config"),
    step("vm-config-put", "PUT", VM + "/config", {"description": "diff", "memory": "768"}),
    step("vm-config-put-bad-enum", "PUT", VM + "/config", {"ostype": "nope"}),
    step("vm-config-put-out-of-range", "PUT", VM + "/config", {"cores": "0"}),
    step("vm-config-put-bad-type", "PUT", VM + "/config", {"memory": "lots"}),
    step("vm-config-put-unknown-key", "PUT", VM + "/config", {"nosuchkey": "1"}),
    step("vm-config-put-digest", "PUT", VM + "/config", {"digest": BAD_DIGEST, "cores": "2"}),
    step("vm-config-put-missing", "PUT", Q + "/201/config", {"cores": "2"}),
    step("vm-start", "POST", VM + "/status/start"),
    step("vm-status", "GET", VM + "/status/current", shape=False),
    step("vm-start-again", "POST", VM + "/status/start"),
    step("vm-stop", "POST", VM + "/status/stop"),
    step("vm-stop-again", "POST", VM + "/status/stop"),
    step("vm-status-missing", "GET", Q + "/201/status/current"),
    step("vm-snapshot-create", "POST", VM + "/snapshot", {"snapname": "s1", "description": "d"}),
    step("vm-snapshot-list", "GET", VM + "/snapshot", shape=False),
    step("vm-snapshot-reuse", "POST", VM + "/snapshot", {"snapname": "s1"}),
    step("vm-snapshot-bad-name", "POST", VM + "/snapshot", {"snapname": "1 bad"}),
    step("vm-snapshot-reserved", "POST", VM + "/snapshot", {"snapname": "current"}),
    step("vm-snapshot-config", "GET", VM + "/snapshot/s1/config", shape=False),
    step("vm-snapshot-rollback", "POST", VM + "/snapshot/s1/rollback"),
    step("vm-snapshot-delete", "DELETE", VM + "/snapshot/s1"),
    step("vm-snapshot-delete-missing", "DELETE", VM + "/snapshot/s1"),
    step("vm-clone", "POST", VM + "/clone", {"newid": "202", "name": "diff-clone", "full": "1"}),
    step("vm-clone-id-in-use", "POST", VM + "/clone", {"newid": "202"}),
    step("vm-clone-bad-newid", "POST", VM + "/clone", {"newid": "99"}),
    step("vm-clone-missing", "POST", Q + "/201/clone", {"newid": "203"}),
    step("vm-clone-config", "GET", Q + "/202/config"),
    step("vm-template", "POST", Q + "/202/template"),
    step("vm-template-config", "GET", Q + "/202/config"),
    step("vm-template-again", "POST", Q + "/202/template"),
    step("vm-template-start", "POST", Q + "/202/status/start"),
    step("vm-template-clone", "POST", Q + "/202/clone", {"newid": "203", "name": "diff-linked"}),
    step("vm-linked-config", "GET", Q + "/203/config"),
    step("vm-clone-linked-not-template", "POST", VM + "/clone", {"newid": "204", "full": "0"}),
    step(
        "vm-template-clone-storage", "POST", Q + "/202/clone", {"newid": "204", "storage": "dstore"}
    ),
    step("vm-template-clone-format", "POST", Q + "/202/clone", {"newid": "204", "format": "raw"}),
    step("vm-clone-snapshot-missing", "POST", VM + "/clone", {"newid": "204", "snapname": "nope"}),
    step("vm-clone-no-images", "POST", VM + "/clone", {"newid": "204", "storage": "local"}),
    step("vm-storage-content", "GET", "/nodes/{node}/storage/dstore/content"),
    step("vm-linked-destroy", "DELETE", Q + "/203"),
    step("vm-template-destroy", "DELETE", Q + "/202"),
    step("vm-create-no-images", "POST", Q, {"vmid": "206", "scsi0": "local:1"}),
    step(
        "vm-create-defaults",
        "POST",
        Q,
        {
            "vmid": "207",
            "scsi0": "local-lvm:1",
            "ide2": "none,media=cdrom",
            "net0": "virtio,bridge=vmbr0",
        },
    ),
    step("vm-create-defaults-config", "GET", Q + "/207/config"),
    step("vm-create-defaults-destroy", "DELETE", Q + "/207"),
    step("vm-raw-create", "POST", Q, {"vmid": "205", "scsi0": "dstore:1"}),
    step("vm-raw-snapshot", "POST", Q + "/205/snapshot", {"snapname": "s1"}),
    step("vm-raw-destroy", "DELETE", Q + "/205"),
    step("vm-status-stopped-shape", "GET", VM + "/status/current"),
    step("vm-protect", "PUT", VM + "/config", {"protection": "1"}),
    step("vm-destroy-protected", "DELETE", VM),
    step("vm-unprotect", "PUT", VM + "/config", {"protection": "0"}),
    step("vm-start-second", "POST", VM + "/status/start"),
    step("vm-destroy-running", "DELETE", VM),
    step("vm-stop-second", "POST", VM + "/status/stop"),
]

CT = "/nodes/{node}/lxc"
TEMPLATE = "debian-12-standard_12.12-1_amd64.tar.zst"

CONTAINERS = [
    step("apl-list", "GET", "/nodes/{node}/aplinfo", shape=False),
    step(
        "apl-download-unknown",
        "POST",
        "/nodes/{node}/aplinfo",
        {"storage": "local", "template": "nope.tar.zst"},
    ),
    step(
        "apl-download-no-vztmpl",
        "POST",
        "/nodes/{node}/aplinfo",
        {"storage": "local-lvm", "template": TEMPLATE},
    ),
    step(
        "apl-download", "POST", "/nodes/{node}/aplinfo", {"storage": "local", "template": TEMPLATE}
    ),
    step("apl-content", "GET", "/nodes/{node}/storage/local/content", {"content": "vztmpl"}),
    step(
        "ct-create-default-rootfs",
        "POST",
        CT,
        {"vmid": "300", "ostemplate": "local:vztmpl/" + TEMPLATE},
    ),
    step(
        "ct-create-not-vztmpl",
        "POST",
        CT,
        {"vmid": "300", "ostemplate": "local:iso/x.iso", "storage": "local-lvm"},
    ),
    step(
        "ct-create",
        "POST",
        CT,
        {
            "vmid": "300",
            "ostemplate": "local:vztmpl/" + TEMPLATE,
            "storage": "local-lvm",
            "net0": "name=eth0,bridge=vmbr0,ip=dhcp",
        },
    ),
    step("ct-config", "GET", CT + "/300/config"),
    step("ct-template", "POST", CT + "/300/template"),
    step("ct-template-config", "GET", CT + "/300/config"),
    step("ct-clone", "POST", CT + "/300/clone", {"newid": "301", "hostname": "ct301"}),
    step("ct-clone-config", "GET", CT + "/301/config"),
    step("ct-clone-destroy", "DELETE", CT + "/301"),
    step("ct-destroy", "DELETE", CT + "/300"),
]

POOLS = [
    step("pool-create", "POST", "/pools", {"poolid": "dpool", "comment": "diff"}),
    step("pool-create-again", "POST", "/pools", {"poolid": "dpool"}),
    step("pool-create-bad-name", "POST", "/pools", {"poolid": "bad name"}),
    step("pool-list", "GET", "/pools"),
    step("pool-add-member", "PUT", "/pools/dpool", {"vms": "200"}),
    step("pool-get", "GET", "/pools/dpool"),
    step("pool-add-missing-member", "PUT", "/pools/dpool", {"vms": "201"}),
    step("pool-delete-not-empty", "DELETE", "/pools/dpool"),
    step("pool-remove-member", "PUT", "/pools/dpool", {"vms": "200", "delete": "1"}),
    step("pool-delete", "DELETE", "/pools/dpool"),
    step("pool-delete-again", "DELETE", "/pools/dpool"),
    step("pool-get-missing", "GET", "/pools/dpool"),
]

FIREWALL = [
    step(
        "fw-rule-add",
        "POST",
        RULES,
        {"type": "in", "action": "ACCEPT", "proto": "tcp", "dport": "22", "enable": "1"},
    ),
    step("fw-rule-add-second", "POST", RULES, {"type": "in", "action": "DROP"}),
    step("fw-rule-add-bad-action", "POST", RULES, {"type": "in", "action": "MAYBE"}),
    step(
        "fw-rule-add-bad-port", "POST", RULES, {"type": "in", "action": "ACCEPT", "dport": "99999"}
    ),
    step("fw-rule-add-bad-type", "POST", RULES, {"type": "sideways", "action": "ACCEPT"}),
    step("fw-rule-list", "GET", RULES),
    step("fw-rule-get", "GET", RULES + "/0"),
    step("fw-rule-move", "PUT", RULES + "/1", {"moveto": "0"}),
    step("fw-rule-delete", "DELETE", RULES + "/0"),
    step("fw-rule-get-missing", "GET", RULES + "/5"),
    step("fw-rule-delete-missing", "DELETE", RULES + "/5"),
    step("fw-options", "GET", VM + "/firewall/options", shape=False),
    step("fw-group-create", "POST", "/cluster/firewall/groups", {"group": "dgroup"}),
    step(
        "fw-group-rule-add",
        "POST",
        "/cluster/firewall/groups/dgroup",
        {"type": "in", "action": "ACCEPT", "proto": "udp", "dport": "53"},
    ),
    step("fw-group-rules", "GET", "/cluster/firewall/groups/dgroup"),
    step("fw-rule-add-group", "POST", RULES, {"type": "group", "action": "dgroup"}),
    step("fw-rule-add-missing-group", "POST", RULES, {"type": "group", "action": "nogroup"}),
    step(
        "fw-rule-add-backwards-range",
        "POST",
        RULES,
        {"type": "in", "action": "DROP", "dport": "90:80"},
    ),
    step("fw-alias-add", "POST", ALIASES, {"name": "Web", "cidr": "10.0.0.0/24", "comment": "c"}),
    step("fw-alias-add-again", "POST", ALIASES, {"name": "web", "cidr": "10.0.1.0/24"}),
    step("fw-alias-add-bad-cidr", "POST", ALIASES, {"name": "bad", "cidr": "10.0.0.300"}),
    step("fw-alias-list", "GET", ALIASES),
    step("fw-alias-get", "GET", ALIASES + "/web"),
    step("fw-alias-get-missing", "GET", ALIASES + "/nope"),
    step("fw-alias-update", "PUT", ALIASES + "/web", {"cidr": "10.0.2.0/24"}),
    step("fw-alias-update-missing", "PUT", ALIASES + "/nope", {"cidr": "10.0.2.0/24"}),
    step("fw-alias-rename", "PUT", ALIASES + "/web", {"cidr": "10.0.2.0/24", "rename": "www"}),
    step("fw-alias-get-renamed", "GET", ALIASES + "/www"),
    step("fw-ipset-add", "POST", IPSETS, {"name": "dset", "comment": "c"}),
    step("fw-ipset-add-again", "POST", IPSETS, {"name": "dset"}),
    step("fw-ipset-list", "GET", IPSETS),
    step("fw-ipset-entry-add", "POST", IPSETS + "/dset", {"cidr": "192.168.1.0/24"}),
    step("fw-ipset-entry-add-host", "POST", IPSETS + "/dset", {"cidr": "192.168.2.7/32"}),
    step("fw-ipset-entry-add-again", "POST", IPSETS + "/dset", {"cidr": "192.168.1.0/24"}),
    step("fw-ipset-entry-add-zero", "POST", IPSETS + "/dset", {"cidr": "0.0.0.0/0"}),
    step("fw-ipset-entry-add-alias", "POST", IPSETS + "/dset", {"cidr": "www"}),
    step("fw-ipset-entry-add-missing-alias", "POST", IPSETS + "/dset", {"cidr": "nope"}),
    step("fw-ipset-entries", "GET", IPSETS + "/dset"),
    step("fw-ipset-entry-get", "GET", IPSETS + "/dset/192.168.2.7"),
    step("fw-ipset-entry-get-missing", "GET", IPSETS + "/dset/10.9.9.9"),
    step("fw-ipset-entry-update", "PUT", IPSETS + "/dset/192.168.2.7", {"nomatch": "1"}),
    step("fw-ipset-delete-not-empty", "DELETE", IPSETS + "/dset"),
    step("fw-ipset-entry-delete", "DELETE", IPSETS + "/dset/192.168.2.7"),
    step("fw-ipset-missing", "GET", IPSETS + "/nope"),
    step("fw-ipset-delete-force", "DELETE", IPSETS + "/dset", {"force": "1"}),
    step("fw-alias-delete", "DELETE", ALIASES + "/www"),
    step("fw-cluster-options", "GET", "/cluster/firewall/options"),
    step("fw-cluster-options-put", "PUT", "/cluster/firewall/options", {"enable": "1"}),
    step(
        "fw-cluster-options-delete-unknown",
        "PUT",
        "/cluster/firewall/options",
        {"delete": "nosuch"},
    ),
    step("fw-cluster-options-after", "GET", "/cluster/firewall/options"),
]

CLUSTER = [
    step("version", "GET", "/version", shape=False),
    step("nodes", "GET", "/nodes", shape=False),
    step("cluster-resources-vm", "GET", "/cluster/resources", {"type": "vm"}),
    step("cluster-nextid", "GET", "/cluster/nextid"),
    step("cluster-nextid-taken", "GET", "/cluster/nextid", {"vmid": "200"}),
    step("cluster-nextid-free", "GET", "/cluster/nextid", {"vmid": "4242"}),
    step("unknown-path", "GET", "/nodes/{node}/nosuchthing"),
    step("tasks-limit", "GET", "/nodes/{node}/tasks", {"limit": "2"}),
    step("tasks-typefilter", "GET", "/nodes/{node}/tasks", {"typefilter": "qmstart", "limit": "1"}),
    step("cluster-status", "GET", "/cluster/status"),
    step("task-bogus", "GET", "/nodes/{node}/tasks/UPID:bogus/status"),
]

ACCESS = [
    step("domains-anonymous", "GET", "/access/domains", as_=None),
    step("nodes-anonymous", "GET", "/nodes", as_=None),
    step("user-create", "POST", "/access/users", {"userid": "alice@pve", "password": PASSWORD}),
    step("user-create-again", "POST", "/access/users", {"userid": "alice@pve"}),
    step("user-create-bad-id", "POST", "/access/users", {"userid": "alice"}),
    step("user-get", "GET", "/access/users/alice@pve", shape=False),
    step("user-update", "PUT", "/access/users/alice@pve", {"email": "a@example.com"}),
    step("user-get-missing", "GET", "/access/users/bob@pve"),
    step(
        "alice-login",
        "POST",
        "/access/ticket",
        {"username": "alice@pve", "password": PASSWORD},
        as_=None,
        save={"alice": "login"},
        shape=False,
    ),
    step(
        "alice-login-bad-password",
        "POST",
        "/access/ticket",
        {"username": "alice@pve", "password": "wrong"},
        as_=None,
    ),
    step("alice-vm-list", "GET", Q, as_="alice"),
    step("alice-vm-config", "GET", VM + "/config", as_="alice"),
    step("alice-vm-config-put", "PUT", VM + "/config", {"cores": "2"}, as_="alice"),
    step("alice-vm-destroy", "DELETE", VM, as_="alice"),
    step("alice-root-update", "PUT", "/access/users/root@pam", {"comment": "x"}, as_="alice"),
    step(
        "acl-grant",
        "PUT",
        "/access/acl",
        {"path": "/vms/200", "roles": "PVEVMUser", "users": "alice@pve"},
    ),
    step("acl-list", "GET", "/access/acl"),
    step("alice-vm-config-granted", "GET", VM + "/config", as_="alice", shape=False),
    step("alice-vm-config-put-granted", "PUT", VM + "/config", {"cores": "2"}, as_="alice"),
    step("alice-vm-start-granted", "POST", VM + "/status/start", as_="alice"),
    step("alice-vm-stop-granted", "POST", VM + "/status/stop", as_="alice"),
    step(
        "token-create",
        "POST",
        "/access/users/alice@pve/token/t1",
        {"privsep": "0"},
        save={"alice-token": "token"},
        shape=False,
    ),
    step("token-vm-config", "GET", VM + "/config", as_="alice-token", shape=False),
    step("token-list", "GET", "/access/users/alice@pve/token"),
    step("token-delete", "DELETE", "/access/users/alice@pve/token/t1"),
    step("token-after-delete", "GET", VM + "/config", as_="alice-token"),
    step("role-list", "GET", "/access/roles", shape=False),
    step("role-create", "POST", "/access/roles", {"roleid": "DiffRole", "privs": "VM.Audit"}),
    step("role-create-bad-priv", "POST", "/access/roles", {"roleid": "Diff2", "privs": "No.Such"}),
    step("role-get", "GET", "/access/roles/DiffRole"),
    step("user-delete", "DELETE", "/access/users/alice@pve"),
    step("alice-after-delete", "GET", Q, as_="alice"),
    step("user-delete-again", "DELETE", "/access/users/alice@pve"),
]

TEARDOWN = [
    step("vm-destroy", "DELETE", VM, {"purge": "1"}),
    step("vm-destroy-again", "DELETE", VM),
    step("storage-delete", "DELETE", "/storage/dstore"),
    step("storage-delete-again", "DELETE", "/storage/dstore"),
]

SCENARIO = STORAGE + QEMU + CONTAINERS + POOLS + FIREWALL + CLUSTER + ACCESS + TEARDOWN
