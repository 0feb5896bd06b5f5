//! Proxmox Mail Gateway: what PMG computes (its version, its node), and the mail gateway
//! the mock starts from: node `pmg`, `root@pam` (role `root`), an administrator and an
//! auditor, relay domains, trusted networks and a small rule database. Domains, networks,
//! users and the rule database's rules and object groups are the schema's collections.

use serde_json::{json, Map, Value};

use super::computed::Computed;
use super::store::{MockState, Record};
use super::Ctx;
use crate::api::{ApiError, Method};

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/version", version),
    (Method::Get, "/nodes", list_nodes),
];

/// The version the mock reports.
pub const VERSION: (&str, &str, &str) = ("6.3-1", "6.3", "2e64a8c9");

fn version(_ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let (version, release, repoid) = VERSION;
    Ok(json!({"version": version, "release": release, "repoid": repoid}))
}

fn list_nodes(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx
        .store()
        .read(|s| Value::Array(s.nodes.iter().map(|n| json!({"node": n})).collect())))
}

fn rec(v: Value) -> Record {
    Record {
        config: v.as_object().cloned().unwrap_or_default(),
        meta: Map::new(),
    }
}

/// The default mail gateway.
pub fn default_state() -> MockState {
    let mut s = MockState {
        nodes: vec!["pmg".into()].into(),
        ..MockState::default()
    };
    let users: [(&str, &str, &str); 3] = [
        ("root@pam", "root", "Built-in Superuser"),
        ("admin@pmg", "admin", "Mail administrator"),
        ("audit@pmg", "audit", "Read-only auditor"),
    ];
    for (userid, role, comment) in users {
        s.members.entry("access/users".into()).or_default().insert(
            userid.into(),
            (rec(json!({"enable": 1, "role": role, "comment": comment}))).into(),
        );
    }
    for (domain, comment) in [
        ("example.com", "Main domain"),
        ("example.org", "Legacy domain"),
    ] {
        s.members
            .entry("config/domains".into())
            .or_default()
            .insert(domain.into(), (rec(json!({"comment": comment}))).into());
    }
    s.members
        .entry("config/mynetworks".into())
        .or_default()
        .insert(
            "192.0.2.0/24".into(),
            (rec(json!({"comment": "Office"}))).into(),
        );
    let rules: [(&str, u64, u64, u64); 3] = [
        ("Blacklist", 98, 1, 2),
        ("Block Viruses", 96, 1, 2),
        ("Modify Header", 90, 1, 0),
    ];
    for (i, (name, priority, active, direction)) in rules.into_iter().enumerate() {
        s.members.entry("config/ruledb/rules".into()).or_default().insert(
            (i + 1).to_string(),
            (rec(json!({"name": name, "priority": priority, "active": active, "direction": direction}))).into(),
        );
    }
    for (i, name) in ["Blacklist", "Whitelist"].into_iter().enumerate() {
        s.members
            .entry("config/ruledb/who".into())
            .or_default()
            .insert(
                (i + 1).to_string(),
                (rec(json!({"name": name, "info": ""}))).into(),
            );
    }
    s
}
