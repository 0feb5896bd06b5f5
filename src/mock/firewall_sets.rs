//! Firewall aliases, IP sets and options as pve-firewall keeps them
//! (`PVE::API2::Firewall::Aliases`, `::IPSet`, `::Cluster`/`::Host`/`::VM` options): per
//! level (the cluster, a guest; options also per node), in the level's firewall file.
//! Alias names are case-insensitive; lists carry the digest of the whole list; IP set
//! entries are normalized (host bits dropped, `/32` left out) and may name an alias;
//! options read back only what was set, with their digest.

use std::net::IpAddr;

use serde_json::{json, Map, Value};

use super::computed::{Computed, Handler};
use super::messages::{err500, CONFIG_DIGEST_MISMATCH};
use super::store::{MockState, Record};
use super::Ctx;
use crate::api::{ApiError, Method};

macro_rules! sets {
    ($base:literal) => {
        [
            (Method::Get, concat!($base, "/aliases"), aliases as Handler),
            (
                Method::Post,
                concat!($base, "/aliases"),
                alias_create as Handler,
            ),
            (
                Method::Get,
                concat!($base, "/aliases/{name}"),
                alias_read as Handler,
            ),
            (
                Method::Put,
                concat!($base, "/aliases/{name}"),
                alias_update as Handler,
            ),
            (
                Method::Delete,
                concat!($base, "/aliases/{name}"),
                alias_delete as Handler,
            ),
            (Method::Get, concat!($base, "/ipset"), ipsets as Handler),
            (
                Method::Post,
                concat!($base, "/ipset"),
                ipset_create as Handler,
            ),
            (
                Method::Get,
                concat!($base, "/ipset/{name}"),
                ipset_entries as Handler,
            ),
            (
                Method::Post,
                concat!($base, "/ipset/{name}"),
                entry_create as Handler,
            ),
            (
                Method::Delete,
                concat!($base, "/ipset/{name}"),
                ipset_delete as Handler,
            ),
            (
                Method::Get,
                concat!($base, "/ipset/{name}/{cidr}"),
                entry_read as Handler,
            ),
            (
                Method::Put,
                concat!($base, "/ipset/{name}/{cidr}"),
                entry_update as Handler,
            ),
            (
                Method::Delete,
                concat!($base, "/ipset/{name}/{cidr}"),
                entry_delete as Handler,
            ),
            (Method::Get, concat!($base, "/options"), options as Handler),
            (
                Method::Put,
                concat!($base, "/options"),
                options_update as Handler,
            ),
        ]
    };
}

const PER_LEVEL: usize = 15;

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &{
    let levels = [
        sets!("/cluster/firewall"),
        sets!("/nodes/{node}/qemu/{vmid}/firewall"),
        sets!("/nodes/{node}/lxc/{vmid}/firewall"),
    ];
    let mut out = [levels[0][0]; 3 * PER_LEVEL + 2];
    let mut i = 0;
    while i < 3 * PER_LEVEL {
        out[i] = levels[i / PER_LEVEL][i % PER_LEVEL];
        i += 1;
    }
    // A node has options (host.fw) but no aliases or IP sets.
    out[3 * PER_LEVEL] = (
        Method::Get,
        "/nodes/{node}/firewall/options",
        options as Handler,
    );
    out[3 * PER_LEVEL + 1] = (
        Method::Put,
        "/nodes/{node}/firewall/options",
        options_update as Handler,
    );
    out
};

/// Whether `template` is one of this file's lists (kept here, not a collection of ids).
pub fn is_own_list(template: &str) -> bool {
    HANDLERS.iter().any(|(_, t, _)| *t == template)
}

/// The level's firewall file: where its aliases, sets and options are kept (below the
/// level's path, so they go with the guest).
fn file_key(ctx: &Ctx<'_>) -> String {
    let path = ctx.path.trim_matches('/');
    let base = path.split_once("/firewall").map_or(path, |(b, _)| b);
    format!("{base}/firewall/#sets")
}

/// The level's file: `aliases` (lower-case name -> alias), `ipset` (name -> comment and
/// entries), `options`.
fn file(s: &MockState, key: &str) -> Map<String, Value> {
    s.members
        .get(key)
        .and_then(|m| m.get("file"))
        .map(|r| r.config.clone())
        .unwrap_or_default()
}

fn store_file(s: &mut MockState, key: &str, file: Map<String, Value>) {
    s.members.entry(key.to_string()).or_default().insert(
        "file".into(),
        (Record {
            config: file,
            meta: Map::new(),
        })
        .into(),
    );
}

