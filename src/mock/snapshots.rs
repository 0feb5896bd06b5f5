//! Guest snapshots as PVE keeps them: each snapshot a copy of the config with its `parent`,
//! `snaptime` and `description` (members of the guest's `snapshot` collection, so the
//! mock's member checks see them); the guest's config names the snapshot it stands on
//! (`parent`); the list ends with `current` ("You are here!"); rollback restores the
//! snapshot's config (and stops the guest), delete re-parents the children. Refusals in
//! PVE's words: reserved names at once (qemu-server/pve-container's API), the rest ending
//! the task (PVE::AbstractConfig's snapshot_create/rollback/delete). Strict mocks only:
//! lenient mode answers these by their shape (`computed::strict_only`).

use serde_json::{json, Map, Value};

use super::computed::Computed;
use super::guests::held_lock;
use super::messages::{err500, missing_guest_config};
use super::store::{MockState, Record};
use super::{is_set, Ctx};
use crate::api::{ApiError, Method};

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/nodes/{node}/qemu/{vmid}/snapshot", list),
    (Method::Get, "/nodes/{node}/lxc/{vmid}/snapshot", list),
    (Method::Post, "/nodes/{node}/qemu/{vmid}/snapshot", create),
    (Method::Post, "/nodes/{node}/lxc/{vmid}/snapshot", create),
    (
        Method::Get,
        "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config",
        config,
    ),
    (
        Method::Get,
        "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config",
        config,
    ),
    (
        Method::Put,
        "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/config",
        describe,
    ),
    (
        Method::Put,
        "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/config",
        describe,
    ),
    (
        Method::Post,
        "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}/rollback",
        rollback,
    ),
    (
        Method::Post,
        "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}/rollback",
        rollback,
    ),
    (
        Method::Delete,
        "/nodes/{node}/qemu/{vmid}/snapshot/{snapname}",
        delete,
    ),
    (
        Method::Delete,
        "/nodes/{node}/lxc/{vmid}/snapshot/{snapname}",
        delete,
    ),
];

/// The guest a path is about: its list key, id and noun (`VM`/`CT`).
struct Guest {
    list: String,
    vmid: String,
    noun: &'static str,
}

impl Guest {
    /// The store key of the guest's snapshots (a collection, so member checks see them).
    fn snapshots_key(&self) -> String {
        format!("{}/{}/snapshot", self.list, self.vmid)
    }

