//! Answers PVE computes from the whole cluster: the node list, `/cluster/resources` (one
//! row per node, guest and storage the caller may see) and `/cluster/nextid`.

use std::collections::BTreeSet;

use serde_json::{json, Map, Value};

use super::access::check::has_any;
use super::computed::{Computed, ComputedRows};
use super::generate::{generate_object, GenContext};
use super::store::MockState;
use super::{is_set, Ctx};
use crate::api::{ApiError, Cell, Method, Rows};

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/nodes", nodes),
    (Method::Get, "/cluster/nextid", nextid),
    (Method::Get, "/version", version),
    (Method::Get, "/cluster/status", status),
    (Method::Get, "/nodes/{node}/status", node_status),
];

/// The kernel a PVE 9 node runs (`current-kernel`, `kversion`).
const KERNEL: (&str, &str) = (
    "6.17.2-1-pve",
    "#1 SMP PREEMPT_DYNAMIC PMX 6.17.2-1 (2025-10-21T11:55Z)",
);

/// `GET /nodes/{node}/status`: what pvestatd and `uname` report, with the memory the
/// node's running guests take (2 GiB for the host itself) and the pve-manager version of
/// the mock's schema.
fn node_status(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let mut out = match ctx.mock.answer(ctx) {
        Value::Object(m) => m,
        other => return Ok(other),
    };
    if ctx.mock.lenient() {
        return Ok(Value::Object(out));
    }
    let node = ctx.path_param("node").unwrap_or_default();
    let has = |k: &str| {
        ctx.op
            .info
            .returns
            .properties
            .as_ref()
            .is_some_and(|p| p.contains_key(k))
    };
    let version = version(ctx)?;
    let release = version["version"].as_str().unwrap_or("9.2.0").to_string();
    let repoid = version["repoid"].as_str().unwrap_or("").to_string();
    let cpus = out
        .get("cpuinfo")
        .and_then(|c| c.get("cpus"))
        .and_then(Value::as_u64)
        .unwrap_or(4);
    out.insert(
        "cpuinfo".into(),
        json!({"cpus": cpus, "cores": cpus, "sockets": 1, "model": "AMD EPYC 7302P 16-Core Processor",
               "mhz": "2994.374", "hvm": "1", "user_hz": 100,
               "flags": "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush mmx fxsr sse sse2 ht syscall nx mmxext fxsr_opt pdpe1gb rdtscp lm constant_tsc rep_good nopl cpuid extd_apicid tsc_known_freq pni pclmulqdq ssse3 fma cx16 sse4_1 sse4_2 x2apic movbe popcnt aes xsave avx f16c rdrand hypervisor lahf_lm cmp_legacy svm cr8_legacy abm sse4a misalignsse 3dnowprefetch osvw topoext perfctr_core ssbd ibrs ibpb stibp vmmcall fsgsbase bmi1 avx2 smep bmi2 rdseed adx smap clflushopt clwb sha_ni xsaveopt xsavec xgetbv1 xsaves clzero xsaveerptr wbnoinvd arat npt nrip_save umip rdpid"}),
    );
    out.insert(
        "current-kernel".into(),
        json!({"sysname": "Linux", "release": KERNEL.0, "version": KERNEL.1, "machine": "x86_64"}),
    );
    out.insert("loadavg".into(), json!(["0.12", "0.08", "0.05"]));
    out.insert(
        "pveversion".into(),
        json!(format!("pve-manager/{release}/{repoid}")),
    );
    let gib = 1u64 << 30;
    let total = out
        .get("memory")
        .and_then(|m| m.get("total"))
        .and_then(Value::as_u64)
        .unwrap_or(8 * gib);
    let guests: u64 = ctx.store().read(|s| {
        ["qemu", "lxc"]
            .iter()
            .filter_map(|kind| s.members.get(&format!("nodes/{node}/{kind}")))
            .flat_map(|m| m.values())
            .filter(|r| r.meta.get("status").and_then(Value::as_str) == Some("running"))
            .map(|r| {
                let mib = match r.config.get("memory") {
                    Some(Value::Number(n)) => n.as_u64(),
                    Some(Value::String(t)) => t
                        .split(',')
                        .next()
                        .and_then(|m| m.trim_start_matches("current=").parse().ok()),
                    _ => None,
                };
                mib.unwrap_or(512) << 20
            })
            .sum()
    });
    let used = (2 * gib + guests).min(total);
    out.insert(
        "memory".into(),
        json!({"total": total, "used": used, "free": total - used, "available": total - used}),
    );
    for (k, v) in [
        (
            "kversion",
            json!(format!("Linux {} {}", KERNEL.0, KERNEL.1)),
        ),
        ("idle", json!(0)),
        ("wait", json!(0.0)),
        ("ksm", json!({"shared": 0})),
        (
            "swap",
            json!({"total": 8 * gib, "used": 0, "free": 8 * gib}),
        ),
    ] {
        if has(k) {
            out.insert(k.into(), v);
        }
    }
    Ok(Value::Object(out))
}