fn section<'f>(file: &'f mut Map<String, Value>, name: &str) -> &'f mut Map<String, Value> {
    let v = file.entry(name).or_insert_with(|| json!({}));
    if !v.is_object() {
        *v = json!({});
    }
    v.as_object_mut().expect("an object")
}

fn object(v: Option<&Value>) -> Map<String, Value> {
    v.and_then(Value::as_object).cloned().unwrap_or_default()
}

/// PVE's `copy_list_with_digest`: the digest of the whole list.
fn digest_of(items: &[Value]) -> String {
    let mut all = Map::new();
    all.insert("list".into(), Value::Array(items.to_vec()));
    super::reads::config_digest(&all)
}

fn with_digest(items: Vec<Value>) -> Value {
    let d = digest_of(&items);
    Value::Array(
        items
            .into_iter()
            .map(|mut i| {
                if let Some(o) = i.as_object_mut() {
                    o.insert("digest".into(), json!(d));
                }
                i
            })
            .collect(),
    )
}

fn check_digest(ctx: &Ctx<'_>, current: &str) -> Result<(), ApiError> {
    match ctx.text("digest") {
        Some(want) if !want.is_empty() && want != current => Err(err500(CONFIG_DIGEST_MISMATCH)),
        _ => Ok(()),
    }
}

fn param_error(name: &str, message: impl Into<String>) -> ApiError {
    ApiError::params([(name.to_string(), message.into())])
}

/// Runs `f` on the level's file (read, changed, written back when `f` succeeds).
fn edit(
    ctx: &Ctx<'_>,
    f: impl FnOnce(&mut Map<String, Value>) -> Result<(), ApiError>,
) -> Result<Value, ApiError> {
    let key = file_key(ctx);
    ctx.store().write(|s| {
        let mut file = file(s, &key);
        f(&mut file)?;
        store_file(s, &key, file);
        Ok(Value::Null)
    })
}

/// Lenient mode (the original mock's behaviour) answers by shape and refuses nothing.
fn lenient(ctx: &Ctx<'_>) -> Option<Result<Value, ApiError>> {
    ctx.mock.lenient().then(|| Ok(ctx.mock.answer(ctx)))
}

// -- aliases ------------------------------------------------------------------------------

fn alias_list(file: &Map<String, Value>) -> Vec<Value> {
    object(file.get("aliases")).into_values().collect()
}

fn ip_version(cidr: &str) -> u8 {
    let ip = cidr.split('/').next().unwrap_or(cidr);
    match ip.parse::<IpAddr>() {
        Ok(IpAddr::V6(_)) => 6,
        _ => 4,
    }
}

fn alias_entry(ctx: &Ctx<'_>, name: &str) -> Value {
    let cidr = ctx.text("cidr").unwrap_or_default();
    let mut e = json!({"name": name, "cidr": cidr, "ipversion": ip_version(&cidr)});
    if let Some(c) = ctx.text("comment").filter(|c| !c.is_empty()) {
        e["comment"] = json!(c);
    }
    e
}

fn aliases(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if ctx.mock.lenient() {
        return Ok(ctx.mock.answer(ctx));
    }
    let key = file_key(ctx);
    Ok(with_digest(
        ctx.store().read(|s| alias_list(&file(s, &key))),
    ))
}

fn alias_create(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if let Some(r) = lenient(ctx) {
        return r;
    }
    let name = ctx.text("name").unwrap_or_default();
    let entry = alias_entry(ctx, &name);
    edit(ctx, |file| {
        let aliases = section(file, "aliases");
        let key = name.to_lowercase();
        if aliases.contains_key(&key) {
            return Err(param_error(
                "name",
                format!("alias '{name}' already exists"),
            ));
        }
        aliases.insert(key, entry);
        Ok(())
    })
}

fn alias_read(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if let Some(r) = lenient(ctx) {
        return r;
    }
    let key = file_key(ctx);
    let name = ctx.path_param("name").unwrap_or_default().to_lowercase();
    ctx.store()
        .read(|s| object(file(s, &key).get("aliases")).get(&name).cloned())
        .ok_or_else(|| param_error("name", "no such alias"))
}

