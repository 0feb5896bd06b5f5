//! Pools as PVE::API2::Pool keeps them: members added and removed with `vms`/`storage`
//! (`delete=1`), a guest in one pool at a time unless `allow-move`, a pool deleted only
//! when empty. Every refusal leaves the pool as it was (PVE writes the config once, at
//! the end). Strict mocks only: lenient mode answers these by their shape
//! (`computed::strict_only`).

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::computed::Computed;
use super::guests::{add_pool_member, owner};
use super::messages::err500;
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
        let listed: Vec<Value> = members(s, &pool)
            .into_iter()
            .filter(|m| kind.as_ref().is_none_or(|k| m["type"] == k.as_str()))
            .collect();
        let mut out = json!({ "members": listed });
        if let Some(c) = rec.config.get("comment") {
            out["comment"] = c.clone();
        }
        Ok(out)
    })
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
    ctx.store().write(|s| {
        if !s
            .members
            .get("pools")
            .is_some_and(|m| m.contains_key(&pool))
        {
            return Err(err500(format!("pool '{pool}' does not exist")));
        }
        let mut mine = members(s, &pool);
        let pools = guest_pools(s);
        // (vmid, the pool it leaves) of the guests that move here.
        let mut moves: Vec<(String, String)> = Vec::new();
        for vmid in &vms {
            if delete {
                if !mine.iter().any(|m| is_guest(m, vmid)) {
                    return Err(err500(format!("VM {vmid} is not a pool member")));
                }
                mine.retain(|m| !is_guest(m, vmid));
                continue;
            }
            if owner(s, vmid).is_none() {
                return Err(err500(format!("VM {vmid} does not exist")));
            }
            match pools.get(vmid).cloned() {
                Some(existing) if existing == pool => {}
                Some(existing) if !allow_move => {
                    return Err(err500(format!(
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
                    return Err(err500(format!("Storage '{id}' is not a pool member")));
                }
                mine.retain(|m| !entry_of(m));
            } else if !s.members.get("storage").is_some_and(|m| m.contains_key(id)) {
                return Err(err500(format!("Storage '{id}' does not exist")));
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
            if let Some(node) = owner(s, &vmid) {
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
    ctx.store().write(|s| {
        if !s
            .members
            .get("pools")
            .is_some_and(|m| m.contains_key(&pool))
        {
            return Err(err500(format!("pool '{pool}' does not exist")));
        }
        if !members(s, &pool).is_empty() {
            return Err(err500(format!("pool '{pool}' is not empty")));
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
