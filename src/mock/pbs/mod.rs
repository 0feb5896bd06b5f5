//! Proxmox Backup Server: its datastores (configured under `/config/datastore`, listed
//! and inspected under `/admin/datastore`), namespaces, backup groups and snapshots (which
//! PBS gets from backup clients, so the mock keeps them as seeded and lets the API list,
//! protect and remove them), and a small default server to start from.
//!
//! Store layout: `config/datastore` members are the datastores (generic collection);
//! `admin/datastore/<store>/namespace` members the namespaces (id = the path, `a/b`);
//! `admin/datastore/<store>/snapshots` members the snapshots (id = `ns|type/id/time`,
//! config = the list item as PBS shows it).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::computed::Computed;
use super::store::{MockState, Record};
use super::Ctx;
use crate::api::{ApiError, Method};

mod seed;
pub use seed::default_state;
use seed::upid;

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/admin/datastore", list_datastores),
    (
        Method::Get,
        "/admin/datastore/{store}/snapshots",
        list_snapshots,
    ),
    (
        Method::Delete,
        "/admin/datastore/{store}/snapshots",
        delete_snapshot,
    ),
    (Method::Get, "/admin/datastore/{store}/groups", list_groups),
    (
        Method::Delete,
        "/admin/datastore/{store}/groups",
        delete_group,
    ),
    (
        Method::Get,
        "/admin/datastore/{store}/namespace",
        list_namespaces,
    ),
    (
        Method::Post,
        "/admin/datastore/{store}/namespace",
        create_namespace,
    ),
    (
        Method::Delete,
        "/admin/datastore/{store}/namespace",
        delete_namespace,
    ),
    (
        Method::Get,
        "/admin/datastore/{store}/protected",
        get_protected,
    ),
    (
        Method::Put,
        "/admin/datastore/{store}/protected",
        set_protected,
    ),
    (
        Method::Get,
        "/admin/datastore/{store}/status",
        datastore_status,
    ),
    (Method::Get, "/status/datastore-usage", datastore_usage),
    (Method::Get, "/nodes", list_nodes),
    (Method::Get, "/version", version),
];

/// The version the mock reports.
pub const VERSION: (&str, &str, &str) = ("4.1.0", "1", "5a3c1e8f0b7d2c46");

const GIB: u64 = 1 << 30;

fn snapshots_key(store: &str) -> String {
    format!("admin/datastore/{store}/snapshots")
}

fn namespaces_key(store: &str) -> String {
    format!("admin/datastore/{store}/namespace")
}

fn snapshot_id(ns: &str, kind: &str, id: &str, time: u64) -> String {
    format!("{ns}|{kind}/{id}/{time}")
}

/// Whether datastore `store` exists (PBS: `400 no such datastore 'x'` otherwise).
pub fn datastore_exists(s: &MockState, store: &str) -> bool {
    s.members
        .get("config/datastore")
        .is_some_and(|m| m.contains_key(store))
        && !s.is_deleted(&format!("config/datastore/{store}"))
}

/// PBS's answer for a datastore that is not configured.
pub fn no_such_datastore(store: &str) -> ApiError {
    ApiError::new(400, format!("no such datastore '{store}'"))
}

/// The `ns` parameter (empty: the root namespace).
fn ns_param(ctx: &Ctx<'_>) -> String {
    ctx.text("ns").unwrap_or_default()
}

fn store_param(ctx: &Ctx<'_>) -> String {
    ctx.path_param("store").unwrap_or_default().to_string()
}

fn namespace_exists(s: &MockState, store: &str, ns: &str) -> bool {
    ns.is_empty()
        || s.members
            .get(&namespaces_key(store))
            .is_some_and(|m| m.contains_key(ns))
}

fn no_such_namespace(ns: &str) -> ApiError {
    ApiError::new(400, format!("namespace '{ns}' does not exist"))
}

/// The snapshots of `store` in namespace `ns`, oldest first per group.
fn snapshots_in<'s>(
    s: &'s MockState,
    store: &str,
    ns: &str,
) -> impl Iterator<Item = (&'s String, &'s Record)> {
    let prefix = format!("{ns}|");
    s.members
        .get(&snapshots_key(store))
        .into_iter()
        .flatten()
        .filter(move |(k, _)| k.starts_with(&prefix))
        .map(|(k, v)| (k, &**v))
}

fn field<'r>(rec: &'r Record, k: &str) -> &'r Value {
    rec.config.get(k).unwrap_or(&Value::Null)
}