fn alias_update(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if let Some(r) = lenient(ctx) {
        return r;
    }
    let given = ctx.path_param("name").unwrap_or_default().to_string();
    let name = given.to_lowercase();
    let mut entry = alias_entry(ctx, &given);
    let rename = ctx.text("rename").filter(|r| !r.is_empty());
    edit(ctx, |file| {
        check_digest(ctx, &digest_of(&alias_list(file)))?;
        let aliases = section(file, "aliases");
        if !aliases.contains_key(&name) {
            return Err(param_error("name", "no such alias"));
        }
        match rename {
            Some(new) if new.to_lowercase() != name => {
                if aliases.contains_key(&new.to_lowercase()) {
                    return Err(param_error("name", format!("alias '{new}' already exists")));
                }
                entry["name"] = json!(new);
                aliases.remove(&name);
                aliases.insert(new.to_lowercase(), entry);
            }
            _ => {
                aliases.insert(name.clone(), entry);
            }
        }
        Ok(())
    })
}

fn alias_delete(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if let Some(r) = lenient(ctx) {
        return r;
    }
    let name = ctx.path_param("name").unwrap_or_default().to_lowercase();
    edit(ctx, |file| {
        check_digest(ctx, &digest_of(&alias_list(file)))?;
        section(file, "aliases").remove(&name);
        Ok(())
    })
}

// -- IP sets ------------------------------------------------------------------------------

fn ipset_index(file: &Map<String, Value>) -> Vec<Value> {
    object(file.get("ipset"))
        .into_iter()
        .map(|(name, set)| {
            let mut e = json!({"name": name});
            if let Some(c) = set
                .get("comment")
                .filter(|c| c.as_str().is_some_and(|c| !c.is_empty()))
            {
                e["comment"] = c.clone();
            }
            e
        })
        .collect()
}

fn set_entries(file: &Map<String, Value>, name: &str) -> Option<Vec<Value>> {
    let set = file.get("ipset")?.get(name)?;
    Some(
        set.get("entries")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default(),
    )
}

fn no_such_ipset(name: &str) -> ApiError {
    err500(format!("no such IPSet '{name}'"))
}

fn ipsets(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if let Some(r) = lenient(ctx) {
        return r;
    }
    let key = file_key(ctx);
    Ok(with_digest(
        ctx.store().read(|s| ipset_index(&file(s, &key))),
    ))
}

fn ipset_create(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if let Some(r) = lenient(ctx) {
        return r;
    }
    let name = ctx.text("name").unwrap_or_default();
    let comment = ctx.text("comment");
    let rename = ctx.text("rename").filter(|r| !r.is_empty());
    edit(ctx, |file| {
        let index_digest = digest_of(&ipset_index(file));
        let sets = section(file, "ipset");
        if let Some(old) = rename {
            check_digest(ctx, &index_digest)?;
            let Some(mut set) = sets.remove(&old) else {
                return Err(param_error("name", format!("IPSet '{old}' does not exist")));
            };
            if sets.contains_key(&name) {
                sets.insert(old, set);
                return Err(param_error(
                    "name",
                    format!("IPSet '{name}' does already exist"),
                ));
            }
            if let Some(c) = comment {
                set["comment"] = json!(c);
            }
            sets.insert(name, set);
        } else {
            if sets.contains_key(&name) {
                return Err(param_error(
                    "name",
                    format!("IPSet '{name}' already exists"),
                ));
            }
            let mut set = json!({"entries": []});
            if let Some(c) = comment {
                set["comment"] = json!(c);
            }
            sets.insert(name, set);
        }
        Ok(())
    })
}

fn ipset_entries(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if let Some(r) = lenient(ctx) {
        return r;
    }
    let key = file_key(ctx);
    let name = ctx.path_param("name").unwrap_or_default().to_string();
    ctx.store()
        .read(|s| set_entries(&file(s, &key), &name))
        .map(with_digest)
        .ok_or_else(|| no_such_ipset(&name))
}

fn ipset_delete(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if let Some(r) = lenient(ctx) {
        return r;
    }
    let name = ctx.path_param("name").unwrap_or_default().to_string();
    let force = ctx.flag("force");
    edit(ctx, |file| {
        let entries = set_entries(file, &name).ok_or_else(|| no_such_ipset(&name))?;
        if !entries.is_empty() && !force {
            return Err(err500(format!("IPSet '{name}' is not empty")));
        }
        section(file, "ipset").remove(&name);
        Ok(())
    })
}

/// An alias reference in an IP set (`name`, `dc/name`, `guest/name`).
fn alias_reference(cidr: &str) -> Option<(Option<&str>, &str)> {
    let (scope, name) = match cidr.split_once('/') {
        Some((s @ ("dc" | "guest"), n)) => (Some(s), n),
        Some(_) => return None,
        None => (None, cidr),
    };
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && name.len() > 1
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    ok.then_some((scope, name))
}