    /// The guest's snapshots: name -> the config it holds (with `snaptime`, ...).
    fn snapshots(&self, s: &MockState) -> Map<String, Value> {
        s.members
            .get(&self.snapshots_key())
            .map(|m| {
                m.iter()
                    .map(|(k, r)| (k.clone(), Value::Object(r.config.clone())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Replaces the guest's snapshots.
    fn set_snapshots(&self, s: &mut MockState, all: Map<String, Value>) {
        let list = s.members.entry(self.snapshots_key()).or_default();
        list.clear();
        for (name, snap) in all {
            let config = snap.as_object().cloned().unwrap_or_default();
            list.insert(
                name,
                (Record {
                    config,
                    meta: Map::new(),
                })
                .into(),
            );
        }
    }
}

fn guest(ctx: &Ctx<'_>) -> Guest {
    let lxc = ctx.op.template.contains("/lxc/");
    Guest {
        list: format!(
            "nodes/{}/{}",
            ctx.path_param("node").unwrap_or_default(),
            if lxc { "lxc" } else { "qemu" }
        ),
        vmid: ctx.path_param("vmid").unwrap_or_default().to_string(),
        noun: if lxc { "CT" } else { "VM" },
    }
}

fn snapname(ctx: &Ctx<'_>) -> String {
    ctx.path_param("snapname")
        .map(str::to_string)
        .or_else(|| ctx.text("snapname"))
        .unwrap_or_default()
}

/// The guest's record, or PVE's 500 for a missing config.
fn record(ctx: &Ctx<'_>, g: &Guest) -> Result<Record, ApiError> {
    ctx.store()
        .read(|s| {
            s.members
                .get(&g.list)
                .and_then(|m| m.get(&g.vmid))
                .map(|r| (**r).clone())
        })
        .ok_or_else(|| {
            let node = ctx.path_param("node").unwrap_or_default();
            let kind = if g.noun == "CT" { "lxc" } else { "qemu" };
            err500(missing_guest_config(kind, node, &g.vmid))
        })
}

fn missing(name: &str) -> String {
    format!("snapshot '{name}' does not exist")
}

/// Runs `change` on the guest's record as a worker task: its error ends the task.
fn worker(
    ctx: &Ctx<'_>,
    g: &Guest,
    change: impl FnOnce(&mut Record, &mut Map<String, Value>, u64) -> Result<(), String>,
) -> Result<Value, ApiError> {
    record(ctx, g)?;
    let clock = ctx.store().now();
    let outcome = ctx.store().write(|s| {
        let mut all = g.snapshots(s);
        let rec = s
            .members
            .get_mut(&g.list)
            .and_then(|m| m.get_mut(&g.vmid))
            .ok_or_else(|| format!("{} {} does not exist", g.noun, g.vmid))?;
        if let Some(lock) = held_lock(rec, clock) {
            return Err(format!("{} is locked ({lock})", g.noun));
        }
        change(rec, &mut all, clock)?;
        g.set_snapshots(s, all);
        Ok(())
    });
    let upid = ctx.mock.new_upid(ctx, ctx.path_params);
    ctx.mock.record_task(&upid, outcome);
    Ok(Value::String(upid))
}

/// `GET .../snapshot`: every snapshot, then `current`.
fn list(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let g = guest(ctx);
    let rec = record(ctx, &g)?;
    let all = ctx.store().read(|s| g.snapshots(s));
    let mut out: Vec<Value> = all
        .iter()
        .map(|(name, snap)| {
            let mut item = json!({
                "name": name,
                "description": snap.get("description").cloned().unwrap_or(json!("")),
                "snaptime": snap.get("snaptime").cloned().unwrap_or(json!(0)),
            });
            for k in ["parent", "vmstate"] {
                if let Some(v) = snap.get(k) {
                    item[k] = v.clone();
                }
            }
            item
        })
        .collect();
    let running = rec.meta.get("status").and_then(Value::as_str) == Some("running");
    let mut current =
        json!({"name": "current", "description": "You are here!", "running": u8::from(running)});
    if let Some(p) = rec.config.get("parent") {
        current["parent"] = p.clone();
    }
    out.push(current);
    Ok(Value::Array(out))
}

/// `POST .../snapshot`: a new snapshot of the config as it is, on top of the current one.
fn create(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let g = guest(ctx);
    let name = snapname(ctx);
    // qemu-server (`current`, `pending` in any case) and pve-container (`current`,
    // `vzdump`) refuse these before forking the worker.
    let reserved = name == "current"
        || (g.noun == "VM" && name.eq_ignore_ascii_case("pending"))
        || (g.noun == "CT" && name == "vzdump");
    if reserved {
        return Err(err500(format!(
            "unable to use snapshot name '{name}' (reserved name)"
        )));
    }
    let description = ctx.params.get("description").cloned();
    let vmstate = ctx.params.get("vmstate").cloned();
    let kind = if g.noun == "CT" { "lxc" } else { "qemu" };
    let feature = ctx.store().read(|s| {
        s.members
            .get(&g.list)
            .and_then(|m| m.get(&g.vmid))
            .is_none_or(|r| super::volumes::snapshot_feature(s, kind, &r.config))
    });
    worker(ctx, &g, |rec, all, clock| {
        if rec.config.get("template").is_some_and(is_set) {
            return Err("you can't take a snapshot if it's a template".into());
        }
        if all.contains_key(&name) {
            return Err(format!("snapshot name '{name}' already used"));
        }
        // PVE::AbstractConfig::__snapshot_prepare, in the task.
        if !feature {
            return Err("snapshot feature is not available".into());
        }
        // __snapshot_copy_config: the config without the guest's description, unused
        // disks and lock; the snapshot has a description of its own.
        let mut snap = copy_config(&rec.config);
        snap.insert("snaptime".into(), json!(clock));
        if let Some(d) = description {
            snap.insert("description".into(), d);
        }
        if let Some(v) = vmstate.filter(is_set) {
            snap.insert("vmstate".into(), v);
        }
        if let Some(p) = rec.config.get("parent") {
            snap.insert("parent".into(), p.clone());
        }
        all.insert(name.clone(), Value::Object(snap));
        rec.config.insert("parent".into(), json!(name));
        Ok(())
    })
}

/// `GET .../snapshot/{snapname}/config`: the config the snapshot holds.
fn config(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let g = guest(ctx);
    let name = snapname(ctx);
    record(ctx, &g)?;
    ctx.store()
        .read(|s| {
            let snap = s.members.get(&g.snapshots_key())?.get(&name)?;
            Some(Value::Object(snap.config.clone()))
        })
        .ok_or_else(|| err500(missing(&name)))
}

/// `PUT .../snapshot/{snapname}/config`: a new description.
fn describe(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let g = guest(ctx);
    let name = snapname(ctx);
    record(ctx, &g)?;
    let description = ctx.params.get("description").cloned();
    ctx.store().write(|s| {
        let snap = s
            .members
            .get_mut(&g.snapshots_key())
            .and_then(|m| m.get_mut(&name));
        match (snap, description) {
            (Some(snap), Some(d)) => {
                snap.config.insert("description".into(), d);
                Ok(Value::Null)
            }
            (Some(_), None) => Ok(Value::Null),
            (None, _) => Err(err500(missing(&name))),
        }
    })
}

/// `POST .../snapshot/{snapname}/rollback`: the config as the snapshot holds it (the guest
/// stopped, unless `start`), standing on that snapshot.
fn rollback(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let g = guest(ctx);
    let name = snapname(ctx);
    let start = ctx.flag("start");
    worker(ctx, &g, |rec, all, _| {
        let Some(Value::Object(snap)) = all.get(&name) else {
            return Err(missing(&name));
        };
        // __snapshot_apply_config: the guest keeps its description and unused disks,
        // the rest is the snapshot's.
        let mut config: Map<String, Value> = rec
            .config
            .iter()
            .filter(|(k, _)| k.as_str() == "description" || k.starts_with("unused"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        config.extend(copy_config(snap));
        config.insert("parent".into(), json!(name));
        rec.config = config;
        let status = if start { "running" } else { "stopped" };
        rec.meta.insert("status".into(), json!(status));
        Ok(())
    })
}

/// PVE's `__snapshot_copy_config`: what passes between a guest's config and a snapshot
/// (not the snapshot bookkeeping, lock, digest, description or unused disks).
fn copy_config(source: &Map<String, Value>) -> Map<String, Value> {
    const SKIP: &[&str] = &[
        "snapshots",
        "snapstate",
        "snaptime",
        "vmstate",
        "lock",
        "digest",
        "description",
        "parent",
    ];
    source
        .iter()
        .filter(|(k, _)| !SKIP.contains(&k.as_str()) && !k.starts_with("unused"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

/// `DELETE .../snapshot/{snapname}`: the snapshot goes; its children stand on its parent.
fn delete(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let g = guest(ctx);
    let name = snapname(ctx);
    worker(ctx, &g, |rec, all, _| {
        let Some(gone) = all.remove(&name) else {
            return Err(missing(&name));
        };
        let parent = gone.get("parent").cloned();
        for snap in all.values_mut() {
            if snap.get("parent").and_then(Value::as_str) == Some(name.as_str()) {
                match &parent {
                    Some(p) => snap["parent"] = p.clone(),
                    None => {
                        if let Some(o) = snap.as_object_mut() {
                            o.remove("parent");
                        }
                    }
                }
            }
        }
        if rec.config.get("parent").and_then(Value::as_str) == Some(name.as_str()) {
            match parent {
                Some(p) => {
                    rec.config.insert("parent".into(), p);
                }
                None => {
                    rec.config.remove("parent");
                }
            }
        }
        Ok(())
    })
}
