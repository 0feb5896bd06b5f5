//! Answers PVE derives from cluster-wide configuration, and a node's PCI devices: a node's replication jobs (the
//! jobs of the guests it runs, from `/cluster/replication`), a node's SDN zones and their
//! vnets (from `/cluster/sdn`), and the notification targets (every endpoint).

use serde_json::{json, Map, Value};

use crate::api::{ApiError, Method};
use crate::mock::computed::Computed;
use crate::mock::messages::err500;
use crate::mock::store::{MockState, Record};
use crate::mock::Ctx;

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/nodes/{node}/replication", replication_jobs),
    (
        Method::Get,
        "/nodes/{node}/replication/{id}/status",
        replication_status,
    ),
    (
        Method::Get,
        "/nodes/{node}/replication/{id}/log",
        replication_log,
    ),
    (Method::Get, "/nodes/{node}/sdn/zones", sdn_zones),
    (
        Method::Get,
        "/nodes/{node}/sdn/zones/{zone}/content",
        sdn_zone_content,
    ),
    (
        Method::Get,
        "/cluster/notifications/targets",
        notification_targets,
    ),
    (Method::Get, "/nodes/{node}/hardware/pci", pci_devices),
];

/// A small desktop-class node's PCI devices: (id, class, vendor, device, vendor name,
/// device name, IOMMU group).
const PCI_DEVICES: &[(&str, &str, &str, &str, &str, &str, i64)] = &[
    (
        "0000:00:00.0",
        "0x060000",
        "0x8086",
        "0x3e30",
        "Intel Corporation",
        "8th/9th Gen Core 8-core Desktop Processor Host Bridge/DRAM Registers [Coffee Lake S]",
        0,
    ),
    (
        "0000:00:02.0",
        "0x030000",
        "0x8086",
        "0x3e92",
        "Intel Corporation",
        "CoffeeLake-S GT2 [UHD Graphics 630]",
        1,
    ),
    (
        "0000:00:14.0",
        "0x0c0330",
        "0x8086",
        "0xa36d",
        "Intel Corporation",
        "Cannon Lake PCH USB 3.1 xHCI Host Controller",
        2,
    ),
    (
        "0000:00:17.0",
        "0x010601",
        "0x8086",
        "0xa352",
        "Intel Corporation",
        "Cannon Lake PCH SATA AHCI Controller",
        3,
    ),
    (
        "0000:00:1f.0",
        "0x060100",
        "0x8086",
        "0xa305",
        "Intel Corporation",
        "Z390 Chipset LPC/eSPI Controller",
        4,
    ),
    (
        "0000:00:1f.4",
        "0x0c0500",
        "0x8086",
        "0xa323",
        "Intel Corporation",
        "Cannon Lake PCH SMBus Controller",
        4,
    ),
    (
        "0000:00:1f.6",
        "0x020000",
        "0x8086",
        "0x15bc",
        "Intel Corporation",
        "Ethernet Connection (7) I219-V",
        4,
    ),
    (
        "0000:01:00.0",
        "0x010802",
        "0x144d",
        "0xa808",
        "Samsung Electronics Co Ltd",
        "NVMe SSD Controller SM981/PM981/PM983",
        5,
    ),
];

/// `GET /nodes/{node}/hardware/pci`: the node's devices without the classes of
/// `pci-class-blacklist` (PVE's default `05;06;0b`: memory controllers, bridges,
/// processors); names unless `verbose=0`.
fn pci_devices(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let blacklist = ctx
        .text("pci-class-blacklist")
        .unwrap_or_else(|| "05;06;0b".into());
    let skip: Vec<String> = blacklist
        .split(';')
        .map(|c| c.trim().trim_start_matches("0x").to_ascii_lowercase())
        .filter(|c| !c.is_empty())
        .collect();
    let verbose = ctx.params.get("verbose").is_none_or(crate::mock::is_set);
    Ok(Value::Array(
        PCI_DEVICES
            .iter()
            .filter(|(_, class, ..)| {
                let class = class.trim_start_matches("0x");
                !skip.iter().any(|s| class.starts_with(s.as_str()))
            })
            .map(
                |&(id, class, vendor, device, vendor_name, device_name, group)| {
                    let mut item = json!({
                        "id": id, "class": class, "vendor": vendor, "device": device,
                        "iommugroup": group,
                    });
                    if verbose {
                        item["vendor_name"] = json!(vendor_name);
                        item["device_name"] = json!(device_name);
                    }
                    item
                },
            )
            .collect(),
    ))
}