/// PVE's `clean_cidr` with the single-host prefix left out (`10.0.0.7/32` is `10.0.0.7`).
fn clean_cidr(cidr: &str) -> String {
    let Some((ip, prefix)) = cidr.split_once('/') else {
        return cidr.to_string();
    };
    let (Ok(ip), Ok(p)) = (ip.parse::<IpAddr>(), prefix.parse::<u32>()) else {
        return cidr.to_string();
    };
    match ip {
        IpAddr::V4(v4) if p <= 32 => {
            if p == 32 {
                return v4.to_string();
            }
            let mask = if p == 0 { 0 } else { u32::MAX << (32 - p) };
            format!("{}/{p}", std::net::Ipv4Addr::from(u32::from(v4) & mask))
        }
        IpAddr::V6(v6) if p <= 128 => {
            if p == 128 {
                return v6.to_string();
            }
            let mask = if p == 0 { 0 } else { u128::MAX << (128 - p) };
            format!("{}/{p}", std::net::Ipv6Addr::from(u128::from(v6) & mask))
        }
        _ => cidr.to_string(),
    }
}

fn zero_prefix(cidr: &str) -> bool {
    cidr.rsplit_once('/')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b == b'0'))
}

fn entry_create(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if let Some(r) = lenient(ctx) {
        return r;
    }
    let key = file_key(ctx);
    let cluster_key = "cluster/firewall/#sets".to_string();
    let name = ctx.path_param("name").unwrap_or_default().to_string();
    let given = ctx.text("cidr").unwrap_or_default();
    let guest_level = key != cluster_key;
    let cluster_aliases = ctx
        .store()
        .read(|s| object(file(s, &cluster_key).get("aliases")));
    let cidr = match alias_reference(&given) {
        Some((scope, alias)) => {
            let own = ctx.store().read(|s| object(file(s, &key).get("aliases")));
            let lc = alias.to_lowercase();
            let found = (scope != Some("dc") && guest_level)
                .then(|| own.get(&lc).cloned())
                .flatten()
                .or_else(|| {
                    (scope != Some("guest"))
                        .then(|| cluster_aliases.get(&lc).cloned())
                        .flatten()
                });
            let Some(found) = found else {
                return Err(err500(format!("no such alias '{alias}'")));
            };
            if zero_prefix(found.get("cidr").and_then(Value::as_str).unwrap_or("")) {
                return Err(param_error(
                    "cidr",
                    "a zero prefix alias is not allowed in ipset entries",
                ));
            }
            given
        }
        None => clean_cidr(&given),
    };
    let mut entry = json!({"cidr": cidr});
    if ctx.flag("nomatch") {
        entry["nomatch"] = json!(1);
    }
    if let Some(c) = ctx.text("comment").filter(|c| !c.is_empty()) {
        entry["comment"] = json!(c);
    }
    edit(ctx, |file| {
        let mut entries = set_entries(file, &name).ok_or_else(|| no_such_ipset(&name))?;
        if entries.iter().any(|e| e["cidr"] == json!(cidr)) {
            return Err(param_error(
                "cidr",
                format!("address '{cidr}' already exists"),
            ));
        }
        if zero_prefix(&cidr) {
            return Err(param_error(
                "cidr",
                "a zero prefix is not allowed in ipset entries",
            ));
        }
        entries.insert(0, entry);
        section(file, "ipset")
            .get_mut(&name)
            .and_then(Value::as_object_mut)
            .map(|set| set.insert("entries".into(), Value::Array(entries)));
        Ok(())
    })
}

/// The path's entry of the path's set, changed by `f` (the set's digest checked first).
fn edit_entry(
    ctx: &Ctx<'_>,
    f: impl FnOnce(&mut Vec<Value>, usize) -> Result<(), ApiError>,
) -> Result<Value, ApiError> {
    let name = ctx.path_param("name").unwrap_or_default().to_string();
    let cidr = ctx.path_param("cidr").unwrap_or_default().to_string();
    edit(ctx, |file| {
        let mut entries = set_entries(file, &name).ok_or_else(|| no_such_ipset(&name))?;
        check_digest(ctx, &digest_of(&entries))?;
        let Some(i) = entries.iter().position(|e| e["cidr"] == json!(cidr)) else {
            return if ctx.op.method == Method::Delete {
                Ok(()) // PVE removes what matches, nothing if nothing does
            } else {
                Err(param_error("cidr", "no such IP/Network"))
            };
        };
        f(&mut entries, i)?;
        section(file, "ipset")
            .get_mut(&name)
            .and_then(Value::as_object_mut)
            .map(|set| set.insert("entries".into(), Value::Array(entries)));
        Ok(())
    })
}

