//! Firewall rule lists as pve-firewall keeps them (`PVE::API2::Firewall::RulesBase`): an
//! ordered list per level (cluster, security group, node, guest, vnet) whose members are
//! positions, not ids. A new rule goes on top unless `pos` says where; `moveto` moves
//! one; every rule read carries the list's digest and only the keys it has; a rule is
//! checked as `verify_rule` checks it (the action, a security group that exists, port
//! lists) and refused with PVE's 400 naming the parameter; a position past the end is
//! `no rule at position N`.

use serde_json::{json, Map, Value};

use super::computed::{Computed, Handler};
use super::messages::{err500, CONFIG_DIGEST_MISMATCH};
use super::store::{MockState, Record};
use super::Ctx;
use crate::api::{ApiError, Method};

/// Whether `template` is a rule list or one of its rules (not a collection of ids).
pub fn is_rule_list(template: &str) -> bool {
    HANDLERS.iter().any(|(_, t, _)| *t == template)
}

macro_rules! level {
    ($list:literal, $member:literal) => {
        [
            (Method::Get, $list, list as Handler),
            (Method::Post, $list, create as Handler),
            (Method::Get, $member, read as Handler),
            (Method::Put, $member, update as Handler),
            (Method::Delete, $member, delete as Handler),
        ]
    };
}

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &{
    let levels = [
        level!("/cluster/firewall/rules", "/cluster/firewall/rules/{pos}"),
        level!(
            "/cluster/firewall/groups/{group}",
            "/cluster/firewall/groups/{group}/{pos}"
        ),
        level!(
            "/nodes/{node}/firewall/rules",
            "/nodes/{node}/firewall/rules/{pos}"
        ),
        level!(
            "/nodes/{node}/qemu/{vmid}/firewall/rules",
            "/nodes/{node}/qemu/{vmid}/firewall/rules/{pos}"
        ),
        level!(
            "/nodes/{node}/lxc/{vmid}/firewall/rules",
            "/nodes/{node}/lxc/{vmid}/firewall/rules/{pos}"
        ),
        level!(
            "/cluster/sdn/vnets/{vnet}/firewall/rules",
            "/cluster/sdn/vnets/{vnet}/firewall/rules/{pos}"
        ),
    ];
    let mut out = [levels[0][0]; 30];
    let mut i = 0;
    while i < 30 {
        out[i] = levels[i / 5][i % 5];
        i += 1;
    }
    out
};

/// The parameters that address or guard a rule rather than describe it.
const NOT_RULE_DATA: &[&str] = &[
    "node", "vmid", "group", "vnet", "pos", "digest", "moveto", "delete",
];

/// Where the list of `ctx`'s path is kept: below the list's own path (so that it goes
/// with the guest, group or vnet it belongs to).
fn list_key(ctx: &Ctx<'_>) -> String {
    let path = ctx.path.trim_matches('/');
    let list = if ctx.path_param("pos").is_some() {
        path.rsplit_once('/').map_or(path, |(l, _)| l)
    } else {
        path
    };
    format!("{list}/#rules")
}

fn rules_of<'s>(s: &'s MockState, key: &str) -> &'s [Value] {
    s.members
        .get(key)
        .and_then(|m| m.get("rules"))
        .and_then(|r| r.config.get("rules"))
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

fn store_rules(s: &mut MockState, key: &str, rules: Vec<Value>) {
    let mut rec = Record::default();
    rec.config.insert("rules".into(), Value::Array(rules));
    s.members
        .entry(key.to_string())
        .or_default()
        .insert("rules".into(), rec.into());
}

/// The list's digest (PVE's `copy_list_with_digest`: one over every rule's keys).
fn digest(rules: &[Value]) -> String {
    let mut all = Map::new();
    all.insert("rules".into(), Value::Array(rules.to_vec()));
    super::reads::config_digest(&all)
}