/// The lists answered row by row.
pub const ROWS: &[ComputedRows] = &[(Method::Get, "/cluster/resources", resources)];

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

/// `GET /cluster/resources`: one row per node, guest, storage (per node) and pool the
/// caller may see, each with the members PVE gives its type (and `pool` for guests in
/// one), no others.
fn resources(ctx: &Ctx<'_>) -> Result<Rows, ApiError> {
    let filter = ctx.text("type");
    let filter = filter.as_deref();
    let gib = 1024 * 1024 * 1024u64;
    let clock = ctx.mock.now();
    let (
        mut rows,
        [id, kind, node, status, level, cgroup, cpu, maxcpu, mem, memhost, maxmem, disk, maxdisk, uptime, vmid, template, netin, netout, diskread, diskwrite, name, pool, tags, lock, hastate, storage, shared, content, plugintype],
    ) = Rows::with_columns(RESOURCE_KEYS);
    ctx.store().read(|s| {
        let sees = sees(ctx, s);
        let root = ctx.caller.is_root();
        if filter.is_none_or(|t| t == "node") {
            for n in s
                .nodes
                .iter()
                .filter(|n| root || sees(&format!("/nodes/{n}"), &["Sys.Audit"]))
            {
                let online = !ctx.store().is_offline(n);
                let on = |v: u64| Cell::from(if online { v } else { 0 });
                let mut row = rows.empty_row();
                row[id] = format!("node/{n}").into();
                row[kind] = "node".into();
                row[node] = n.clone().into();
                row[status] = if online { "online" } else { "offline" }.into();
                row[level] = "".into();
                row[cgroup] = 2u8.into();
                row[cpu] = if online { 0.02 } else { 0.0 }.into();
                row[maxcpu] = 4u8.into();
                row[mem] = on(2 * gib);
                row[maxmem] = (8 * gib).into();
                row[disk] = on(4 * gib);
                row[maxdisk] = (100 * gib).into();
                row[uptime] = on(3600);
                rows.push(row);
            }
        }
        if filter.is_none_or(|t| t == "vm") {
            let pool_of = super::pools::guest_pools(s);
            let ha = super::volumes::ha_vmids(s);
            // What every guest row starts from: the counters of a stopped guest (PVE 9
            // also reports the host memory a guest's processes use, `memhost`).
            let mut base = rows.empty_row();
            for c in [
                maxdisk, disk, cpu, mem, memhost, netin, netout, diskread, diskwrite,
            ] {
                base[c] = 0u8.into();
            }
            for (list, members) in &s.members {
                let parts: Vec<&str> = list.split('/').collect();
                let ["nodes", on_node, guest_kind @ ("qemu" | "lxc")] = parts[..] else {
                    continue;
                };
                let node_value = Cell::from(on_node.to_string());
                let kind_value = super::guests::kind_cell(guest_kind);
                for (gid, rec) in members {
                    if (!s.deleted.is_empty() && s.is_deleted(&format!("{list}/{gid}")))
                        || !(root || sees(&format!("/vms/{gid}"), &["VM.Audit"]))
                    {
                        continue;
                    }
                    let f = super::guests::GuestFacts::of(rec);
                    let mut row = base.clone();
                    row[id] = format!("{guest_kind}/{gid}").into();
                    row[kind] = kind_value.clone();
                    row[vmid] = gid.parse::<u64>().unwrap_or(0).into();
                    row[node] = node_value.clone();
                    row[status] = if f.running() { "running" } else { "stopped" }.into();
                    row[template] = u8::from(f.template.is_some_and(is_set)).into();
                    row[maxcpu] = f.cpus().into();
                    row[maxmem] = f.maxmem().into();
                    row[uptime] = f.uptime(clock).into();
                    row[name] = f.name();
                    row[pool] = pool_of.get(gid).cloned().into();
                    row[tags] = f.tags.into();
                    row[lock] = f.lock(clock);
                    if ha.contains(gid.as_str()) {
                        row[hastate] = "started".into();
                    }
                    rows.push(row);
                }
            }
        }
        if filter.is_none_or(|t| t == "storage") {
            if let Some(storages) = s.members.get("storage") {
                for n in &s.nodes {
                    for (sid, rec) in storages {
                        let on_node = rec
                            .config
                            .get("nodes")
                            .and_then(Value::as_str)
                            .is_none_or(|list| list.split([',', ';', ' ']).any(|x| x == n));
                        if !on_node
                            || !(root
                                || sees(
                                    &format!("/storage/{sid}"),
                                    &["Datastore.Audit", "Datastore.AllocateSpace"],
                                ))
                        {
                            continue;
                        }
                        let is_shared = rec.config.get("shared").is_some_and(is_set);
                        let mut row = rows.empty_row();
                        row[id] = format!("storage/{n}/{sid}").into();
                        row[kind] = "storage".into();
                        row[storage] = sid.clone().into();
                        row[node] = n.clone().into();
                        row[status] = "available".into();
                        row[shared] = u8::from(is_shared).into();
                        row[disk] = (8 * gib).into();
                        row[maxdisk] = (100 * gib).into();
                        row[content] = rec.config.get("content").into();
                        row[plugintype] = rec.config.get("type").into();
                        rows.push(row);
                    }
                }
            }
        }
        if filter.is_none() {
            for p in s.members.get("pools").into_iter().flat_map(|m| m.keys()) {
                if root || sees(&format!("/pool/{p}"), &["Pool.Audit"]) {
                    let mut row = rows.empty_row();
                    row[id] = format!("/pool/{p}").into();
                    row[kind] = "pool".into();
                    row[pool] = p.clone().into();
                    rows.push(row);
                }
            }
        }
    });
    Ok(rows)
}

