//! Proxmox Datacenter Manager: its remotes (a generic collection at `/remotes/remote`) and
//! what each remote holds — a PVE cluster's nodes, guests and tasks, a PBS server's
//! datastores, snapshots and tasks — as PDM shows them under `/pve/remotes/{remote}/...`,
//! `/pbs/remotes/{remote}/...` and across remotes under `/resources/...`, plus the default
//! datacenter the mock starts from (the original package's PDM seed: 3 remotes, 16 VMs,
//! 5 containers, 2 datastores, 51 snapshots, 3 users, 5 ACL entries, 2 views).
//!
//! Store layout (keys under `members`): `remotes/remote` (id -> remote config; its meta
//! holds `version` and `subscription`), `pve/remotes/<r>/nodes` (node -> node entry),
//! `pve/remotes/<r>/qemu` and `.../lxc` (vmid -> list entry; meta `config` the guest's
//! configuration), `pve/remotes/<r>/tasks` and `pbs/remotes/<r>/tasks` (upid -> task),
//! `pbs/remotes/<r>/datastore` (store -> datastore), `pbs/remotes/<r>/snapshots`
//! (`store|ns|type/id/time` -> snapshot), `config/views` (generic collection).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::computed::Computed;
use super::store::{MockState, Record};
use super::Ctx;
use crate::api::{ApiError, Method};

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/version", version),
    (Method::Get, "/remotes/remote", list_remotes),
    (Method::Post, "/remotes/remote", create_remote),
    (Method::Put, "/remotes/remote/{id}", update_remote),
    (Method::Get, "/remotes/remote/{id}", read_remote),
    (Method::Get, "/remotes/remote/{id}/version", remote_version),
    (Method::Get, "/pve/remotes", pve_remotes),
    (Method::Get, "/pve/remotes/{remote}/nodes", pve_nodes),
    (Method::Get, "/pve/remotes/{remote}/qemu", |c| {
        guests(c, "qemu")
    }),
    (Method::Get, "/pve/remotes/{remote}/lxc", |c| {
        guests(c, "lxc")
    }),
    (
        Method::Get,
        "/pve/remotes/{remote}/qemu/{vmid}/config",
        |c| guest_config(c, "qemu"),
    ),
    (
        Method::Get,
        "/pve/remotes/{remote}/lxc/{vmid}/config",
        |c| guest_config(c, "lxc"),
    ),
    (
        Method::Get,
        "/pve/remotes/{remote}/qemu/{vmid}/status",
        |c| guest_status(c, "qemu"),
    ),
    (
        Method::Get,
        "/pve/remotes/{remote}/lxc/{vmid}/status",
        |c| guest_status(c, "lxc"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/qemu/{vmid}/start",
        |c| power(c, "qemu", "qmstart", "running"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/lxc/{vmid}/start",
        |c| power(c, "lxc", "vzstart", "running"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/qemu/{vmid}/stop",
        |c| power(c, "qemu", "qmstop", "stopped"),
    ),
    (Method::Post, "/pve/remotes/{remote}/lxc/{vmid}/stop", |c| {
        power(c, "lxc", "vzstop", "stopped")
    }),
    (
        Method::Post,
        "/pve/remotes/{remote}/qemu/{vmid}/shutdown",
        |c| power(c, "qemu", "qmshutdown", "stopped"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/lxc/{vmid}/shutdown",
        |c| power(c, "lxc", "vzshutdown", "stopped"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/qemu/{vmid}/resume",
        |c| power(c, "qemu", "qmresume", "running"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/qemu/{vmid}/migrate",
        |c| migrate(c, "qemu", "qmigrate"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/lxc/{vmid}/migrate",
        |c| migrate(c, "lxc", "vzmigrate"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/qemu/{vmid}/remote-migrate",
        |c| remote_migrate(c, "qemu"),
    ),
    (
        Method::Post,
        "/pve/remotes/{remote}/lxc/{vmid}/remote-migrate",
        |c| remote_migrate(c, "lxc"),
    ),
    (
        Method::Get,
        "/pve/remotes/{remote}/resources",
        pve_resources,
    ),
    (Method::Get, "/pve/remotes/{remote}/tasks", |c| {
        tasks(c, "pve")
    }),
    (Method::Get, "/pbs/remotes/{remote}/tasks", |c| {
        tasks(c, "pbs")
    }),
    (
        Method::Get,
        "/pbs/remotes/{remote}/tasks/{upid}/status",
        pbs_task_status,
    ),
    (
        Method::Get,
        "/pbs/remotes/{remote}/datastore",
        pbs_datastores,
    ),
    (
        Method::Get,
        "/pbs/remotes/{remote}/datastore/{datastore}/snapshots",
        pbs_snapshots,
    ),
    (Method::Get, "/resources/list", resources_list),
    (Method::Get, "/resources/subscription", subscriptions),
    (
        Method::Get,
        "/remotes/metric-collection/status",
        metric_status,
    ),
    (
        Method::Post,
        "/remotes/metric-collection/trigger",
        metric_trigger,
    ),
];

/// The version the mock reports.
pub const VERSION: (&str, &str, &str) = ("1.0.4", "1", "abcdef01");

fn remote_rec<'s>(s: &'s MockState, id: &str) -> Option<&'s Record> {
    s.members
        .get("remotes/remote")?
        .get(id)
        .filter(|_| !s.is_deleted(&format!("remotes/remote/{id}")))
}

/// Whether `remote` exists as a remote of `kind` (`pve`, `pbs`); PDM's refusal otherwise.
pub fn check_remote(s: &MockState, remote: &str, kind: Option<&str>) -> Result<(), ApiError> {
    let Some(rec) = remote_rec(s, remote) else {
        return Err(ApiError::new(400, format!("no such remote '{remote}'")));
    };
    match kind {
        Some(k)
            if rec
                .config
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("pve")
                != k =>
        {
            Err(ApiError::new(
                400,
                format!("remote '{remote}' is not a {k} remote"),
            ))
        }
        _ => Ok(()),
    }
}

fn remote_param(ctx: &Ctx<'_>) -> String {
    ctx.path_param("remote").unwrap_or_default().to_string()
}

fn members_of<'s>(s: &'s MockState, list: &str) -> impl Iterator<Item = (&'s String, &'s Record)> {
    s.members.get(list).into_iter().flatten()
}

fn version(_ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let (version, release, repoid) = VERSION;
    Ok(json!({"version": version, "release": release, "repoid": repoid}))
}

/// A remote as PDM shows it: its configuration, the token never.
fn remote_view(id: &str, rec: &Record) -> Value {
    let mut v = Value::Object(rec.config.clone());
    v["id"] = json!(id);
    v["token"] = json!("");
    v
}

fn list_remotes(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.store().read(|s| {
        Value::Array(
            members_of(s, "remotes/remote")
                .filter(|(id, _)| remote_rec(s, id).is_some())
                .map(|(id, r)| remote_view(id, r))
                .collect(),
        )
    }))
}

/// The token a remote is reached with is not kept: the mock never connects, and the
/// store (which can be saved to a file) must hold no secret.
fn forget_token(ctx: &Ctx<'_>, id: &str) {
    ctx.store().write(|s| {
        if let Some(r) = s
            .members
            .get_mut("remotes/remote")
            .and_then(|m| m.get_mut(id))
        {
            if r.config.remove("token").is_some() {
                r.meta.insert("has-token".into(), json!(true));
            }
        }
    });
}

fn create_remote(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let v = super::writes::create(ctx)?;
    forget_token(ctx, &ctx.text("id").unwrap_or_default());
    Ok(v)
}

fn update_remote(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let v = super::writes::update(ctx)?;
    forget_token(ctx, ctx.path_param("id").unwrap_or_default());
    Ok(v)
}

fn read_remote(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let id = ctx.path_param("id").unwrap_or_default().to_string();
    ctx.store().read(|s| {
        check_remote(s, &id, None)?;
        Ok(remote_rec(s, &id).map_or(Value::Null, |r| remote_view(&id, r)))
    })
}

fn remote_version(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let id = ctx.path_param("id").unwrap_or_default().to_string();
    ctx.store().read(|s| {
        check_remote(s, &id, None)?;
        Ok(remote_rec(s, &id)
            .and_then(|r| r.meta.get("version").cloned())
            .unwrap_or_else(|| json!({"version": "unknown", "release": "", "repoid": ""})))
    })
}

fn pve_remotes(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.store().read(|s| {
        Value::Array(
            members_of(s, "remotes/remote")
                .filter(|(_, r)| r.config.get("type").and_then(Value::as_str) == Some("pve"))
                .map(|(id, _)| json!({"remote": id}))
                .collect(),
        )
    }))
}

fn pve_nodes(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let remote = remote_param(ctx);
    ctx.store().read(|s| {
        check_remote(s, &remote, Some("pve"))?;
        Ok(Value::Array(
            members_of(s, &format!("pve/remotes/{remote}/nodes"))
                .map(|(_, r)| Value::Object(r.config.clone()))
                .collect(),
        ))
    })
}

fn guests(ctx: &Ctx<'_>, kind: &str) -> Result<Value, ApiError> {
    let remote = remote_param(ctx);
    let node = ctx.text("node");
    ctx.store().read(|s| {
        check_remote(s, &remote, Some("pve"))?;
        let mut out: Vec<(u64, Value)> = members_of(s, &format!("pve/remotes/{remote}/{kind}"))
            .filter(|(_, r)| {
                node.as_deref()
                    .is_none_or(|n| r.config.get("node").and_then(Value::as_str) == Some(n))
            })
            .map(|(id, r)| (id.parse().unwrap_or(0), Value::Object(r.config.clone())))
            .collect();
        out.sort_by_key(|(id, _)| *id);
        Ok(Value::Array(out.into_iter().map(|(_, v)| v).collect()))
    })
}

fn guest<'s>(
    s: &'s MockState,
    remote: &str,
    kind: &str,
    vmid: &str,
) -> Result<&'s Record, ApiError> {
    s.members
        .get(&format!("pve/remotes/{remote}/{kind}"))
        .and_then(|m| m.get(vmid))
        .ok_or_else(|| {
            let noun = if kind == "qemu" { "VM" } else { "CT" };
            ApiError::new(500, format!("Configuration file 'nodes/*/{kind}-server/{vmid}.conf' does not exist - {noun} {vmid} not found"))
        })
}