fn list_datastores(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.store().read(|s| {
        let Some(stores) = s.members.get("config/datastore") else {
            return json!([]);
        };
        Value::Array(
            stores
                .iter()
                .filter(|(name, _)| datastore_exists(s, name))
                .map(|(name, rec)| {
                    let mut item = json!({
                        "store": name,
                        "backend-type": "filesystem",
                        "mount-status": "nonremovable",
                    });
                    if let Some(c) = rec.config.get("comment") {
                        item["comment"] = c.clone();
                    }
                    if let Some(m) = rec.config.get("maintenance-mode") {
                        item["maintenance"] = m.clone();
                    }
                    item
                })
                .collect(),
        )
    }))
}

fn list_snapshots(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let store = store_param(ctx);
    let ns = ns_param(ctx);
    let kind = ctx.text("backup-type");
    let id = ctx.text("backup-id");
    ctx.store().read(|s| {
        if !namespace_exists(s, &store, &ns) {
            return Err(no_such_namespace(&ns));
        }
        Ok(Value::Array(
            snapshots_in(s, &store, &ns)
                .filter(|(_, r)| kind.as_deref().is_none_or(|k| field(r, "backup-type") == k))
                .filter(|(_, r)| id.as_deref().is_none_or(|i| field(r, "backup-id") == i))
                .map(|(_, r)| Value::Object(r.config.clone()))
                .collect(),
        ))
    })
}

fn snapshot_key_of(ctx: &Ctx<'_>) -> Result<(String, String), ApiError> {
    let store = store_param(ctx);
    let ns = ns_param(ctx);
    let kind = ctx.text("backup-type").unwrap_or_default();
    let id = ctx.text("backup-id").unwrap_or_default();
    let time = ctx
        .params
        .get("backup-time")
        .and_then(Value::as_u64)
        .unwrap_or_default();
    Ok((store, snapshot_id(&ns, &kind, &id, time)))
}

fn missing_snapshot(key: &str) -> ApiError {
    let what = key.split_once('|').map_or(key, |(_, rest)| rest);
    ApiError::new(400, format!("backup snapshot '{what}' does not exist"))
}

fn delete_snapshot(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let (store, key) = snapshot_key_of(ctx)?;
    ctx.store().write(|s| {
        let snaps = s.members.entry(snapshots_key(&store)).or_default();
        match snaps.get(&key) {
            None => Err(missing_snapshot(&key)),
            Some(r) if field(r, "protected") == true => {
                Err(ApiError::new(400, "cannot remove protected snapshot"))
            }
            Some(_) => {
                snaps.remove(&key);
                Ok(Value::Null)
            }
        }
    })
}

fn get_protected(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let (store, key) = snapshot_key_of(ctx)?;
    ctx.store().read(|s| {
        s.members
            .get(&snapshots_key(&store))
            .and_then(|m| m.get(&key))
            .map(|r| Value::Bool(field(r, "protected") == true))
            .ok_or_else(|| missing_snapshot(&key))
    })
}

fn set_protected(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let (store, key) = snapshot_key_of(ctx)?;
    let protected = ctx.flag("protected");
    ctx.store().write(|s| {
        let rec = s
            .members
            .get_mut(&snapshots_key(&store))
            .and_then(|m| m.get_mut(&key))
            .ok_or_else(|| missing_snapshot(&key))?;
        rec.config
            .insert("protected".into(), Value::Bool(protected));
        Ok(Value::Null)
    })
}

/// Groups as PBS lists them: per (type, id), the newest snapshot's time and files, the
/// number of snapshots, the owner.
fn groups_of(s: &MockState, store: &str, ns: &str) -> Vec<Value> {
    let mut groups: BTreeMap<(String, String), (u64, u64, Value, Value)> = BTreeMap::new();
    for (_, r) in snapshots_in(s, store, ns) {
        let kind = field(r, "backup-type")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let id = field(r, "backup-id")
            .as_str()
            .unwrap_or_default()
            .to_string();
        let time = field(r, "backup-time").as_u64().unwrap_or_default();
        let entry = groups
            .entry((kind, id))
            .or_insert((0, 0, Value::Null, Value::Null));
        entry.1 += 1;
        if time >= entry.0 {
            entry.0 = time;
            entry.2 = field(r, "files").clone();
            entry.3 = field(r, "owner").clone();
        }
    }
    groups
        .into_iter()
        .map(|((kind, id), (last, count, files, owner))| {
            let mut g = json!({
                "backup-type": kind, "backup-id": id, "last-backup": last,
                "backup-count": count, "files": files,
            });
            if !owner.is_null() {
                g["owner"] = owner;
            }
            g
        })
        .collect()
}

fn list_groups(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let store = store_param(ctx);
    let ns = ns_param(ctx);
    ctx.store().read(|s| {
        if !namespace_exists(s, &store, &ns) {
            return Err(no_such_namespace(&ns));
        }
        Ok(Value::Array(groups_of(s, &store, &ns)))
    })
}

