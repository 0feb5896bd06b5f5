//! The default PBS server the mock starts from (see [`default_state`]).

use serde_json::{json, Map, Value};

use super::{namespaces_key, snapshot_id, snapshots_key, GIB};
use crate::mock::store::{MockState, Record};

/// The seeded remote's certificate fingerprint (SHA-256, as PBS shows it).
const REMOTE_FINGERPRINT: &str =
    "64:d3:ff:3a:50:38:53:5a:9b:f7:50:b2:6b:4c:ad:2c:97:7f:f4:1d:26:c4:a6:b3:0e:0d:1a:8b:5c:29:3e:f1";

fn rec(config: Value) -> Record {
    Record {
        config: config.as_object().cloned().unwrap_or_default(),
        meta: Map::new(),
    }
}

/// A PBS UPID of a finished task (`UPID:localhost:pid:pstart:task:start:type:id:user:`).
pub(super) fn upid(n: u64, start: u64, kind: &str, id: &str) -> String {
    format!(
        "UPID:localhost:{:08X}:{:08X}:{n:08X}:{start:08X}:{kind}:{id}:root@pam:",
        0x1200 + n,
        0x4000 + n
    )
}

/// The default server: node `localhost`, `root@pam`, datastores `backup` (namespaces
/// `prod` and `prod/db`) and `offsite`, snapshots of VMs 100 and 101, container 200 and
/// host `pbs`, verify, prune and sync jobs, and the remote the sync job pulls from.
pub fn default_state() -> MockState {
    let mut s = MockState {
        nodes: vec!["localhost".into()].into(),
        ..MockState::default()
    };
    s.members.entry("access/users".into()).or_default().insert(
        "root@pam".into(),
        (rec(json!({"enable": true, "expire": 0, "comment": "Superuser"}))).into(),
    );
    let stores = s.members.entry("config/datastore".into()).or_default();
    stores.insert(
        "backup".into(),
        (rec(
            json!({"path": "/mnt/datastore/backup", "comment": "Primary backups",
                   "gc-schedule": "daily", "prune-schedule": "daily", "verify-new": true}),
        ))
        .into(),
    );
    stores.insert(
        "offsite".into(),
        (rec(
            json!({"path": "/mnt/datastore/offsite", "comment": "Pulled from the remote site",
                   "gc-schedule": "sat 03:00"}),
        ))
        .into(),
    );
    for ns in ["prod", "prod/db"] {
        s.members
            .entry(namespaces_key("backup"))
            .or_default()
            .insert(ns.into(), (Record::default()).into());
    }
    let day = 86_400u64;
    let base = 1_764_000_000u64;
    let mut n = 0;
    let mut snap = |store: &str,
                    ns: &str,
                    kind: &str,
                    id: &str,
                    days: u64,
                    size: u64,
                    protected: bool| {
        n += 1;
        let time = base + days * day;
        let files: Vec<&str> = match kind {
            "vm" => vec![
                "qemu-server.conf.blob",
                "drive-scsi0.img.fidx",
                "index.json.blob",
            ],
            "ct" => vec![
                "pct.conf.blob",
                "root.pxar.didx",
                "catalog.pcat1.didx",
                "index.json.blob",
            ],
            _ => vec!["etc.pxar.didx", "catalog.pcat1.didx", "index.json.blob"],
        };
        let item = json!({
            "backup-type": kind, "backup-id": id, "backup-time": time,
            "files": files, "size": size, "owner": "root@pam", "protected": protected,
            "verification": {"state": "ok", "upid": upid(n, time + 3600, "verify", &format!("{store}\\x3a{kind}-{id}"))},
        });
        (
            snapshots_key(store),
            snapshot_id(ns, kind, id, time),
            rec(item),
        )
    };
    let mut all = Vec::new();
    for d in 0..3 {
        all.push(snap(
            "backup",
            "",
            "vm",
            "100",
            d,
            12 * GIB + d * GIB / 4,
            d == 0,
        ));
        all.push(snap("backup", "", "ct", "200", d, 2 * GIB, false));
    }
    for d in 0..2 {
        all.push(snap("backup", "prod", "vm", "101", d, 40 * GIB, false));
    }
    all.push(snap("backup", "prod/db", "vm", "102", 1, 80 * GIB, false));
    all.push(snap("backup", "", "host", "pbs", 2, GIB / 2, false));
    all.push(snap("offsite", "", "vm", "100", 0, 12 * GIB, false));
    for (list, id, r) in all {
        s.members.entry(list).or_default().insert(id, r.into());
    }
    let jobs: [(&str, &str, Value); 4] = [
        (
            "config/verify",
            "v-backup",
            json!({"store": "backup", "schedule": "daily", "ignore-verified": true, "outdated-after": 30}),
        ),
        (
            "config/prune",
            "p-backup",
            json!({"store": "backup", "schedule": "daily", "keep-last": 7, "keep-weekly": 4}),
        ),
        (
            "config/sync",
            "s-offsite",
            json!({"store": "offsite", "remote": "site-b", "remote-store": "backup", "schedule": "hourly", "remove-vanished": false}),
        ),
        (
            "config/remote",
            "site-b",
            json!({"host": "pbs-b.example.com", "auth-id": "sync@pbs", "fingerprint": REMOTE_FINGERPRINT, "port": 8007}),
        ),
    ];
    for (list, id, config) in jobs {
        s.members
            .entry(list.into())
            .or_default()
            .insert(id.into(), (rec(config)).into());
    }
    s
}
