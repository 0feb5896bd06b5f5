//! A node's network configuration and services as a PVE node reports them: every node has
//! its uplink `eno1` and the bridge `vmbr0` on it (the installer's layout, addressed as the
//! node's cluster address), interfaces are created, changed and removed with PVE's checks
//! and listed with `?type=` filters (pve-manager `PVE/API2/Network.pm`); the services are
//! pve-manager's `PVE/API2/Services.pm` list with their systemd states, and start/stop
//! change them.

use serde_json::{json, Map, Value};

use super::computed::Computed;
use super::messages::err500;
use super::store::{MockState, Record};
use super::Ctx;
use crate::api::{ApiError, Method};

pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/nodes/{node}/network", interfaces),
    (Method::Post, "/nodes/{node}/network", create),
    (Method::Get, "/nodes/{node}/network/{iface}", read),
    (Method::Put, "/nodes/{node}/network/{iface}", update),
    (Method::Delete, "/nodes/{node}/network/{iface}", delete),
    (Method::Get, "/nodes/{node}/services", services),
    (
        Method::Get,
        "/nodes/{node}/services/{service}/state",
        service_state,
    ),
    (
        Method::Post,
        "/nodes/{node}/services/{service}/start",
        service_start,
    ),
    (
        Method::Post,
        "/nodes/{node}/services/{service}/stop",
        service_stop,
    ),
    (
        Method::Post,
        "/nodes/{node}/services/{service}/restart",
        service_start,
    ),
    (
        Method::Post,
        "/nodes/{node}/services/{service}/reload",
        service_start,
    ),
];

/// Whether `template` is one of this file's lists (kept here, not a generic collection).
pub fn is_own_list(template: &str) -> bool {
    matches!(template, "/nodes/{node}/network" | "/nodes/{node}/services")
}

fn key(node: &str) -> String {
    format!("nodes/{node}/network")
}

/// The installer's network of the `index`th node: `eno1` under `vmbr0`.
fn default_interfaces(index: usize) -> Vec<(String, Map<String, Value>)> {
    let obj = |v: Value| v.as_object().cloned().unwrap_or_default();
    let address = format!("192.0.2.{}", 10 + index);
    vec![
        (
            "eno1".into(),
            obj(
                json!({"type": "eth", "method": "manual", "method6": "manual",
                       "families": ["inet"], "exists": 1, "active": 1, "priority": 3}),
            ),
        ),
        (
            "vmbr0".into(),
            obj(
                json!({"type": "bridge", "method": "static", "method6": "manual",
                       "families": ["inet"], "address": address, "netmask": "24",
                       "cidr": format!("{address}/24"), "gateway": "192.0.2.1",
                       "bridge_ports": "eno1", "bridge_stp": "off", "bridge_fd": "0",
                       "autostart": 1, "active": 1, "priority": 4}),
            ),
        ),
    ]
}

/// The node's interfaces, the installer's until the first change.
fn configured(s: &MockState, node: &str) -> Vec<(String, Map<String, Value>)> {
    if let Some(m) = s.members.get(&key(node)) {
        return m
            .iter()
            .map(|(k, r)| (k.clone(), r.config.clone()))
            .collect();
    }
    let index = s.nodes.iter().position(|n| n == node).unwrap_or(0);
    default_interfaces(index)
}

fn materialize(s: &mut MockState, node: &str) {
    if s.members.contains_key(&key(node)) {
        return;
    }
    let all = configured(s, node);
    let m = s.members.entry(key(node)).or_default();
    for (iface, config) in all {
        m.insert(
            iface,
            (Record {
                config,
                meta: Map::new(),
            })
            .into(),
        );
    }
}

/// Whether an interface of type `ty` passes the list's `type` filter.
fn matches_type(ty: &str, filter: Option<&str>) -> bool {
    match filter {
        None | Some("include_sdn") => true,
        Some("any_bridge" | "any_local_bridge") => ty == "bridge" || ty == "OVSBridge",
        Some(f) => f == ty,
    }
}

fn node_of<'c>(ctx: &'c Ctx<'_>) -> &'c str {
    ctx.path_param("node").unwrap_or_default()
}

fn interfaces(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let node = node_of(ctx);
    let filter = ctx.text("type");
    Ok(ctx.store().read(|s| {
        Value::Array(
            configured(s, node)
                .into_iter()
                .filter(|(_, c)| {
                    matches_type(
                        c.get("type").and_then(Value::as_str).unwrap_or(""),
                        filter.as_deref(),
                    )
                })
                .map(|(iface, mut c)| {
                    c.insert("iface".into(), json!(iface));
                    Value::Object(c)
                })
                .collect(),
        )
    }))
}

