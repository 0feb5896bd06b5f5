//! The Ceph cluster of the mock PVE: one monitor and one OSD per node, healthy; the cluster
//! flags (set and cleared through `PUT /cluster/ceph/flags/{flag}`); pools are the schema's
//! collection under `/nodes/{node}/ceph/pool`.

use serde_json::{json, Value};

use super::computed::Computed;
use super::store::{MockState, Record};
use super::Ctx;
use crate::api::{ApiError, Method};

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/cluster/ceph/status", status),
    (Method::Get, "/cluster/ceph/flags", flags),
    (Method::Get, "/cluster/ceph/flags/{flag}", flag),
    (Method::Put, "/cluster/ceph/flags/{flag}", set_flag),
    (Method::Get, "/nodes/{node}/ceph/osd", osd_tree),
    (Method::Get, "/nodes/{node}/ceph/mon", monitors),
];

/// Ceph's cluster flags, with PVE's descriptions.
const FLAGS: &[(&str, &str)] = &[
    ("nobackfill", "Backfilling of PGs is suspended."),
    ("nodeep-scrub", "Deep Scrubbing is disabled."),
    (
        "nodown",
        "OSD failure reports are being ignored, such that the monitors will not mark OSDs down.",
    ),
    (
        "noin",
        "OSDs that were previously marked out will not be marked back in when they start.",
    ),
    (
        "noout",
        "OSDs will not automatically be marked out after the configured interval.",
    ),
    ("norebalance", "Rebalancing of PGs is suspended."),
    ("norecover", "Recovery of PGs is suspended."),
    ("noscrub", "Scrubbing is disabled."),
    ("notieragent", "Cache tiering activity is suspended."),
    ("noup", "OSDs are not allowed to start."),
    ("pause", "Pauses read and writes."),
];

const FSID: &str = "5c2b8f6e-3d1a-4b7e-9f20-6a1c0d4e8b93";

fn flag_set(s: &MockState, name: &str) -> bool {
    s.members
        .get("cluster/ceph/flags")
        .and_then(|m| m.get(name))
        .is_some_and(|r| r.config.get("value") == Some(&json!(1)))
}

fn pools(s: &MockState) -> usize {
    s.members
        .iter()
        .filter(|(k, _)| k.starts_with("nodes/") && k.ends_with("/ceph/pool"))
        .map(|(_, m)| m.len())
        .sum()
}

fn status(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.store().read(|s| {
        let nodes = &s.nodes;
        let set: Vec<&str> = FLAGS.iter().map(|(n, _)| *n).filter(|n| flag_set(s, n)).collect();
        let (state, checks) = if set.is_empty() {
            ("HEALTH_OK", json!({}))
        } else {
            (
                "HEALTH_WARN",
                json!({"OSDMAP_FLAGS": {"severity": "HEALTH_WARN",
                        "summary": {"message": format!("{} flag(s) set", set.join(",")), "count": set.len()}}}),
            )
        };
        json!({
            "fsid": FSID,
            "health": {"status": state, "checks": checks, "mutes": []},
            "election_epoch": 12,
            "quorum": (0..nodes.len()).collect::<Vec<_>>(),
            "quorum_names": nodes,
            "monmap": {"epoch": 3, "num_mons": nodes.len()},
            "osdmap": {"epoch": 40, "num_osds": nodes.len(), "num_up_osds": nodes.len(), "num_in_osds": nodes.len()},
            "pgmap": {"num_pools": pools(s), "num_pgs": 32 * pools(s).max(1), "pgs_by_state": [{"state_name": "active+clean", "count": 32 * pools(s).max(1)}]},
            "mgrmap": {"available": true, "num_standbys": nodes.len().saturating_sub(1)},
        })
    }))
}

fn flags(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.store().read(|s| {
        Value::Array(
            FLAGS
                .iter()
                .map(|(name, description)| json!({"name": name, "description": description, "value": flag_set(s, name)}))
                .collect(),
        )
    }))
}

fn flag(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let name = ctx.path_param("flag").unwrap_or_default().to_string();
    Ok(ctx.store().read(|s| Value::Bool(flag_set(s, &name))))
}

fn set_flag(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let name = ctx.path_param("flag").unwrap_or_default().to_string();
    let value = ctx.flag("value");
    ctx.store().write(|s| {
        let mut rec = Record::default();
        rec.config.insert("value".into(), json!(u8::from(value)));
        s.members
            .entry("cluster/ceph/flags".into())
            .or_default()
            .insert(name, rec.into());
    });
    Ok(Value::Null)
}

fn osd_tree(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.store().read(|s| {
        let hosts: Vec<Value> = s
            .nodes
            .iter()
            .enumerate()
            .map(|(i, node)| {
                json!({"id": -(i as i64) - 2, "name": node, "type": "host", "children": [{
                    "id": i, "name": format!("osd.{i}"), "type": "osd", "host": node, "status": "up",
                    "in": 1, "crush_weight": 0.9, "reweight": 1, "device_class": "ssd",
                    "percent_used": 12.5, "total_space": 1_000_204_886_016u64, "bytes_used": 125_025_610_752u64,
                    "osdtype": "bluestore", "blfsdev": "/dev/nvme0n1", "ceph_version_short": "19.2.3",
                }]})
            })
            .collect();
        let set: Vec<&str> = FLAGS.iter().map(|(n, _)| *n).filter(|n| flag_set(s, n)).collect();
        let mut tree = json!({"root": {"id": -1, "name": "default", "type": "root", "children": hosts}});
        if !set.is_empty() {
            tree["flags"] = json!(set.join(","));
        }
        tree
    }))
}

fn monitors(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.store().read(|s| {
        Value::Array(
            s.nodes
                .iter()
                .enumerate()
                .map(|(i, node)| {
                    json!({"name": node, "host": node, "addr": format!("10.0.0.{}:6789/0", i + 11),
                           "rank": i, "quorum": 1, "state": "running", "ceph_version_short": "19.2.3"})
                })
                .collect(),
        )
    }))
}
