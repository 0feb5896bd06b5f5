//! The default datacenter (the original package's PDM seed, grown to its advertised size)
//! and seeds in the original's shape, to and from the store.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use crate::mock::store::{MockState, Record};

fn rec(v: Value) -> Record {
    Record {
        config: v.as_object().cloned().unwrap_or_default(),
        meta: Map::new(),
    }
}

/// A seeded guest: remote, kind, vmid, name, node, running, cores, memory (MiB).
type Guest = (
    &'static str,
    &'static str,
    u64,
    &'static str,
    &'static str,
    bool,
    u64,
    u64,
);

/// The default datacenter.
pub fn default_state() -> MockState {
    let mut s = MockState {
        nodes: vec!["localhost".into()].into(),
        ..MockState::default()
    };
    let pve_version = json!({"version": "9.2", "release": "1", "repoid": "0a1b2c3d"});
    let remotes: [(&str, &str, &[&str], Value, Value); 3] = [
        (
            "pve-cluster-a",
            "pve",
            &["pve-a-1", "pve-a-2", "pve-a-3"],
            pve_version.clone(),
            json!({"status": "active", "productname": "Proxmox VE Standard", "level": "s"}),
        ),
        (
            "pve-cluster-b",
            "pve",
            &["pve-b-1", "pve-b-2"],
            pve_version,
            json!({"status": "active", "productname": "Proxmox VE Community", "level": "c"}),
        ),
        (
            "pbs-main",
            "pbs",
            &["pbs-main"],
            json!({"version": "4.1.0", "release": "1", "repoid": "5a3c1e8f"}),
            json!({"status": "active", "productname": "Proxmox Backup Server Basic", "level": "b"}),
        ),
    ];
    for (id, kind, nodes, version, sub) in remotes {
        let mut r = rec(json!({
            "type": kind, "nodes": nodes, "authid": "root@pam!pdm",
            "web-url": format!("https://{}.example.com:{}", nodes[0], if kind == "pve" { 8006 } else { 8007 }),
        }));
        r.meta.insert("version".into(), version);
        r.meta.insert("subscription".into(), sub);
        s.members
            .entry("remotes/remote".into())
            .or_default()
            .insert(id.into(), r.into());
    }
    let nodes: [(&str, &str, f64, u64); 5] = [
        ("pve-cluster-a", "pve-a-1", 0.18, 16),
        ("pve-cluster-a", "pve-a-2", 0.05, 16),
        ("pve-cluster-a", "pve-a-3", 0.42, 16),
        ("pve-cluster-b", "pve-b-1", 0.08, 12),
        ("pve-cluster-b", "pve-b-2", 0.32, 12),
    ];
    for (remote, node, cpu, maxcpu) in nodes {
        s.members.entry(format!("pve/remotes/{remote}/nodes")).or_default().insert(
            node.into(),
            (rec(json!({"node": node, "status": "online", "cpu": cpu, "maxcpu": maxcpu,
                       "mem": 25_769_803_776u64, "maxmem": 137_438_953_472u64, "uptime": 2_419_200, "level": "s"}))).into(),
        );
    }
    // (remote, kind, vmid, name, node, running, cores, memory MiB)
    let guests: &[Guest] = &[
        (
            "pve-cluster-a",
            "qemu",
            100,
            "web-prod-1",
            "pve-a-1",
            true,
            4,
            4096,
        ),
        (
            "pve-cluster-a",
            "qemu",
            101,
            "db-prod",
            "pve-a-2",
            true,
            8,
            16384,
        ),
        (
            "pve-cluster-a",
            "qemu",
            102,
            "staging",
            "pve-a-3",
            false,
            2,
            2048,
        ),
        (
            "pve-cluster-a",
            "qemu",
            103,
            "build-runner",
            "pve-a-1",
            true,
            4,
            8192,
        ),
        (
            "pve-cluster-a",
            "qemu",
            104,
            "ldap",
            "pve-a-2",
            true,
            2,
            2048,
        ),
        (
            "pve-cluster-a",
            "qemu",
            105,
            "mail",
            "pve-a-3",
            true,
            4,
            4096,
        ),
        (
            "pve-cluster-a",
            "qemu",
            106,
            "monitor",
            "pve-a-1",
            true,
            2,
            4096,
        ),
        (
            "pve-cluster-a",
            "qemu",
            107,
            "git",
            "pve-a-2",
            true,
            4,
            8192,
        ),
        (
            "pve-cluster-a",
            "qemu",
            108,
            "ci-coordinator",
            "pve-a-3",
            false,
            2,
            2048,
        ),
        (
            "pve-cluster-a",
            "qemu",
            109,
            "test-vm",
            "pve-a-1",
            true,
            1,
            1024,
        ),
        (
            "pve-cluster-a",
            "lxc",
            200,
            "logs",
            "pve-a-1",
            true,
            2,
            2048,
        ),
        (
            "pve-cluster-a",
            "lxc",
            201,
            "ingest",
            "pve-a-2",
            true,
            1,
            1024,
        ),
        (
            "pve-cluster-a",
            "lxc",
            202,
            "proxy",
            "pve-a-3",
            false,
            1,
            512,
        ),
        (
            "pve-cluster-a",
            "lxc",
            203,
            "redis",
            "pve-a-1",
            true,
            1,
            1024,
        ),
        (
            "pve-cluster-a",
            "lxc",
            204,
            "cache",
            "pve-a-2",
            true,
            1,
            1024,
        ),
        (
            "pve-cluster-b",
            "qemu",
            300,
            "edge-1",
            "pve-b-1",
            true,
            2,
            2048,
        ),
        (
            "pve-cluster-b",
            "qemu",
            301,
            "edge-2",
            "pve-b-1",
            true,
            2,
            2048,
        ),
        (
            "pve-cluster-b",
            "qemu",
            302,
            "edge-3",
            "pve-b-2",
            true,
            2,
            2048,
        ),
        (
            "pve-cluster-b",
            "qemu",
            303,
            "edge-4",
            "pve-b-2",
            false,
            2,
            2048,
        ),
        (
            "pve-cluster-b",
            "qemu",
            304,
            "edge-5",
            "pve-b-1",
            true,
            2,
            2048,
        ),
        (
            "pve-cluster-b",
            "qemu",
            305,
            "edge-6",
            "pve-b-2",
            true,
            2,
            2048,
        ),
    ];
    for &(remote, kind, vmid, name, node, running, cores, memory) in guests {
        let maxmem = memory * 1024 * 1024;
        let mut r = rec(json!({
            "vmid": vmid, "name": name, "node": node,
            "status": if running { "running" } else { "stopped" },
            "cpu": if running { 0.12 } else { 0.0 }, "cpus": cores,
            "mem": if running { maxmem / 2 } else { 0 }, "maxmem": maxmem,
            "maxdisk": 34_359_738_368u64, "uptime": if running { 1_200_000 } else { 0 },
        }));
        let config = if kind == "qemu" {
            json!({"name": name, "cores": cores, "sockets": 1, "memory": memory.to_string(), "ostype": "l26",
                   "boot": "order=scsi0;net0", "scsihw": "virtio-scsi-single",
                   "scsi0": format!("local-lvm:vm-{vmid}-disk-0,size=32G"),
                   "net0": format!("virtio=BC:24:11:00:{:02X}:{:02X},bridge=vmbr0", vmid / 256, vmid % 256)})
        } else {
            json!({"hostname": name, "cores": cores, "memory": memory, "ostype": "debian",
                   "rootfs": format!("local-lvm:vm-{vmid}-disk-0,size=8G"),
                   "net0": format!("name=eth0,bridge=vmbr0,ip=dhcp,hwaddr=BC:24:11:01:{:02X}:{:02X}", vmid / 256, vmid % 256)})
        };
        r.meta.insert("config".into(), config);
        s.members
            .entry(format!("pve/remotes/{remote}/{kind}"))
            .or_default()
            .insert(vmid.to_string(), r.into());
    }
    let upid = "UPID:pve-a-1:00000A00:0000B000:6553F100:qmstart:100:root@pam:";
    s.members.entry("pve/remotes/pve-cluster-a/tasks".into()).or_default().insert(
        upid.into(),
        (rec(json!({"upid": upid, "node": "pve-a-1", "pid": 0xA00, "pstart": 0xB000, "starttime": 1_700_000_000u64,
                   "endtime": 1_700_000_005u64, "type": "qmstart", "id": "100", "user": "root@pam", "status": "OK"}))).into(),
    );
    let stores: [(&str, u64, u64, &str); 2] = [
        (
            "tank",
            10_000_000_000_000,
            4_500_000_000_000,
            "primary backup pool",
        ),
        ("cold", 50_000_000_000_000, 30_000_000_000_000, "archive"),
    ];
    for (store, total, used, comment) in stores {
        s.members.entry("pbs/remotes/pbs-main/datastore".into()).or_default().insert(
            store.into(),
            (rec(json!({"total": total, "used": used, "avail": total - used, "comment": comment}))).into(),
        );
    }
    // Nightly backups of every guest of cluster A for two days into `tank/prod`, and three
    // archived container backups in `cold/archive`: 51 snapshots.
    let day = 86_400u64;
    let mut snaps = Vec::new();
    for d in 0..2 {
        for &(remote, kind, vmid, ..) in guests.iter().filter(|g| g.0 == "pve-cluster-a") {
            let _ = remote;
            let t = if kind == "qemu" { "vm" } else { "ct" };
            snaps.push(("tank", "prod", t, vmid, 1_700_000_000 + d * day + vmid * 60));
        }
    }
    for &(_, kind, vmid, ..) in guests.iter().filter(|g| g.0 == "pve-cluster-b") {
        let t = if kind == "qemu" { "vm" } else { "ct" };
        for d in 0..3 {
            snaps.push(("tank", "edge", t, vmid, 1_700_000_000 + d * day + vmid * 60));
        }
    }
    for vmid in [200u64, 201, 202] {
        snaps.push(("cold", "archive", "ct", vmid, 1_690_000_000 + vmid));
    }
    for (store, ns, t, vmid, time) in snaps {
        s.members.entry("pbs/remotes/pbs-main/snapshots".into()).or_default().insert(
            format!("{store}|{ns}|{t}/{vmid}/{time}"),
            (rec(json!({"backup-type": t, "backup-id": vmid.to_string(), "backup-time": time,
                       "files": ["index.json.blob", if t == "vm" { "drive-scsi0.img.fidx" } else { "root.pxar.didx" }],
                       "size": 12_345_678_900u64, "owner": "root@pam!pdm", "protected": false}))).into(),
        );
    }
    let users: [(&str, &str); 3] = [
        ("root@pam", "default admin"),
        ("ops@pdm", "operations team"),
        ("auditor@pdm", "read-only auditor"),
    ];
    for (userid, comment) in users {
        s.members.entry("access/users".into()).or_default().insert(
            userid.into(),
            (rec(json!({"enable": true, "expire": 0, "comment": comment}))).into(),
        );
    }
    let acl: [(&str, &str, &str); 5] = [
        ("/", "root@pam", "Administrator"),
        (
            "/resource/pve-cluster-a",
            "ops@pdm",
            "ResourceAdministrator",
        ),
        ("/resource/pve-cluster-b", "ops@pdm", "ResourceAuditor"),
        ("/", "auditor@pdm", "Auditor"),
        ("/resource/pbs-main", "ops@pdm", "ResourceAdministrator"),
    ];
    for (path, ugid, role) in acl {
        s.members.entry("access/acl".into()).or_default().insert(
            format!("{path}|user:{ugid}|{role}"),
            (rec(
                json!({"path": path, "type": "user", "ugid": ugid, "roleid": role, "propagate": 1}),
            ))
            .into(),
        );
    }
    let views: [(&str, Value); 2] = [
        (
            "prod-overview",
            json!({"include": ["remote=pve-cluster-a"], "exclude": ["resource-type=storage"]}),
        ),
        ("backups", json!({"include": ["resource-type=datastore"]})),
    ];
    for (id, v) in views {
        s.members
            .entry("config/views".into())
            .or_default()
            .insert(id.into(), (rec(v)).into());
    }
    s
}

