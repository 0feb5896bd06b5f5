//! Pools as PVE::API2::Pool keeps them: members added and removed with `vms`/`storage`
//! (`delete=1`), a guest in one pool at a time unless `allow-move`, a pool deleted only
//! when empty. Every refusal leaves the pool as it was (PVE writes the config once, at
//! the end). Strict mocks only: lenient mode answers these by their shape
//! (`computed::strict_only`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::computed::Computed;
use super::guests::{add_pool_member, owner};
use super::messages::{err500, write_refusal};
use super::store::MockState;
use super::Ctx;
use crate::api::{ApiError, Method};

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Put, "/pools/{poolid}", update),
    (Method::Put, "/pools", update),
    (Method::Delete, "/pools/{poolid}", destroy),
    (Method::Delete, "/pools", destroy),
    (Method::Get, "/pools/{poolid}", read),
];

/// `GET /pools/{poolid}`: its members (none for a new pool; `type` keeps one kind) and
/// comment.
fn read(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let pool = poolid(ctx);
    let kind = ctx.text("type");
    ctx.store().read(|s| {
        let rec = s
            .members
            .get("pools")
            .and_then(|m| m.get(&pool))
            .ok_or_else(|| err500(format!("pool '{pool}' does not exist")))?;
        let clock = ctx.mock.now();
        let listed: Vec<Value> = members(s, &pool)
            .into_iter()
            .filter(|m| kind.as_ref().is_none_or(|k| m["type"] == k.as_str()))
            .filter_map(|m| shown_member(s, m, clock))
            .collect();
        let mut out = json!({ "members": listed });
        if let Some(c) = rec.config.get("comment") {
            out["comment"] = c.clone();
        }
        Ok(out)
    })
}

/// A member as `GET /pools/{poolid}` shows it: a guest with the counters of its RRD entry
/// (PVE's `API2Tools::extract_vm_stats`), a storage as stored; a guest that does not exist (PVE keeps
/// any vmid it is given in user.cfg) is not shown.
fn shown_member(s: &MockState, m: Value, clock: u64) -> Option<Value> {
    let Some(vmid) = m.get("vmid").and_then(Value::as_u64).map(|v| v.to_string()) else {
        return Some(m);
    };
    let node = owner(s, &vmid)?;
    let (kind, rec) = ["qemu", "lxc"].into_iter().find_map(|k| {
        s.members
            .get(&format!("nodes/{node}/{k}"))
            .and_then(|g| g.get(&vmid))
            .map(|r| (k, r))
    })?;
    let f = super::guests::GuestFacts::of(rec);
    let mut row = json!({
        "id": format!("{kind}/{vmid}"), "type": kind, "vmid": m["vmid"], "node": node,
        "status": if f.running() { "running" } else { "stopped" },
        "template": u8::from(f.template.is_some_and(super::is_set)),
        "maxcpu": f.cpus(), "maxmem": f.maxmem(), "uptime": f.uptime(clock),
        "cpu": 0, "mem": 0, "disk": 0, "maxdisk": 0, "netin": 0, "netout": 0,
        "diskread": 0, "diskwrite": 0,
    });
    if let Some(name) = f.name().into_value() {
        row["name"] = name;
    }
    if let Some(tags) = f.tags {
        row["tags"] = tags.clone();
    }
    Some(row)
}

fn poolid(ctx: &Ctx<'_>) -> String {
    ctx.path_param("poolid")
        .map(str::to_string)
        .or_else(|| ctx.text("poolid"))
        .unwrap_or_default()
}