fn guest_config(ctx: &Ctx<'_>, kind: &str) -> Result<Value, ApiError> {
    let remote = remote_param(ctx);
    let vmid = ctx.path_param("vmid").unwrap_or_default().to_string();
    ctx.store().read(|s| {
        check_remote(s, &remote, Some("pve"))?;
        let g = guest(s, &remote, kind, &vmid)?;
        let mut cfg = g.meta.get("config").cloned().unwrap_or_else(|| json!({}));
        cfg["digest"] = json!(super::reads::config_digest(
            cfg.as_object().unwrap_or(&Map::new())
        ));
        Ok(cfg)
    })
}

fn guest_status(ctx: &Ctx<'_>, kind: &str) -> Result<Value, ApiError> {
    let remote = remote_param(ctx);
    let vmid = ctx.path_param("vmid").unwrap_or_default().to_string();
    ctx.store().read(|s| {
        check_remote(s, &remote, Some("pve"))?;
        let g = guest(s, &remote, kind, &vmid)?;
        let mut v = Value::Object(g.config.clone());
        v["ha"] = json!({"managed": 0});
        if v.get("status") == Some(&json!("running")) {
            v["qmpstatus"] = json!("running");
        }
        Ok(v)
    })
}

/// A PVE UPID for a task on a remote's node, recorded in its task list as finished.
fn record_pve_task(
    s: &mut MockState,
    remote: &str,
    node: &str,
    kind: &str,
    id: &str,
    user: &str,
    now: u64,
) -> String {
    s.seq += 1;
    let upid = format!(
        "UPID:{node}:{:08X}:{:08X}:{now:08X}:{kind}:{id}:{user}:",
        0x3000 + s.seq,
        0x9000 + s.seq
    );
    let task = json!({
        "upid": upid, "node": node, "pid": 0x3000 + s.seq, "pstart": 0x9000 + s.seq,
        "starttime": now, "endtime": now + 1, "type": kind, "id": id, "user": user, "status": "OK",
    });
    s.members
        .entry(format!("pve/remotes/{remote}/tasks"))
        .or_default()
        .insert(
            upid.clone(),
            Record {
                config: task.as_object().cloned().unwrap_or_default(),
                meta: Map::new(),
            },
        );
    upid
}