fn delete_group(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let store = store_param(ctx);
    let ns = ns_param(ctx);
    let kind = ctx.text("backup-type").unwrap_or_default();
    let id = ctx.text("backup-id").unwrap_or_default();
    let error_on_protected = ctx
        .params
        .get("error-on-protected")
        .is_none_or(|v| v != false && v != 0);
    let prefix = format!("{ns}|{kind}/{id}/");
    ctx.store().write(|s| {
        let snaps = s.members.entry(snapshots_key(&store)).or_default();
        let keys: Vec<String> = snaps.keys().filter(|k| k.starts_with(&prefix)).cloned().collect();
        if keys.is_empty() {
            return Err(ApiError::new(
                400,
                format!("backup group '{kind}/{id}' does not exist"),
            ));
        }
        let protected: Vec<String> = keys
            .iter()
            .filter(|k| snaps.get(*k).is_some_and(|r| field(r, "protected") == true))
            .cloned()
            .collect();
        if !protected.is_empty() && error_on_protected {
            return Err(ApiError::new(
                400,
                format!("could not remove backup group '{kind}/{id}', because it contains protected snapshots"),
            ));
        }
        let mut removed = 0;
        for k in &keys {
            if !protected.contains(k) {
                snaps.remove(k);
                removed += 1;
            }
        }
        Ok(json!({
            "removed-groups": u8::from(protected.is_empty()),
            "removed-snapshots": removed,
            "protected-snapshots": protected.len(),
        }))
    })
}

fn list_namespaces(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let store = store_param(ctx);
    let parent = ctx.text("parent").unwrap_or_default();
    let max_depth = ctx
        .params
        .get("max-depth")
        .and_then(Value::as_u64)
        .unwrap_or(7);
    ctx.store().read(|s| {
        if !namespace_exists(s, &store, &parent) {
            return Err(no_such_namespace(&parent));
        }
        let depth = |ns: &str| {
            if ns.is_empty() {
                0
            } else {
                ns.split('/').count() as u64
            }
        };
        let base = depth(&parent);
        let under =
            |ns: &str| parent.is_empty() || ns == parent || ns.starts_with(&format!("{parent}/"));
        let mut out = Vec::new();
        if parent.is_empty() {
            out.push(json!({"ns": ""}));
        }
        for (ns, rec) in s.members.get(&namespaces_key(&store)).into_iter().flatten() {
            if under(ns) && depth(ns) - base <= max_depth {
                let mut item = json!({"ns": ns});
                if let Some(c) = rec.config.get("comment") {
                    item["comment"] = c.clone();
                }
                out.push(item);
            }
        }
        Ok(Value::Array(out))
    })
}

fn create_namespace(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let store = store_param(ctx);
    let parent = ctx.text("parent").unwrap_or_default();
    let name = ctx.text("name").unwrap_or_default();
    let ns = if parent.is_empty() {
        name.clone()
    } else {
        format!("{parent}/{name}")
    };
    ctx.store().write(|s| {
        if !namespace_exists(s, &store, &parent) {
            return Err(no_such_namespace(&parent));
        }
        if ns.split('/').count() > 7 {
            return Err(ApiError::new(
                400,
                format!("namespace '{ns}' too deep, maximum depth is 7"),
            ));
        }
        let spaces = s.members.entry(namespaces_key(&store)).or_default();
        if spaces.contains_key(&ns) {
            return Err(ApiError::new(
                400,
                format!("namespace '{ns}' already exists"),
            ));
        }
        spaces.insert(ns.clone(), (Record::default()).into());
        Ok(Value::String(ns))
    })
}

fn delete_namespace(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let store = store_param(ctx);
    let ns = ns_param(ctx);
    let delete_groups = ctx.flag("delete-groups");
    if ns.is_empty() {
        return Err(ApiError::new(400, "cannot delete root namespace!"));
    }
    ctx.store().write(|s| {
        if !namespace_exists(s, &store, &ns) {
            return Err(no_such_namespace(&ns));
        }
        let nested = |k: &str| k == ns || k.starts_with(&format!("{ns}/"));
        let has_groups = s
            .members
            .get(&snapshots_key(&store))
            .is_some_and(|m| m.keys().any(|k| nested(k.split('|').next().unwrap_or(""))));
        if has_groups && !delete_groups {
            return Err(ApiError::new(
                400,
                format!("cannot delete namespace '{ns}' - it is not empty"),
            ));
        }
        if let Some(m) = s.members.get_mut(&snapshots_key(&store)) {
            m.retain(|k, _| !nested(k.split('|').next().unwrap_or("")));
        }
        if let Some(m) = s.members.get_mut(&namespaces_key(&store)) {
            m.retain(|k, _| !nested(k));
        }
        Ok(Value::Null)
    })
}