/// Counts of the default datacenter, for its description and tests.
pub fn seed_counts(s: &MockState) -> BTreeMap<&'static str, usize> {
    let count = |suffix: &str| {
        s.members
            .iter()
            .filter(|(k, _)| k.ends_with(suffix))
            .map(|(_, m)| m.len())
            .sum::<usize>()
    };
    BTreeMap::from([
        ("remotes", count("remotes/remote")),
        ("vms", count("/qemu")),
        ("cts", count("/lxc")),
        ("datastores", count("/datastore")),
        ("snapshots", count("/snapshots")),
        ("users", count("access/users")),
        ("acl", count("access/acl")),
        ("views", count("config/views")),
    ])
}

#[cfg(test)]
mod tests {
    use super::super::shape::{export_seed, import_seed};
    use super::*;

    #[test]
    fn the_default_datacenter_is_the_originals() {
        let counts = seed_counts(&default_state());
        assert_eq!(
            counts,
            BTreeMap::from([
                ("acl", 5),
                ("cts", 5),
                ("datastores", 2),
                ("remotes", 3),
                ("snapshots", 51),
                ("users", 3),
                ("views", 2),
                ("vms", 16),
            ])
        );
    }

    #[test]
    fn seeds_round_trip_in_the_originals_shape() {
        let state = default_state();
        let seed = export_seed(&state);
        assert_eq!(seed["remotes"].as_array().unwrap().len(), 3);
        assert_eq!(
            seed["pve"]["pve-cluster-a"]["qemu"]
                .as_array()
                .unwrap()
                .len(),
            10
        );
        assert_eq!(
            seed["pbs"]["pbs-main"]["snapshots"]
                .as_array()
                .unwrap()
                .len(),
            51
        );
        assert_eq!(seed["access"]["acl"].as_array().unwrap().len(), 5);
        let back = import_seed(&seed).unwrap();
        assert_eq!(seed_counts(&back), seed_counts(&state));
        assert_eq!(export_seed(&back), seed);
        assert!(import_seed(&json!({"remotes": [{"type": "pve"}]}))
            .unwrap_err()
            .contains("remotes[0]"));
    }
}