fn caller_id(ctx: &Ctx<'_>) -> String {
    match ctx.caller.authid() {
        a if a.is_empty() => "root@pam".into(),
        a => a,
    }
}

fn power(ctx: &Ctx<'_>, kind: &str, task: &str, status: &str) -> Result<Value, ApiError> {
    let remote = remote_param(ctx);
    let vmid = ctx.path_param("vmid").unwrap_or_default().to_string();
    let user = caller_id(ctx);
    let now = ctx.mock.now();
    ctx.store().write(|s| {
        check_remote(s, &remote, Some("pve"))?;
        let node = guest(s, &remote, kind, &vmid)?
            .config
            .get("node")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if let Some(g) = s
            .members
            .get_mut(&format!("pve/remotes/{remote}/{kind}"))
            .and_then(|m| m.get_mut(&vmid))
        {
            g.config.insert("status".into(), json!(status));
            if status == "running" {
                g.config.entry("uptime").or_insert(json!(1));
            } else {
                g.config.insert("uptime".into(), json!(0));
                g.config.insert("cpu".into(), json!(0));
            }
        }
        Ok(Value::String(record_pve_task(
            s, &remote, &node, task, &vmid, &user, now,
        )))
    })
}

fn migrate(ctx: &Ctx<'_>, kind: &str, task: &str) -> Result<Value, ApiError> {
    let remote = remote_param(ctx);
    let vmid = ctx.path_param("vmid").unwrap_or_default().to_string();
    let target = ctx.text("target").unwrap_or_default();
    let user = caller_id(ctx);
    let now = ctx.mock.now();
    ctx.store().write(|s| {
        check_remote(s, &remote, Some("pve"))?;
        let node = guest(s, &remote, kind, &vmid)?
            .config
            .get("node")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let known = s
            .members
            .get(&format!("pve/remotes/{remote}/nodes"))
            .is_some_and(|m| m.contains_key(&target));
        if !known {
            return Err(ApiError::new(
                500,
                format!("no such cluster node '{target}'"),
            ));
        }
        if target == node {
            return Err(ApiError::new(500, "target is local node."));
        }
        if let Some(g) = s
            .members
            .get_mut(&format!("pve/remotes/{remote}/{kind}"))
            .and_then(|m| m.get_mut(&vmid))
        {
            g.config.insert("node".into(), json!(target));
        }
        Ok(Value::String(record_pve_task(
            s, &remote, &node, task, &vmid, &user, now,
        )))
    })
}