fn no_interface(iface: &str) -> ApiError {
    err500(format!("network interface '{iface}' does not exist"))
}

fn read(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let node = node_of(ctx);
    let iface = ctx.path_param("iface").unwrap_or_default();
    ctx.store()
        .read(|s| configured(s, node).into_iter().find(|(i, _)| i == iface))
        .map(|(_, c)| Value::Object(c))
        .ok_or_else(|| no_interface(iface))
}

/// An interface's settings from the request: what was given (addresses with their `cidr`),
/// the families its addresses make, the method (`static` with an address, else `manual`).
fn settings(ctx: &Ctx<'_>, mut config: Map<String, Value>) -> Map<String, Value> {
    for (k, v) in ctx.params {
        if !matches!(k.as_str(), "node" | "iface" | "delete" | "digest") {
            config.insert(k.clone(), v.clone());
        }
    }
    if let (Some(a), Some(n)) = (
        config.get("address").and_then(Value::as_str),
        config.get("netmask").and_then(Value::as_str),
    ) {
        let cidr = format!("{a}/{n}");
        config.insert("cidr".into(), json!(cidr));
    } else if let Some(cidr) = config
        .get("cidr")
        .and_then(Value::as_str)
        .map(str::to_string)
    {
        if let Some((a, n)) = cidr.split_once('/') {
            config.insert("address".into(), json!(a));
            config.insert("netmask".into(), json!(n));
        }
    }
    let v4 = config.contains_key("address");
    let v6 = config.contains_key("address6");
    let mut families = vec![json!("inet")];
    if v6 {
        families.push(json!("inet6"));
    }
    config.insert("families".into(), Value::Array(families));
    config
        .entry("method")
        .or_insert_with(|| json!(if v4 { "static" } else { "manual" }));
    config
        .entry("method6")
        .or_insert_with(|| json!(if v6 { "static" } else { "manual" }));
    config
}

fn create(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if ctx.mock.lenient() {
        return Ok(ctx.mock.answer(ctx));
    }
    let node = node_of(ctx).to_string();
    let iface = ctx.text("iface").unwrap_or_default();
    let config = settings(ctx, Map::new());
    ctx.store().write(|s| {
        materialize(s, &node);
        let m = s.members.entry(key(&node)).or_default();
        if m.contains_key(&iface) {
            return Err(ApiError::params([("iface", "interface already exists")]));
        }
        let mut config = config;
        config.remove("iface");
        m.insert(
            iface,
            (Record {
                config,
                meta: Map::new(),
            })
            .into(),
        );
        Ok(Value::Null)
    })
}

fn update(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if ctx.mock.lenient() {
        return Ok(ctx.mock.answer(ctx));
    }
    let node = node_of(ctx).to_string();
    let iface = ctx.path_param("iface").unwrap_or_default().to_string();
    let deletes: Vec<String> = ctx.list("delete");
    ctx.store().write(|s| {
        materialize(s, &node);
        let m = s.members.entry(key(&node)).or_default();
        let Some(rec) = m.get_mut(&iface) else {
            return Err(no_interface(&iface));
        };
        let mut config = rec.config.clone();
        for d in &deletes {
            config.remove(d);
            if d == "address" || d == "netmask" {
                config.remove("cidr");
            }
        }
        // The method follows the addresses unless the request names one.
        if !ctx.params.contains_key("method") {
            config.remove("method");
        }
        if !ctx.params.contains_key("method6") {
            config.remove("method6");
        }
        rec.config = settings(ctx, config);
        Ok(Value::Null)
    })
}

fn delete(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if ctx.mock.lenient() {
        return Ok(ctx.mock.answer(ctx));
    }
    let node = node_of(ctx).to_string();
    let iface = ctx.path_param("iface").unwrap_or_default().to_string();
    ctx.store().write(|s| {
        materialize(s, &node);
        match s
            .members
            .get_mut(&key(&node))
            .and_then(|m| m.remove(&iface))
        {
            Some(_) => Ok(Value::Null),
            None => Err(no_interface(&iface)),
        }
    })
}