/// Every member a `/cluster/resources` row may have (each row type has some of them).
const RESOURCE_KEYS: [&str; 29] = [
    "id",
    "type",
    "node",
    "status",
    "level",
    "cgroup-mode",
    "cpu",
    "maxcpu",
    "mem",
    "memhost",
    "maxmem",
    "disk",
    "maxdisk",
    "uptime",
    "vmid",
    "template",
    "netin",
    "netout",
    "diskread",
    "diskwrite",
    "name",
    "pool",
    "tags",
    "lock",
    "hastate",
    "storage",
    "shared",
    "content",
    "plugintype",
];

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

/// `GET /cluster/nextid`: the lowest free id, or `vmid` itself when it is free (as text,
/// as PVE sends it); a taken
/// `vmid` is PVE's 400 (`raise_param_exc({ vmid => "VM $vmid already exists" })` in
/// PVE::API2::Cluster).
fn nextid(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let want = ctx.params.get("vmid").and_then(Value::as_u64);
    ctx.store().read(|s| {
        let used = used_vmids(s);
        if let Some(want) = want {
            return if used.contains(&want) && ctx.mock.lenient() {
                Ok(Value::Null) // the original mock's answer
            } else if used.contains(&want) {
                Err(ApiError::params([(
                    "vmid",
                    format!("VM {want} already exists"),
                )]))
            } else {
                Ok(as_pve_sends(want, ctx))
            };
        }
        // The lowest free id: at most `used.len()` ids above 100 can be taken. PVE answers
        // it as a string, although its schema says integer.
        let free = (100u64..=100 + used.len() as u64)
            .find(|id| !used.contains(id))
            .unwrap_or(100);
        Ok(as_pve_sends(free, ctx))
    })
}

/// A vmid as `/cluster/nextid` answers it: text, as PVE sends it; a number in lenient mode
/// (what code written for the original mock, and the schema, expect).
fn as_pve_sends(vmid: u64, ctx: &Ctx<'_>) -> Value {
    if ctx.mock.lenient() {
        json!(vmid)
    } else {
        json!(vmid.to_string())
    }
}