/// A remote migration: the guest leaves this remote for `target` (a PVE remote), as
/// `target-vmid` (default: the same id).
fn remote_migrate(ctx: &Ctx<'_>, kind: &str) -> Result<Value, ApiError> {
    let remote = remote_param(ctx);
    let vmid = ctx.path_param("vmid").unwrap_or_default().to_string();
    let target = ctx.text("target").unwrap_or_default();
    let target_vmid = ctx.text("target-vmid").unwrap_or_else(|| vmid.clone());
    let user = caller_id(ctx);
    let now = ctx.mock.now();
    ctx.store().write(|s| {
        check_remote(s, &remote, Some("pve"))?;
        check_remote(s, &target, Some("pve"))?;
        let mut moved = guest(s, &remote, kind, &vmid)?.clone();
        let node = moved
            .config
            .get("node")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let target_node = s
            .members
            .get(&format!("pve/remotes/{target}/nodes"))
            .and_then(|m| m.keys().next().cloned())
            .unwrap_or_default();
        let taken = s
            .members
            .get(&format!("pve/remotes/{target}/{kind}"))
            .is_some_and(|m| m.contains_key(&target_vmid));
        if taken {
            return Err(ApiError::new(
                500,
                format!("unable to create VM {target_vmid}: config file already exists"),
            ));
        }
        if let Some(m) = s.members.get_mut(&format!("pve/remotes/{remote}/{kind}")) {
            m.remove(&vmid);
        }
        moved.config.insert(
            "vmid".into(),
            json!(target_vmid.parse::<u64>().unwrap_or(0)),
        );
        moved.config.insert("node".into(), json!(target_node));
        s.members
            .entry(format!("pve/remotes/{target}/{kind}"))
            .or_default()
            .insert(target_vmid.clone(), moved);
        Ok(Value::String(record_pve_task(
            s, &remote, &node, "qmigrate", &vmid, &user, now,
        )))
    })
}