fn list(ctx: &Ctx<'_>, key: &str) -> Vec<String> {
    ctx.text(key)
        .map(|v| {
            v.split([',', ';', ' ', '\0'])
                .filter(|x| !x.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn members(s: &MockState, pool: &str) -> Vec<Value> {
    s.members
        .get("pools")
        .and_then(|m| m.get(pool))
        .and_then(|r| r.meta.get("members"))
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default()
}

fn is_guest(m: &Value, vmid: &str) -> bool {
    m.get("vmid")
        .and_then(Value::as_u64)
        .map(|v| v.to_string())
        .as_deref()
        == Some(vmid)
}

/// Every guest in a pool: vmid -> its pool.
pub(super) fn guest_pools(s: &MockState) -> BTreeMap<String, String> {
    s.members
        .get("pools")
        .into_iter()
        .flatten()
        .flat_map(|(pool, r)| {
            r.meta
                .get("members")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|m| m.get("vmid").and_then(Value::as_u64))
                .map(move |v| (v.to_string(), pool.clone()))
        })
        .collect()
}

fn set_members(s: &mut MockState, pool: &str, members: Vec<Value>) {
    if let Some(rec) = s.members.get_mut("pools").and_then(|m| m.get_mut(pool)) {
        rec.meta.insert("members".into(), Value::Array(members));
    }
}

/// `PUT /pools/{poolid}` (and `PUT /pools` with `poolid`): comment and members.
fn update(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let pool = poolid(ctx);
    let delete = ctx.flag("delete");
    let allow_move = ctx.flag("allow-move");
    let vms = list(ctx, "vms");
    let storages = list(ctx, "storage");
    let comment = ctx.params.get("comment").cloned();
    // PVE's `lock_user_config(..., "update pools failed")` prefixes every refusal.
    let failed = |msg: String| write_refusal("/pools", Method::Put, msg);
    ctx.store().write(|s| {
        if !s
            .members
            .get("pools")
            .is_some_and(|m| m.contains_key(&pool))
        {
            return Err(failed(format!("pool '{pool}' does not exist")));
        }
        let mut mine = members(s, &pool);
        let pools = guest_pools(s);
        // (vmid, the pool it leaves) of the guests that move here.
        let mut moves: Vec<(String, String)> = Vec::new();
        for vmid in &vms {
            if delete {
                if !mine.iter().any(|m| is_guest(m, vmid)) {
                    return Err(failed(format!("VM {vmid} is not a pool member")));
                }
                mine.retain(|m| !is_guest(m, vmid));
                continue;
            }
            // PVE takes any vmid (user.cfg holds ids; reads show the guests that exist).
            match pools.get(vmid).cloned() {
                Some(existing) if existing == pool => {
                    return Err(failed(format!("VM {vmid} is already a pool member")));
                }
                Some(existing) if !allow_move => {
                    return Err(failed(format!(
                        "VM {vmid} belongs already to pool '{existing}' and 'allow-move' is not set"
                    )));
                }
                Some(existing) => moves.push((vmid.clone(), existing)),
                None => moves.push((vmid.clone(), String::new())),
            }
        }
        for id in &storages {
            let entry_of = |m: &Value| m.get("storage").and_then(Value::as_str) == Some(id);
            if delete {
                if !mine.iter().any(entry_of) {
                    return Err(failed(format!("Storage '{id}' is not a pool member")));
                }
                mine.retain(|m| !entry_of(m));
            } else if !s.members.get("storage").is_some_and(|m| m.contains_key(id)) {
                return Err(failed(format!("Storage '{id}' does not exist")));
            } else if !mine.iter().any(entry_of) {
                let node = s.nodes.first().cloned().unwrap_or_else(|| "pve1".into());
                mine.push(json!({
                    "id": format!("storage/{node}/{id}"), "type": "storage",
                    "storage": id, "node": node,
                }));
            }
        }
        // Everything checked: now the change.
        set_members(s, &pool, mine);
        for (vmid, from) in moves {
            if !from.is_empty() {
                let left: Vec<Value> = members(s, &from)
                    .into_iter()
                    .filter(|m| !is_guest(m, &vmid))
                    .collect();
                set_members(s, &from, left);
            }
            let Some(node) = owner(s, &vmid) else {
                // A vmid no guest has: kept, as in user.cfg, and shown once it exists.
                if let Ok(n) = vmid.parse::<u64>() {
                    let mut now = members(s, &pool);
                    now.push(json!({"id": format!("qemu/{n}"), "type": "qemu", "vmid": n}));
                    set_members(s, &pool, now);
                }
                continue;
            };
            {
                let kind = if s
                    .members
                    .get(&format!("nodes/{node}/lxc"))
                    .is_some_and(|m| m.contains_key(&vmid))
                {
                    "lxc"
                } else {
                    "qemu"
                };
                add_pool_member(s, &pool, &format!("nodes/{node}/{kind}"), &vmid);
            }
        }
        if let Some(c) = comment {
            if let Some(rec) = s.members.get_mut("pools").and_then(|m| m.get_mut(&pool)) {
                rec.config.insert("comment".into(), c);
            }
        }
        Ok(Value::Null)
    })
}

/// `DELETE /pools/{poolid}`: only an empty pool goes.
fn destroy(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let pool = poolid(ctx);
    // PVE's `lock_user_config(..., "delete pool failed")` prefixes every refusal.
    let failed = |msg: String| write_refusal("/pools", Method::Delete, msg);
    ctx.store().write(|s| {
        if !s
            .members
            .get("pools")
            .is_some_and(|m| m.contains_key(&pool))
        {
            return Err(failed(format!("pool '{pool}' does not exist")));
        }
        // Guests that no longer exist do not count (PVE skips destroyed guests).
        let listed = members(s, &pool);
        let mut vmids: Vec<u64> = listed
            .iter()
            .filter_map(|m| m.get("vmid").and_then(Value::as_u64))
            .filter(|v| owner(s, &v.to_string()).is_some())
            .collect();
        vmids.sort_unstable();
        if let Some(vmid) = vmids.first() {
            return Err(failed(format!(
                "pool '{pool}' is not empty (contains VM {vmid})"
            )));
        }
        if let Some(id) = listed
            .iter()
            .find_map(|m| m.get("storage").and_then(Value::as_str))
        {
            return Err(failed(format!(
                "pool '{pool}' is not empty (contains storage '{id}')"
            )));
        }
        if let Some(m) = s.members.get_mut("pools") {
            m.remove(&pool);
        }
        let member = format!("pools/{pool}");
        s.drop_overrides_below(&member);
        s.deleted.insert(member);
        Ok(Value::Null)
    })
}