/// Sizes of a datastore: configured ones (`total`, `used` in the seed) or 1 TiB with what
/// its snapshots hold.
fn usage(s: &MockState, store: &str, rec: &Record) -> (u64, u64) {
    let used: u64 = s
        .members
        .get(&snapshots_key(store))
        .into_iter()
        .flatten()
        .filter_map(|(_, r)| field(r, "size").as_u64())
        .sum();
    let total = rec
        .meta
        .get("total")
        .and_then(Value::as_u64)
        .unwrap_or(1024 * GIB);
    (total, used.min(total))
}

fn datastore_status(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let store = store_param(ctx);
    let verbose = ctx.flag("verbose");
    let mut v = ctx.mock.answer(ctx);
    ctx.store().read(|s| {
        let rec = s
            .members
            .get("config/datastore")
            .and_then(|m| m.get(&store))
            .cloned()
            .unwrap_or_default();
        let (total, used) = usage(s, &store, &rec);
        if let Value::Object(obj) = &mut v {
            obj.insert("gc-status".into(), gc_status(s, &store, used));
            obj.insert("total".into(), json!(total));
            obj.insert("used".into(), json!(used));
            obj.insert("avail".into(), json!(total - used));
            let mut counts = Map::new();
            let mut per: BTreeMap<String, (u64, u64)> = BTreeMap::new();
            let spaces: Vec<String> = std::iter::once(String::new())
                .chain(
                    s.members
                        .get(&namespaces_key(&store))
                        .into_iter()
                        .flatten()
                        .map(|(k, _)| k.clone()),
                )
                .collect();
            for ns in &spaces {
                for g in groups_of(s, &store, ns) {
                    let kind = g["backup-type"].as_str().unwrap_or("other").to_string();
                    let e = per.entry(kind).or_default();
                    e.0 += 1;
                    e.1 += g["backup-count"].as_u64().unwrap_or(0);
                }
            }
            for kind in ["ct", "host", "vm", "other"] {
                let (groups, snapshots) = per.get(kind).copied().unwrap_or_default();
                counts.insert(
                    kind.into(),
                    json!({"groups": groups, "snapshots": snapshots}),
                );
            }
            if verbose {
                obj.insert("counts".into(), Value::Object(counts));
            } else {
                obj.remove("counts");
            }
        }
    });
    Ok(v)
}

/// The last garbage collection of `store`, as PBS reports it (the mock's ran a day before
/// the seeded snapshots' last one, removing nothing).
fn gc_status(s: &MockState, store: &str, used: u64) -> Value {
    let files = s.members.get(&snapshots_key(store)).map_or(0, |m| {
        m.values()
            .map(|r| field(r, "files").as_array().map_or(0, Vec::len))
            .sum::<usize>()
    });
    json!({
        "upid": upid(0x100, 1_764_000_000 + 3 * 86_400, "garbage_collection", store),
        "index-file-count": files, "index-data-bytes": used, "disk-bytes": used / 3,
        "disk-chunks": used / (4 << 20), "removed-bytes": 0, "removed-chunks": 0,
        "pending-bytes": 0, "pending-chunks": 0, "removed-bad": 0, "still-bad": 0,
    })
}

fn datastore_usage(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.store().read(|s| {
        Value::Array(
            s.members
                .get("config/datastore")
                .into_iter()
                .flatten()
                .filter(|(name, _)| datastore_exists(s, name))
                .map(|(name, rec)| {
                    let (total, used) = usage(s, name, rec);
                    json!({
                        "gc-status": gc_status(s, name, used),
                        "store": name, "total": total, "used": used, "avail": total - used,
                        "backend-type": "filesystem", "mount-status": "nonremovable",
                        "history-start": 1_700_000_000u64, "history-delta": 86_400,
                        "history": [0.42, 0.43, 0.45],
                        "estimated-full-date": 1_800_000_000u64,
                    })
                })
                .collect(),
        )
    }))
}

fn list_nodes(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx
        .store()
        .read(|s| Value::Array(s.nodes.iter().map(|n| json!({"node": n})).collect())))
}

fn version(_ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let (version, release, repoid) = VERSION;
    Ok(json!({"version": version, "release": release, "repoid": repoid}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_server_is_coherent() {
        let s = default_state();
        assert!(datastore_exists(&s, "backup") && datastore_exists(&s, "offsite"));
        assert!(!datastore_exists(&s, "nope"));
        let groups = groups_of(&s, "backup", "");
        assert_eq!(groups.len(), 3, "{groups:?}");
        let vm = groups.iter().find(|g| g["backup-id"] == "100").unwrap();
        assert_eq!(vm["backup-count"], 3);
        assert_eq!(groups_of(&s, "backup", "prod").len(), 1);
        let verification = &s.members[&snapshots_key("backup")]
            .values()
            .next()
            .unwrap()
            .config["verification"]["upid"];
        let parsed: crate::api::Upid = verification.as_str().unwrap().parse().unwrap();
        assert_eq!(parsed.kind, "verify");
        assert!(parsed.task_id.is_some());
    }
}
