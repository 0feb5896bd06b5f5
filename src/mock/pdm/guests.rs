//! What the remotes hold, as PDM shows it: a PVE remote's nodes, guests (their
//! configuration, status, power actions, migrations), tasks and resources; a PBS remote's
//! datastores, snapshots and tasks; resources, subscriptions and metric collection
//! across remotes.

use serde_json::{json, Map, Value};

use super::{check_remote, members_of, remote_param, remote_rec};
use crate::api::ApiError;
use crate::mock::store::{MockState, Record};
use crate::mock::Ctx;

pub(super) fn pve_remotes(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.store().read(|s| {
        Value::Array(
            members_of(s, "remotes/remote")
                .filter(|(_, r)| r.config.get("type").and_then(Value::as_str) == Some("pve"))
                .map(|(id, _)| json!({"remote": id}))
                .collect(),
        )
    }))
}

pub(super) fn pve_nodes(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
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

pub(super) fn guests(ctx: &Ctx<'_>, kind: &str) -> Result<Value, ApiError> {
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
        .map(|r| &**r)
        .ok_or_else(|| {
            let noun = if kind == "qemu" { "VM" } else { "CT" };
            ApiError::new(500, format!("Configuration file 'nodes/*/{kind}-server/{vmid}.conf' does not exist - {noun} {vmid} not found"))
        })
}

pub(super) fn guest_config(ctx: &Ctx<'_>, kind: &str) -> Result<Value, ApiError> {
    let remote = remote_param(ctx);
    let vmid = ctx.path_param("vmid").unwrap_or_default().to_string();
    ctx.store().read(|s| {
        check_remote(s, &remote, Some("pve"))?;
        let g = guest(s, &remote, kind, &vmid)?;
        let mut cfg = g.meta.get("config").cloned().unwrap_or_else(|| json!({}));
        cfg["digest"] = json!(crate::mock::reads::config_digest(
            cfg.as_object().unwrap_or(&Map::new())
        ));
        Ok(cfg)
    })
}

pub(super) fn guest_status(ctx: &Ctx<'_>, kind: &str) -> Result<Value, ApiError> {
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
            (Record {
                config: task.as_object().cloned().unwrap_or_default(),
                meta: Map::new(),
            })
            .into(),
        );
    upid
}

fn caller_id(ctx: &Ctx<'_>) -> String {
    match ctx.caller.authid() {
        a if a.is_empty() => "root@pam".into(),
        a => a,
    }
}

pub(super) fn power(
    ctx: &Ctx<'_>,
    kind: &str,
    task: &str,
    status: &str,
) -> Result<Value, ApiError> {
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

pub(super) fn migrate(ctx: &Ctx<'_>, kind: &str, task: &str) -> Result<Value, ApiError> {
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
pub(super) fn remote_migrate(ctx: &Ctx<'_>, kind: &str) -> Result<Value, ApiError> {
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
            .insert(target_vmid.clone(), moved.into());
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

pub(super) fn pve_resources(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
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

pub(super) fn resources_list(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
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

pub(super) fn subscriptions(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
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

pub(super) fn metric_status(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
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

pub(super) fn metric_trigger(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
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

pub(super) fn tasks(ctx: &Ctx<'_>, kind: &str) -> Result<Value, ApiError> {
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

pub(super) fn pbs_task_status(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
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

pub(super) fn pbs_datastores(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
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

pub(super) fn pbs_snapshots(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