fn entry_read(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if let Some(r) = lenient(ctx) {
        return r;
    }
    let key = file_key(ctx);
    let name = ctx.path_param("name").unwrap_or_default().to_string();
    let cidr = ctx.path_param("cidr").unwrap_or_default().to_string();
    let entries = ctx
        .store()
        .read(|s| set_entries(&file(s, &key), &name))
        .ok_or_else(|| no_such_ipset(&name))?;
    let listed = with_digest(entries);
    listed
        .as_array()
        .and_then(|l| l.iter().find(|e| e["cidr"] == json!(cidr)).cloned())
        .ok_or_else(|| param_error("cidr", "no such IP/Network"))
}

fn entry_update(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if let Some(r) = lenient(ctx) {
        return r;
    }
    let nomatch = ctx.flag("nomatch");
    let comment = ctx.text("comment").filter(|c| !c.is_empty());
    edit_entry(ctx, |entries, i| {
        let e = entries[i].as_object_mut().expect("an entry");
        e.remove("nomatch");
        e.remove("comment");
        if nomatch {
            e.insert("nomatch".into(), json!(1));
        }
        if let Some(c) = comment {
            e.insert("comment".into(), json!(c));
        }
        Ok(())
    })
}

fn entry_delete(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if let Some(r) = lenient(ctx) {
        return r;
    }
    edit_entry(ctx, |entries, i| {
        entries.remove(i);
        Ok(())
    })
}

// -- options ------------------------------------------------------------------------------

/// The options a level takes: its `PUT .../options` parameters.
fn option_names(ctx: &Ctx<'_>) -> Vec<String> {
    ctx.mock
        .schema()
        .endpoint_by_template(&ctx.op.template)
        .and_then(|e| e.operation(Method::Put))
        .and_then(|op| op.info.parameters.properties.as_ref())
        .map(|p| {
            p.keys()
                .filter(|k| !matches!(k.as_str(), "node" | "vmid" | "delete" | "digest"))
                .cloned()
                .collect()
        })
        .unwrap_or_default()
}

fn options(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if let Some(r) = lenient(ctx) {
        return r;
    }
    let key = file_key(ctx);
    let mut opts = ctx.store().read(|s| object(file(s, &key).get("options")));
    let d = super::reads::config_digest(&opts);
    opts.insert("digest".into(), json!(d));
    Ok(Value::Object(opts))
}

fn options_update(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if let Some(r) = lenient(ctx) {
        return r;
    }
    let names = option_names(ctx);
    let cluster = ctx.op.template.starts_with("/cluster/");
    let now = ctx.mock.now();
    let deletes: Vec<String> = ctx.list("delete");
    edit(ctx, |file| {
        let opts = section(file, "options");
        check_digest(ctx, &super::reads::config_digest(opts))?;
        for d in &deletes {
            if !names.contains(d) {
                return Err(param_error("delete", format!("no such option '{d}'")));
            }
            opts.remove(d);
        }
        for name in &names {
            let Some(v) = ctx.params.get(name) else {
                continue;
            };
            // The cluster's `enable` above 1 is a time stamp (pve-firewall's set_options).
            let v = if name == "enable" && cluster && v.as_u64().is_some_and(|n| n > 1) {
                json!(now)
            } else {
                v.clone()
            };
            opts.insert(name.clone(), v);
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipset_entries_are_cleaned_as_pve_cleans_them() {
        assert_eq!(clean_cidr("192.168.1.77/24"), "192.168.1.0/24");
        assert_eq!(clean_cidr("192.168.2.7/32"), "192.168.2.7");
        assert_eq!(clean_cidr("10.0.0.1"), "10.0.0.1");
        assert_eq!(clean_cidr("fd00::1/64"), "fd00::/64");
        assert_eq!(clean_cidr("fd00::1/128"), "fd00::1");
        assert!(zero_prefix("0.0.0.0/0"));
        assert!(!zero_prefix("10.0.0.0/10"));
        assert_eq!(alias_reference("www"), Some((None, "www")));
        assert_eq!(alias_reference("dc/www"), Some((Some("dc"), "www")));
        assert_eq!(alias_reference("10.0.0.1"), None);
        assert_eq!(alias_reference("10.0.0.0/24"), None);
        assert_eq!(ip_version("fd00::/8"), 6);
        assert_eq!(ip_version("10.0.0.0/8"), 4);
    }
}