/// The PDM resource entries of a PVE remote (`pve-node`, `pve-qemu`, `pve-lxc`).
fn pve_resource_entries(s: &MockState, remote: &str) -> Vec<Value> {
    let mut out = Vec::new();
    for (node, r) in members_of(s, &format!("pve/remotes/{remote}/nodes")) {
        out.push(json!({
            "type": "pve-node", "id": format!("remote/{remote}/node/{node}"), "node": node,
            "status": r.config.get("status").cloned().unwrap_or(json!("online")),
            "cpu": r.config.get("cpu").cloned().unwrap_or(json!(0.0)),
            "maxcpu": r.config.get("maxcpu").cloned().unwrap_or(json!(8)),
            "mem": r.config.get("mem").cloned().unwrap_or(json!(8_589_934_592u64)),
            "maxmem": r.config.get("maxmem").cloned().unwrap_or(json!(68_719_476_736u64)),
            "uptime": r.config.get("uptime").cloned().unwrap_or(json!(1_209_600)),
            "level": "", "cgroup-mode": 2,
        }));
    }
    for kind in ["qemu", "lxc"] {
        for (vmid, r) in members_of(s, &format!("pve/remotes/{remote}/{kind}")) {
            let g = &r.config;
            let get = |k: &str, d: Value| g.get(k).cloned().unwrap_or(d);
            out.push(json!({
                "type": format!("pve-{kind}"), "id": format!("remote/{remote}/guest/{vmid}"),
                "vmid": vmid.parse::<u64>().unwrap_or(0), "name": get("name", json!("")),
                "node": get("node", json!("")), "status": get("status", json!("stopped")),
                "cpu": get("cpu", json!(0.0)), "maxcpu": get("cpus", json!(1)),
                "mem": get("mem", json!(0)), "maxmem": get("maxmem", json!(2_147_483_648u64)),
                "disk": get("disk", json!(0)), "maxdisk": get("maxdisk", json!(34_359_738_368u64)),
                "uptime": get("uptime", json!(0)), "template": false, "pool": "",
                "tags": get("tags", json!([])),
            }));
        }
    }
    out
}

/// The PDM resource entries of a PBS remote (`pbs-node`, `pbs-datastore`).
fn pbs_resource_entries(s: &MockState, remote: &str) -> Vec<Value> {
    let mut out = vec![json!({
        "type": "pbs-node", "id": format!("remote/{remote}/node/localhost"), "name": remote,
        "cpu": 0.04, "maxcpu": 16, "mem": 6_442_450_944u64, "maxmem": 34_359_738_368u64,
        "uptime": 2_419_200,
    })];
    for (store, r) in members_of(s, &format!("pbs/remotes/{remote}/datastore")) {
        let total = r.config.get("total").and_then(Value::as_u64).unwrap_or(0);
        let used = r.config.get("used").and_then(Value::as_u64).unwrap_or(0);
        out.push(json!({
            "type": "pbs-datastore", "id": format!("remote/{remote}/datastore/{store}"),
            "name": store, "maxdisk": total, "disk": used,
            "usage": if total == 0 { 0.0 } else { used as f64 / total as f64 },
            "backend-type": "filesystem",
        }));
    }
    out
}

fn resource_entries(s: &MockState, remote: &str) -> Vec<Value> {
    match remote_rec(s, remote)
        .and_then(|r| r.config.get("type"))
        .and_then(Value::as_str)
    {
        Some("pbs") => pbs_resource_entries(s, remote),
        _ => pve_resource_entries(s, remote),
    }
}

fn pve_resources(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let remote = remote_param(ctx);
    let kind = ctx.text("kind");
    ctx.store().read(|s| {
        check_remote(s, &remote, Some("pve"))?;
        let wanted = |t: &str| match kind.as_deref() {
            None => true,
            Some("vm") => t == "pve-qemu" || t == "pve-lxc",
            Some("node") => t == "pve-node",
            Some("storage") => t == "pve-storage",
            Some(_) => false,
        };
        Ok(Value::Array(
            pve_resource_entries(s, &remote)
                .into_iter()
                .filter(|r| wanted(r["type"].as_str().unwrap_or("")))
                .collect(),
        ))
    })
}

