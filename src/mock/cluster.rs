//! Answers PVE computes from the whole cluster: the node list, `/cluster/resources` (one
//! row per node, guest and storage the caller may see) and `/cluster/nextid`.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::access::check::has_any;
use super::computed::Computed;
use super::generate::{generate_object, GenContext};
use super::store::MockState;
use super::Ctx;
use crate::api::{ApiError, Method};

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/nodes", nodes),
    (Method::Get, "/cluster/resources", resources),
    (Method::Get, "/cluster/nextid", nextid),
    (Method::Get, "/version", version),
    (Method::Get, "/cluster/status", status),
];

/// `GET /cluster/status`: with more than one node the cluster's entry first (name,
/// config version, node count, quorum), then one entry per node (`nodeid`, `ip`, `local`
/// for the node answering, `online`); a single node stands alone (nodeid 0, no cluster
/// entry), as PVE::API2::ClusterConfig's status answers.
fn status(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let nodes = ctx.store().read(|s| s.nodes.clone());
    let clustered = nodes.len() > 1;
    let rows: Vec<Value> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let online = !ctx.store().is_offline(n);
            json!({
                "type": "node", "id": format!("node/{n}"), "name": n,
                "nodeid": if clustered { i + 1 } else { 0 },
                "ip": format!("192.0.2.{}", 10 + i),
                "local": u8::from(i == 0), "online": u8::from(online), "level": "",
            })
        })
        .collect();
    if !clustered {
        return Ok(Value::Array(rows));
    }
    let online = rows.iter().filter(|r| r["online"] == 1).count();
    let mut out = vec![json!({
        "type": "cluster", "id": "cluster", "name": "pve-cluster",
        "version": nodes.len(), "nodes": nodes.len(),
        "quorate": u8::from(online * 2 > nodes.len()),
    })];
    out.extend(rows);
    Ok(Value::Array(out))
}

/// `GET /version`: the release of the schema served (`9.1.11` -> version `9.1.11`, release
/// `9.1`; a tag without a patch level gets `.0`), as pve-manager reports itself.
fn version(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let tag = ctx.mock.schema().version();
    let parts: Vec<&str> = tag.split('.').collect();
    let release = parts.iter().take(2).copied().collect::<Vec<_>>().join(".");
    let version = if parts.len() >= 3 {
        tag.to_string()
    } else {
        format!("{release}.0")
    };
    Ok(json!({"version": version, "release": release, "repoid": "0123abcd"}))
}

/// One generated list item of the operation's `returns`, for extra path parameters.
pub fn gen_item(ctx: &Ctx<'_>, extra: &[(&str, String)]) -> Map<String, Value> {
    let mut p: Vec<(&str, String)> = ctx.path_params.to_vec();
    p.extend(extra.iter().cloned());
    let gen = GenContext { path_params: &p };
    match ctx
        .op
        .info
        .returns
        .items
        .as_deref()
        .map(|i| generate_object(i, &gen, true))
    {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    }
}

/// What the caller may see of the cluster (`None`: everything, as root).
fn sees<'a>(ctx: &'a Ctx<'_>, s: &'a MockState) -> impl Fn(&str, &[&str]) -> bool + 'a {
    let who = ctx.caller.subject();
    let root = ctx.caller.is_root();
    move |path: &str, privs: &[&str]| {
        root || who.as_ref().is_some_and(|w| has_any(s, w, path, privs))
    }
}

fn nodes(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.store().read(|s| {
        Value::Array(
            s.nodes
                .iter()
                .map(|n| {
                    let mut m = gen_item(ctx, &[("node", n.clone())]);
                    m.insert("status".into(), json!("online"));
                    m.insert("id".into(), json!(format!("node/{n}")));
                    m.insert("type".into(), json!("node"));
                    Value::Object(m)
                })
                .collect(),
        )
    }))
}