/// A rule as a read shows it: its keys, its position and the list's digest.
fn shown(rule: &Value, pos: usize, digest: &str) -> Value {
    let mut r = rule.as_object().cloned().unwrap_or_default();
    r.insert("pos".into(), json!(pos));
    r.insert("digest".into(), json!(digest));
    Value::Object(r)
}

fn position(ctx: &Ctx<'_>) -> usize {
    ctx.path_param("pos")
        .and_then(|p| p.parse().ok())
        .unwrap_or(usize::MAX)
}

fn no_rule(pos: usize) -> ApiError {
    err500(format!("no rule at position {pos}"))
}

fn check_digest(ctx: &Ctx<'_>, rules: &[Value]) -> Result<(), ApiError> {
    if ctx.mock.lenient() {
        return Ok(());
    }
    match ctx.text("digest") {
        Some(want) if !want.is_empty() && want != digest(rules) => {
            Err(err500(CONFIG_DIGEST_MISMATCH))
        }
        _ => Ok(()),
    }
}

fn list(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let key = list_key(ctx);
    Ok(ctx.store().read(|s| {
        let rules = rules_of(s, &key);
        let d = digest(rules);
        Value::Array(
            rules
                .iter()
                .enumerate()
                .map(|(i, r)| shown(r, i, &d))
                .collect(),
        )
    }))
}

fn read(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let key = list_key(ctx);
    let pos = position(ctx);
    let found = ctx.store().read(|s| {
        let rules = rules_of(s, &key);
        rules.get(pos).map(|rule| shown(rule, pos, &digest(rules)))
    });
    match found {
        Some(rule) => Ok(rule),
        // Lenient mode (code written for the original mock) never refuses: the shape.
        None if ctx.mock.lenient() => Ok(ctx.mock.answer(ctx)),
        None => Err(no_rule(pos)),
    }
}

/// PVE's `verify_rule`: every problem of the rule, by parameter, as one 400.
fn verify(s: &MockState, rule: &Map<String, Value>) -> Result<(), ApiError> {
    let mut errors: Vec<(String, String)> = Vec::new();
    let text = |k: &str| rule.get(k).and_then(Value::as_str);
    let action = text("action").unwrap_or_default();
    if text("type") == Some("group") {
        let exists = s
            .members
            .get("cluster/firewall/groups")
            .is_some_and(|g| g.contains_key(action));
        if !exists {
            errors.push((
                "action".into(),
                format!("security group '{action}' does not exist"),
            ));
        }
    } else if !matches!(action, "ACCEPT" | "DROP" | "REJECT") {
        errors.push(("action".into(), format!("unknown action '{action}'")));
    }
    for (k, dport) in [("dport", true), ("sport", false)] {
        if let Some(ports) = text(k) {
            if let Err(e) = check_ports(ports, dport) {
                // The port formats' verifier, as JSONSchema reports it (with its newline).
                errors.push((k.into(), format!("invalid format - {e}\n")));
            }
        }
    }
    if errors.is_empty() {
        return Ok(());
    }
    Err(ApiError::params(errors))
}

/// PVE's `parse_port_name_number_or_range`: ports, `a:b` ranges and service names, at
/// most 15 numbers.
fn check_ports(spec: &str, dport: bool) -> Result<(), String> {
    let items: Vec<&str> = spec.split(',').collect();
    if items.iter().any(|i| i.is_empty()) {
        return Err("extraneous commas in list".into());
    }
    let mut count = 0;
    let port = |p: &str| -> Result<u32, String> {
        p.parse::<u32>()
            .ok()
            .filter(|n| *n <= 65535)
            .ok_or_else(|| format!("invalid port '{p}'"))
    };
    for item in items {
        let digits = |t: &str| !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit());
        if let Some((a, b)) = item.split_once(':').filter(|(a, b)| digits(a) && digits(b)) {
            count += 2;
            let (a, b) = (port(a)?, port(b)?);
            if a > b {
                return Err(format!(
                    "backwards range '{a}:{b}' not allowed, did you mean '{b}:{a}'?"
                ));
            }
        } else if digits(item) {
            count += 1;
            port(item)?;
        } else {
            // A service name of /etc/services (PVE looks it up; names are its syntax).
            let name = item.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
                && item.bytes().all(|b| {
                    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'+' | b'/')
                });
            if !name || (!dport && item.contains('/')) {
                return Err(format!("invalid port '{item}'"));
            }
        }
    }
    if count > 15 {
        return Err("too many entries in port list (> 15 numbers)".into());
    }
    Ok(())
}