/// A job's state as `pvesr status` shows it (a job that has not run yet).
fn job_status(s: &MockState, id: &str, rec: &Record, node: &str, now: u64) -> Value {
    let (guest, jobnum) = id.split_once('-').unwrap_or((id, "0"));
    let mut out = Map::new();
    out.insert("id".into(), json!(id));
    out.insert(
        "guest".into(),
        guest
            .parse::<u64>()
            .map_or_else(|_| json!(guest), Value::from),
    );
    out.insert(
        "jobnum".into(),
        jobnum
            .parse::<u64>()
            .map_or_else(|_| json!(jobnum), Value::from),
    );
    out.insert("source".into(), json!(node));
    out.insert("schedule".into(), json!("*/15"));
    for (k, v) in &rec.config {
        out.insert(k.clone(), v.clone());
    }
    let vmtype = if s
        .members
        .get(&format!("nodes/{node}/lxc"))
        .is_some_and(|m| m.contains_key(guest))
    {
        "lxc"
    } else {
        "qemu"
    };
    out.insert("vmtype".into(), json!(vmtype));
    out.insert("last_sync".into(), json!(0));
    out.insert("last_try".into(), json!(0));
    out.insert("fail_count".into(), json!(0));
    // The next quarter hour (the default schedule).
    out.insert("next_sync".into(), json!((now / 900 + 1) * 900));
    Value::Object(out)
}

/// `GET /nodes/{node}/replication`: the jobs of the guests on this node (`guest` filters).
fn replication_jobs(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let node = ctx.path_param("node").unwrap_or_default();
    let guest = ctx.text("guest");
    let now = ctx.mock.now();
    Ok(ctx.mock.store().read(|s| {
        let Some(jobs) = s.members.get("cluster/replication") else {
            return Value::Array(Vec::new());
        };
        Value::Array(
            jobs.iter()
                .filter(|(id, _)| {
                    let g = id.split('-').next().unwrap_or("");
                    guest.as_deref().is_none_or(|want| want == g)
                        && super::guests::owner(s, g).as_deref() == Some(node)
                })
                .map(|(id, rec)| job_status(s, id, rec, node, now))
                .collect(),
        )
    }))
}

fn job<'s>(s: &'s MockState, id: &str, node: &str) -> Result<&'s Record, ApiError> {
    let guest = id.split('-').next().unwrap_or("");
    s.members
        .get("cluster/replication")
        .and_then(|m| m.get(id))
        .map(|r| &**r)
        .filter(|_| super::guests::owner(s, guest).as_deref() == Some(node))
        .ok_or_else(|| err500(format!("no such replication job '{id}'")))
}

/// `GET /nodes/{node}/replication/{id}/status`.
fn replication_status(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let node = ctx.path_param("node").unwrap_or_default();
    let id = ctx.path_param("id").unwrap_or_default();
    let now = ctx.mock.now();
    let found = ctx
        .mock
        .store()
        .read(|s| job(s, id, node).map(|rec| job_status(s, id, rec, node, now)));
    lenient_or(ctx, found)
}

/// Lenient mode (the original mock's) refuses nothing: a missing job answers by the schema.
fn lenient_or(ctx: &Ctx<'_>, found: Result<Value, ApiError>) -> Result<Value, ApiError> {
    match found {
        Err(_) if ctx.mock.lenient() => Ok(ctx.mock.answer(ctx)),
        other => other,
    }
}

/// `GET /nodes/{node}/replication/{id}/log`: the last run's log (none before a first run).
fn replication_log(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let node = ctx.path_param("node").unwrap_or_default();
    let id = ctx.path_param("id").unwrap_or_default();
    let found = ctx
        .mock
        .store()
        .read(|s| job(s, id, node).map(|_| Value::Array(Vec::new())));
    lenient_or(ctx, found)
}

/// `GET /nodes/{node}/sdn/zones`: each configured zone and its state on this node.
fn sdn_zones(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.mock.store().read(|s| {
        Value::Array(
            s.members
                .get("cluster/sdn/zones")
                .into_iter()
                .flatten()
                .map(|(zone, rec)| {
                    let mut item = json!({"zone": zone, "status": "available"});
                    if let Some(t) = rec.config.get("type") {
                        item["type"] = t.clone();
                    }
                    item
                })
                .collect(),
        )
    }))
}

/// `GET /nodes/{node}/sdn/zones/{zone}/content`: the zone's vnets (none for a zone not there).
fn sdn_zone_content(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let zone = ctx.path_param("zone").unwrap_or_default();
    // PVE reads the node's SDN status file: an unknown zone has no vnets there.
    ctx.mock.store().read(|s| {
        Ok(Value::Array(
            s.members
                .get("cluster/sdn/vnets")
                .into_iter()
                .flatten()
                .filter(|(_, rec)| rec.config.get("zone").and_then(Value::as_str) == Some(zone))
                .map(|(vnet, _)| json!({"vnet": vnet, "status": "available"}))
                .collect(),
        ))
    })
}

/// `GET /cluster/notifications/targets`: every endpoint, of every type.
fn notification_targets(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.mock.store().read(|s| {
        let mut out = Vec::new();
        for kind in ["gotify", "sendmail", "smtp", "webhook"] {
            let list = format!("cluster/notifications/endpoints/{kind}");
            for (name, rec) in s.members.get(&list).into_iter().flatten() {
                let mut item = json!({"name": name, "type": kind});
                let origin = rec.config.get("origin").cloned();
                item["origin"] = origin.unwrap_or_else(|| json!("user-created"));
                for k in ["comment", "disable"] {
                    if let Some(v) = rec.config.get(k) {
                        item[k] = v.clone();
                    }
                }
                out.push(item);
            }
        }
        out.sort_by(|a, b| a["name"].as_str().cmp(&b["name"].as_str()));
        Value::Array(out)
    }))
}