fn resources(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let filter = ctx.text("type");
    let filter = filter.as_deref();
    Ok(ctx.store().read(|s| {
        let sees = sees(ctx, s);
        let mut out = Vec::new();
        if filter.is_none_or(|t| t == "node") {
            for n in s
                .nodes
                .iter()
                .filter(|n| sees(&format!("/nodes/{n}"), &["Sys.Audit"]))
            {
                let mut m = gen_item(ctx, &[("node", n.clone())]);
                m.insert("type".into(), json!("node"));
                m.insert("id".into(), json!(format!("node/{n}")));
                m.insert("status".into(), json!("online"));
                out.push(Value::Object(m));
            }
        }
        if filter.is_none_or(|t| t == "vm") {
            for (list, members) in &s.members {
                let parts: Vec<&str> = list.split('/').collect();
                let ["nodes", node, kind @ ("qemu" | "lxc")] = parts[..] else {
                    continue;
                };
                for (id, rec) in members {
                    if s.is_deleted(&format!("{list}/{id}"))
                        || !sees(&format!("/vms/{id}"), &["VM.Audit"])
                    {
                        continue;
                    }
                    let mut m = gen_item(ctx, &[("node", node.to_string())]);
                    m.insert("type".into(), json!(kind));
                    m.insert("id".into(), json!(format!("{kind}/{id}")));
                    m.insert("vmid".into(), json!(id.parse::<u64>().unwrap_or(0)));
                    m.insert("node".into(), json!(node));
                    m.insert(
                        "status".into(),
                        rec.meta.get("status").cloned().unwrap_or(json!("stopped")),
                    );
                    if let Some(name) = rec
                        .config
                        .get("name")
                        .or_else(|| rec.config.get("hostname"))
                    {
                        m.insert("name".into(), name.clone());
                    }
                    m.insert(
                        "template".into(),
                        json!(rec
                            .config
                            .get("template")
                            .and_then(Value::as_u64)
                            .unwrap_or(0)),
                    );
                    out.push(Value::Object(m));
                }
            }
        }
        if filter.is_none_or(|t| t == "storage") {
            if let Some(storages) = s.members.get("storage") {
                for n in &s.nodes {
                    for (id, rec) in storages {
                        if !sees(
                            &format!("/storage/{id}"),
                            &["Datastore.Audit", "Datastore.AllocateSpace"],
                        ) {
                            continue;
                        }
                        let mut m = gen_item(ctx, &[("node", n.clone()), ("storage", id.clone())]);
                        m.insert("type".into(), json!("storage"));
                        m.insert("id".into(), json!(format!("storage/{n}/{id}")));
                        m.insert("storage".into(), json!(id));
                        m.insert("node".into(), json!(n));
                        m.insert("status".into(), json!("available"));
                        if let Some(c) = rec.config.get("content") {
                            m.insert("content".into(), c.clone());
                        }
                        if let Some(t) = rec.config.get("type") {
                            m.insert("plugintype".into(), t.clone());
                        }
                        out.push(Value::Object(m));
                    }
                }
            }
        }
        Value::Array(out)
    }))
}

/// The guest ids in use anywhere in the cluster.
pub fn used_vmids(s: &MockState) -> BTreeSet<u64> {
    s.members
        .iter()
        .filter(|(list, _)| list.ends_with("/qemu") || list.ends_with("/lxc"))
        .flat_map(|(list, m)| {
            m.keys()
                .filter(move |id| !s.is_deleted(&format!("{list}/{id}")))
                .filter_map(|id| id.parse().ok())
        })
        .collect()
}

/// `GET /cluster/nextid`: the lowest free id, or `vmid` itself when it is free; a taken
/// `vmid` is PVE's 400 (`raise_param_exc({ vmid => "VM $vmid already exists" })` in
/// PVE::API2::Cluster).
fn nextid(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let want = ctx.params.get("vmid").and_then(Value::as_u64);
    ctx.store().read(|s| {
        let used = used_vmids(s);
        if let Some(want) = want {
            return if used.contains(&want) {
                Err(ApiError::params([(
                    "vmid",
                    format!("VM {want} already exists"),
                )]))
            } else {
                Ok(json!(want))
            };
        }
        // The lowest free id: at most `used.len()` ids above 100 can be taken.
        Ok(json!((100u64..=100 + used.len() as u64)
            .find(|id| !used.contains(id))
            .unwrap_or(100)))
    })
}