/// pve-manager's service list (`$service_name_list`) with the unit descriptions PVE 9 ships
/// and the state a single node has them in.
const SERVICES: &[(&str, &str, &str, &str)] = &[
    (
        "chrony",
        "chrony, an NTP client/server",
        "running",
        "enabled",
    ),
    ("corosync", "Corosync Cluster Engine", "dead", "enabled"),
    (
        "cron",
        "Regular background program processing daemon",
        "running",
        "enabled",
    ),
    (
        "ksmtuned",
        "Kernel Samepage Merging (KSM) Tuning Daemon",
        "running",
        "enabled",
    ),
    (
        "postfix",
        "Postfix Mail Transport Agent (instance -)",
        "running",
        "enabled",
    ),
    (
        "proxmox-firewall",
        "Proxmox nftables firewall",
        "dead",
        "enabled",
    ),
    (
        "pve-cluster",
        "The Proxmox VE cluster filesystem",
        "running",
        "enabled",
    ),
    ("pve-firewall", "Proxmox VE firewall", "running", "enabled"),
    (
        "pve-ha-crm",
        "PVE Cluster HA Resource Manager Daemon",
        "running",
        "enabled",
    ),
    (
        "pve-ha-lrm",
        "PVE Local HA Resource Manager Daemon",
        "running",
        "enabled",
    ),
    ("pvedaemon", "PVE API Daemon", "running", "enabled"),
    (
        "pvefw-logger",
        "Proxmox VE firewall logger",
        "running",
        "enabled",
    ),
    ("pveproxy", "PVE API Proxy Server", "running", "enabled"),
    ("pvescheduler", "Proxmox VE scheduler", "running", "enabled"),
    ("pvestatd", "PVE Status Daemon", "running", "enabled"),
    ("spiceproxy", "PVE SPICE Proxy Server", "running", "enabled"),
    ("sshd", "OpenBSD Secure Shell server", "running", "enabled"),
    ("syslog", "Journal Service", "running", "static"),
    ("systemd-journald", "Journal Service", "running", "static"),
    (
        "systemd-timesyncd",
        "systemd-timesyncd.service",
        "dead",
        "not-found",
    ),
];

/// A service as the list shows it; `state` as the node's tasks left it.
fn service_entry(s: &MockState, node: &str, entry: &(&str, &str, &str, &str)) -> Value {
    let (name, desc, default_state, unit) = *entry;
    let state = s
        .members
        .get(&format!("nodes/{node}/services"))
        .and_then(|m| m.get(name))
        .and_then(|r| r.config.get("state"))
        .and_then(Value::as_str)
        .unwrap_or(default_state)
        .to_string();
    let active = if state == "running" {
        "active"
    } else {
        "inactive"
    };
    json!({"service": name, "name": name, "desc": desc, "state": state,
           "active-state": active, "unit-state": unit})
}

fn services(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let node = node_of(ctx);
    Ok(ctx
        .store()
        .read(|s| Value::Array(SERVICES.iter().map(|e| service_entry(s, node, e)).collect())))
}

fn service_state(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let node = node_of(ctx);
    let name = ctx.path_param("service").unwrap_or_default();
    ctx.store().read(|s| {
        SERVICES
            .iter()
            .find(|e| e.0 == name)
            .map(|e| service_entry(s, node, e))
            .ok_or_else(|| err500(format!("unknown service '{name}'")))
    })
}

fn service_start(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    service_task(ctx, true)
}

fn service_stop(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    service_task(ctx, false)
}

/// A service's start, stop, restart or reload: a task (its id the service) that leaves
/// the service running or dead.
fn service_task(ctx: &Ctx<'_>, running: bool) -> Result<Value, ApiError> {
    let node = node_of(ctx).to_string();
    let name = ctx.path_param("service").unwrap_or_default().to_string();
    let upid = ctx.mock.new_upid_with_id(ctx, ctx.path_params, &name);
    ctx.store()
        .write(|s| set_service_state(s, &node, &name, running));
    ctx.mock.record_task(&upid, Ok(()));
    Ok(Value::String(upid))
}

/// What a finished `srvstart`/`srvstop`/`srvrestart` task leaves: the service running or
/// dead.
fn set_service_state(s: &mut MockState, node: &str, service: &str, running: bool) {
    let mut rec = Record::default();
    rec.config.insert(
        "state".into(),
        json!(if running { "running" } else { "dead" }),
    );
    s.members
        .entry(format!("nodes/{node}/services"))
        .or_default()
        .insert(service.to_string(), rec.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_filters_as_pve_applies_them() {
        assert!(matches_type("bridge", Some("any_bridge")));
        assert!(matches_type("OVSBridge", Some("any_local_bridge")));
        assert!(!matches_type("eth", Some("bridge")));
        assert!(matches_type("eth", None));
    }
}