/// Whether a resource of `remote` matches one filter rule of a view
/// (`[exact:]remote=x`, `resource-type=qemu`, `tag=t`, `resource=id:...`).
fn rule_matches(rule: &str, remote: &str, r: &Value) -> bool {
    let rule = rule.strip_prefix("exact:").unwrap_or(rule);
    let Some((k, v)) = rule.split_once('=') else {
        return false;
    };
    let ty = r["type"].as_str().unwrap_or("");
    match k {
        "remote" => remote == v,
        "resource-type" => ty.rsplit('-').next() == Some(v),
        "tag" => r["tags"]
            .as_array()
            .is_some_and(|t| t.iter().any(|x| x == v)),
        "resource-pool" => r["pool"] == v,
        "resource" => v.strip_prefix("id:").is_some_and(|id| r["id"] == id),
        _ => false,
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_string)
            .collect(),
        Some(Value::String(s)) => crate::schema::formats::split_list(s)
            .into_iter()
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    }
}

fn resources_list(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let resource_type = ctx.text("resource-type");
    let search = ctx.text("search").map(|s| s.to_lowercase());
    let view = ctx.text("view");
    ctx.store().read(|s| {
        let view_rec = match &view {
            Some(v) => Some(
                s.members
                    .get("config/views")
                    .and_then(|m| m.get(v))
                    .ok_or_else(|| ApiError::new(400, format!("view '{v}' does not exist")))?,
            ),
            None => None,
        };
        let mut out = Vec::new();
        for (remote, _) in members_of(s, "remotes/remote") {
            let resources: Vec<Value> = resource_entries(s, remote)
                .into_iter()
                .filter(|r| {
                    let ty = r["type"].as_str().unwrap_or("");
                    resource_type
                        .as_deref()
                        .is_none_or(|t| ty.rsplit('-').next() == Some(t))
                })
                .filter(|r| {
                    search
                        .as_deref()
                        .is_none_or(|q| r.to_string().to_lowercase().contains(q))
                })
                .filter(|r| {
                    let Some(v) = view_rec else { return true };
                    let include = strings(v.config.get("include"));
                    let exclude = strings(v.config.get("exclude"));
                    let all = v
                        .config
                        .get("include-all")
                        .is_some_and(|x| x == true || x == 1);
                    let included = all || include.iter().any(|rule| rule_matches(rule, remote, r));
                    included && !exclude.iter().any(|rule| rule_matches(rule, remote, r))
                })
                .collect();
            if view_rec.is_none() || !resources.is_empty() {
                out.push(json!({"remote": remote, "resources": resources}));
            }
        }
        Ok(Value::Array(out))
    })
}

fn subscriptions(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.store().read(|s| {
        Value::Array(
            members_of(s, "remotes/remote")
                .map(|(id, r)| {
                    let sub = r.meta.get("subscription").cloned().unwrap_or(json!({}));
                    let nodes = strings(r.config.get("nodes"));
                    let node_status: Map<String, Value> =
                        nodes.iter().map(|n| (n.clone(), sub.clone())).collect();
                    let state = if sub.get("status") == Some(&json!("active")) {
                        "active"
                    } else {
                        "none"
                    };
                    json!({"remote": id, "state": state, "node-status": node_status})
                })
                .collect(),
        )
    }))
}

fn metric_status(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.store().read(|s| {
        Value::Array(
            members_of(s, "remotes/remote")
                .map(|(id, r)| {
                    json!({"remote": id,
                           "last-collection": r.meta.get("last-collection").cloned().unwrap_or(json!(1_700_000_000u64))})
                })
                .collect(),
        )
    }))
}

fn metric_trigger(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let now = ctx.mock.now();
    let remote = ctx.text("remote");
    ctx.store().write(|s| {
        if let Some(r) = &remote {
            check_remote(s, r, None)?;
        }
        if let Some(m) = s.members.get_mut("remotes/remote") {
            for (id, rec) in m.iter_mut() {
                if remote.as_deref().is_none_or(|r| r == id) {
                    rec.meta.insert("last-collection".into(), json!(now));
                }
            }
        }
        Ok(Value::Null)
    })
}

fn tasks(ctx: &Ctx<'_>, kind: &str) -> Result<Value, ApiError> {
    let remote = remote_param(ctx);
    ctx.store().read(|s| {
        check_remote(s, &remote, Some(kind))?;
        let mut out: Vec<Value> = members_of(s, &format!("{kind}/remotes/{remote}/tasks"))
            .map(|(_, r)| Value::Object(r.config.clone()))
            .collect();
        out.sort_by_key(|t| std::cmp::Reverse(t["starttime"].as_u64().unwrap_or(0)));
        Ok(Value::Array(out))
    })
}