/// The rule's data from the request's parameters.
fn rule_data(ctx: &Ctx<'_>) -> Map<String, Value> {
    ctx.params
        .iter()
        .filter(|(k, _)| !NOT_RULE_DATA.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn create(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let key = list_key(ctx);
    let mut rule = rule_data(ctx);
    rule.entry("enable").or_insert(json!(0));
    let at = ctx.text("pos").and_then(|p| p.parse::<usize>().ok());
    ctx.store().write(|s| {
        verify(s, &rule)?;
        let mut rules = rules_of(s, &key).to_vec();
        check_digest(ctx, &rules)?;
        match at {
            Some(p) if p < rules.len() => rules.insert(p, Value::Object(rule)),
            Some(_) => rules.push(Value::Object(rule)),
            None => rules.insert(0, Value::Object(rule)),
        }
        store_rules(s, &key, rules);
        Ok(Value::Null)
    })
}

/// Changes the rule at the path's position (read, digest-checked, written back): PVE's
/// `no rule at position N` past the end (lenient mode: nothing happens).
fn edit_rule(
    ctx: &Ctx<'_>,
    change: impl FnOnce(&MockState, &mut Vec<Value>, usize) -> Result<(), ApiError>,
) -> Result<Value, ApiError> {
    let key = list_key(ctx);
    let pos = position(ctx);
    ctx.store().write(|s| {
        let mut rules = rules_of(s, &key).to_vec();
        check_digest(ctx, &rules)?;
        if pos >= rules.len() {
            return if ctx.mock.lenient() {
                Ok(Value::Null)
            } else {
                Err(no_rule(pos))
            };
        }
        change(s, &mut rules, pos)?;
        store_rules(s, &key, rules);
        Ok(Value::Null)
    })
}

fn update(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let moveto = ctx.text("moveto").and_then(|p| p.parse::<usize>().ok());
    let deletes: Vec<String> = ctx.list("delete");
    let data = rule_data(ctx);
    edit_rule(ctx, |s, rules, pos| {
        if let Some(to) = moveto {
            let rule = rules.remove(pos);
            rules.insert(to.min(rules.len()), rule);
        } else {
            let mut rule = rules[pos].as_object().cloned().unwrap_or_default();
            rule.extend(data);
            for d in &deletes {
                rule.remove(d);
            }
            verify(s, &rule)?;
            rules[pos] = Value::Object(rule);
        }
        Ok(())
    })
}

fn delete(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    edit_rule(ctx, |_, rules, pos| {
        rules.remove(pos);
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::check_ports;

    #[test]
    fn ports_as_pve_parses_them() {
        assert!(check_ports("22", true).is_ok());
        assert!(check_ports("80,443,8000:8080", true).is_ok());
        assert!(check_ports("ssh", true).is_ok());
        assert_eq!(
            check_ports("99999", true).unwrap_err(),
            "invalid port '99999'"
        );
        assert_eq!(
            check_ports("http!", true).unwrap_err(),
            "invalid port 'http!'"
        );
        assert_eq!(
            check_ports("90:80", true).unwrap_err(),
            "backwards range '90:80' not allowed, did you mean '80:90'?"
        );
        assert_eq!(
            check_ports("22,,23", true).unwrap_err(),
            "extraneous commas in list"
        );
        let many = (1..=16)
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join(",");
        assert_eq!(
            check_ports(&many, true).unwrap_err(),
            "too many entries in port list (> 15 numbers)"
        );
    }
}