fn pbs_task_status(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let remote = remote_param(ctx);
    let upid = ctx.path_param("upid").unwrap_or_default().to_string();
    ctx.store().read(|s| {
        check_remote(s, &remote, Some("pbs"))?;
        let task = s
            .members
            .get(&format!("pbs/remotes/{remote}/tasks"))
            .and_then(|m| m.get(&upid))
            .ok_or_else(|| ApiError::new(400, format!("no such task '{upid}'")))?;
        let mut v = Value::Object(task.config.clone());
        v["status"] = json!("stopped");
        v["exitstatus"] = json!("OK");
        Ok(v)
    })
}

fn pbs_datastores(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let remote = remote_param(ctx);
    ctx.store().read(|s| {
        check_remote(s, &remote, Some("pbs"))?;
        Ok(Value::Array(
            members_of(s, &format!("pbs/remotes/{remote}/datastore"))
                .map(|(name, r)| {
                    let mut v = json!({"name": name, "path": format!("/mnt/datastore/{name}")});
                    if let Some(c) = r.config.get("comment") {
                        v["comment"] = c.clone();
                    }
                    v
                })
                .collect(),
        ))
    })
}

fn pbs_snapshots(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let remote = remote_param(ctx);
    let store = ctx.path_param("datastore").unwrap_or_default().to_string();
    let ns = ctx.text("ns").unwrap_or_default();
    ctx.store().read(|s| {
        check_remote(s, &remote, Some("pbs"))?;
        let known = s
            .members
            .get(&format!("pbs/remotes/{remote}/datastore"))
            .is_some_and(|m| m.contains_key(&store));
        if !known {
            return Err(ApiError::new(400, format!("no such datastore '{store}'")));
        }
        let prefix = format!("{store}|{ns}|");
        Ok(Value::Array(
            members_of(s, &format!("pbs/remotes/{remote}/snapshots"))
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(_, r)| Value::Object(r.config.clone()))
                .collect(),
        ))
    })
}

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
        nodes: vec!["localhost".into()],
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
            .insert(id.into(), r);
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
            rec(json!({"node": node, "status": "online", "cpu": cpu, "maxcpu": maxcpu,
                       "mem": 25_769_803_776u64, "maxmem": 137_438_953_472u64, "uptime": 2_419_200, "level": "s"})),
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
            .insert(vmid.to_string(), r);
    }
    let upid = "UPID:pve-a-1:00000A00:0000B000:6553F100:qmstart:100:root@pam:";
    s.members.entry("pve/remotes/pve-cluster-a/tasks".into()).or_default().insert(
        upid.into(),
        rec(json!({"upid": upid, "node": "pve-a-1", "pid": 0xA00, "pstart": 0xB000, "starttime": 1_700_000_000u64,
                   "endtime": 1_700_000_005u64, "type": "qmstart", "id": "100", "user": "root@pam", "status": "OK"})),
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
            rec(json!({"total": total, "used": used, "avail": total - used, "comment": comment})),
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
            rec(json!({"backup-type": t, "backup-id": vmid.to_string(), "backup-time": time,
                       "files": ["index.json.blob", if t == "vm" { "drive-scsi0.img.fidx" } else { "root.pxar.didx" }],
                       "size": 12_345_678_900u64, "owner": "root@pam!pdm", "protected": false})),
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
            rec(json!({"enable": true, "expire": 0, "comment": comment})),
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
            rec(
                json!({"path": path, "type": "user", "ugid": ugid, "roleid": role, "propagate": 1}),
            ),
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
            .insert(id.into(), rec(v));
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
    fn view_rules() {
        let r =
            json!({"type": "pve-qemu", "id": "remote/a/guest/100", "tags": ["web"], "pool": ""});
        assert!(rule_matches("remote=a", "a", &r));
        assert!(rule_matches("exact:resource-type=qemu", "a", &r));
        assert!(!rule_matches("resource-type=lxc", "a", &r));
        assert!(rule_matches("tag=web", "a", &r));
        assert!(rule_matches("resource=id:remote/a/guest/100", "a", &r));
    }
}
