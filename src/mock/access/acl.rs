//! Who may do what: ACL entries (listed where the caller may modify permissions, granted
//! only to users, groups and tokens that exist), roles (PVE's built-in ones, which cannot
//! be changed, and custom ones with validated privileges), the privileges a user or token
//! holds (`/access/permissions`) and the realms (`/access/domains`, open to anyone).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::handlers::{builtin_realms_of, user_exists};
use super::roles::{self, builtin_roles, privileges, role_privs, PRIVILEGES};
use super::Caller;
use crate::api::{ApiError, Method};
use crate::mock::computed::Computed;
use crate::mock::messages::err500;
use crate::mock::store::Record;
use crate::mock::{writes, Ctx};

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/access/acl", list_acl),
    (Method::Put, "/access/acl", update_acl),
    (Method::Get, "/access/roles", list_roles),
    (Method::Get, "/access/roles/{roleid}", read_role),
    (Method::Post, "/access/roles", create_role),
    (Method::Put, "/access/roles/{roleid}", update_role),
    (Method::Delete, "/access/roles/{roleid}", delete_role),
    (Method::Get, "/access/permissions", permissions),
    (Method::Get, "/access/domains", list_domains),
    (Method::Get, "/access/domains/{realm}", read_domain),
];

/// `GET /access/acl`: the entries on paths where the caller may modify permissions.
fn list_acl(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let caller = ctx.caller;
    Ok(ctx.mock.store().read(|s| {
        let who = caller.subject();
        Value::Array(
            roles::acl_entries(s)
                .into_iter()
                .filter(|e| {
                    caller.is_root()
                        || who.as_ref().is_some_and(|w| {
                            privileges(s, w, &e.path).contains("Permissions.Modify")
                        })
                })
                .map(|e| {
                    json!({"path": e.path, "type": e.kind, "ugid": e.ugid, "roleid": e.role,
                           "propagate": u8::from(e.propagate)})
                })
                .collect(),
        )
    }))
}

/// `PUT /access/acl`: grants (or with `delete=1` revokes) roles on a path to users,
/// groups and tokens, each of which must exist.
fn update_acl(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let list = |k: &str| -> Vec<String> {
        ctx.text(k)
            .map(|v| {
                crate::schema::formats::split_list(&v)
                    .into_iter()
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let path = roles::normalize_path(&ctx.text("path").unwrap_or_default());
    let delete = ctx.flag("delete");
    let propagate = ctx
        .params
        .get("propagate")
        .is_none_or(|v| v != 0 && v != "0");
    let role_names = list("roles");
    let mut entries = Vec::new();
    for (kind, key) in [("user", "users"), ("group", "groups"), ("token", "tokens")] {
        for ugid in list(key) {
            for role in &role_names {
                entries.push((kind, ugid.clone(), role.clone()));
            }
        }
    }
    let lenient = ctx.mock.lenient();
    ctx.mock.store().write(|s| {
        if !delete && !lenient {
            for role in &role_names {
                if role_privs(s, role).is_none() {
                    return Err(err500(format!("role '{role}' does not exist")));
                }
            }
            for (kind, ugid, _) in &entries {
                match *kind {
                    "user" if !user_exists(s, ugid) => {
                        return Err(err500(format!("user '{ugid}' does not exist")))
                    }
                    "group" if !s.members.get("access/groups").is_some_and(|m| m.contains_key(ugid)) => {
                        return Err(err500(format!("group '{ugid}' does not exist")))
                    }
                    "token" => {
                        let Some((user, token)) = ugid.split_once('!') else {
                            return Err(err500(format!(
                                "'{ugid}' is not a valid token ID - not able to split into user and token parts"
                            )));
                        };
                        let known = s
                            .members
                            .get(&format!("access/users/{user}/token"))
                            .is_some_and(|m| m.contains_key(token));
                        if !known {
                            return Err(err500(format!("no such token '{token}' for user '{user}'")));
                        }
                    }
                    _ => {}
                }
            }
        }
        let acl = s.members.entry("access/acl".into()).or_default();
        for (kind, ugid, role) in entries {
            let id = format!("{path}|{kind}:{ugid}|{role}");
            if delete {
                acl.remove(&id);
            } else {
                let mut rec = Record::default();
                rec.config.insert("path".into(), json!(path));
                rec.config.insert("type".into(), json!(kind));
                rec.config.insert("ugid".into(), json!(ugid));
                rec.config.insert("roleid".into(), json!(role));
                rec.config.insert("propagate".into(), json!(u8::from(propagate)));
                acl.insert(id, rec.into());
            }
        }
        Ok(Value::Null)
    })
}

fn privs_text(privs: &roles::Privs) -> String {
    privs.iter().copied().collect::<Vec<_>>().join(",")
}

/// `GET /access/roles`: the built-in (special) roles and the custom ones.
fn list_roles(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.mock.store().read(|s| {
        let mut out: Vec<Value> = builtin_roles()
            .iter()
            .map(|(name, privs)| json!({"roleid": name, "privs": privs_text(privs), "special": 1}))
            .collect();
        if let Some(custom) = s.members.get("access/roles") {
            for name in custom.keys() {
                let privs = role_privs(s, name).unwrap_or_default();
                out.push(json!({"roleid": name, "privs": privs_text(&privs), "special": 0}));
            }
        }
        Value::Array(out)
    }))
}

/// `GET /access/roles/{roleid}`: `{privilege: 1}`.
fn read_role(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let role = ctx.path_param("roleid").unwrap_or_default();
    ctx.mock.store().read(|s| match role_privs(s, role) {
        Some(privs) => Ok(Value::Object(
            privs
                .into_iter()
                .map(|p| (p.to_string(), json!(1)))
                .collect(),
        )),
        None => Err(err500(format!("role '{role}' does not exist"))),
    })
}

/// Every privilege named in `privs` must be one of PVE's.
fn check_privs(ctx: &Ctx<'_>, verb: &str) -> Result<(), ApiError> {
    for p in crate::schema::formats::split_list(&ctx.text("privs").unwrap_or_default()) {
        if !PRIVILEGES.contains(&p) {
            return Err(err500(format!(
                "{verb} role failed: invalid privilege '{p}'"
            )));
        }
    }
    Ok(())
}

fn create_role(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let role = ctx.text("roleid").unwrap_or_default();
    if builtin_roles().contains_key(role.as_str()) {
        if ctx.mock.lenient() {
            return Ok(Value::Null);
        }
        return Err(err500(format!(
            "create role failed: role '{role}' already exists"
        )));
    }
    check_privs(ctx, "create")?;
    writes::create(ctx)
}

fn update_role(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let role = ctx.path_param("roleid").unwrap_or_default();
    if builtin_roles().contains_key(role) {
        if ctx.mock.lenient() {
            return Ok(Value::Null);
        }
        return Err(err500(format!(
            "update role failed: auto-generated role '{role}' cannot be modified"
        )));
    }
    check_privs(ctx, "update")?;
    if ctx.flag("append") {
        // `append=1` adds to the role's privileges instead of replacing them.
        let old = ctx
            .mock
            .store()
            .read(|s| role_privs(s, role).unwrap_or_default());
        let mut all: std::collections::BTreeSet<String> =
            old.iter().map(std::string::ToString::to_string).collect();
        for p in crate::schema::formats::split_list(&ctx.text("privs").unwrap_or_default()) {
            all.insert(p.to_string());
        }
        let joined = all.into_iter().collect::<Vec<_>>().join(",");
        ctx.mock.store().write(|s| {
            if let Some(r) = s
                .members
                .get_mut("access/roles")
                .and_then(|m| m.get_mut(role))
            {
                r.config.insert("privs".into(), json!(joined));
            }
        });
        return Ok(Value::Null);
    }
    writes::update(ctx)
}

fn delete_role(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let role = ctx.path_param("roleid").unwrap_or_default();
    if builtin_roles().contains_key(role) {
        if ctx.mock.lenient() {
            return Ok(Value::Null);
        }
        return Err(err500(format!(
            "delete role failed: auto-generated role '{role}' cannot be deleted"
        )));
    }
    writes::destroy(ctx)
}

/// `GET /access/permissions`: `{path: {privilege: 1}}` for the caller, or for `userid` (a
/// user or token the caller may audit), on `path` or on the top-level paths and every ACL
/// path.
fn permissions(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let caller = ctx.caller;
    let wanted = ctx.text("userid");
    let path = ctx.text("path");
    ctx.mock.store().read(|s| {
        let target: Caller = match &wanted {
            None => caller.clone(),
            Some(id) => {
                let me = caller.authid();
                let allowed = caller.is_root()
                    || *id == me
                    || caller
                        .subject()
                        .is_some_and(|w| privileges(s, &w, "/access").contains("Sys.Audit"))
                    || id
                        .split_once('!')
                        .is_some_and(|(u, _)| caller.userid() == Some(u));
                if !allowed {
                    return Err(crate::mock::messages::permission_denied(
                        "/access, Sys.Audit",
                    ));
                }
                match id.split_once('!') {
                    Some((user, token)) => {
                        let found = s
                            .members
                            .get(&format!("access/users/{user}/token"))
                            .and_then(|m| m.get(token));
                        let rec = match found {
                            Some(rec) => rec,
                            None if ctx.mock.lenient() => return Ok(json!({})),
                            None => {
                                return Err(err500(format!(
                                    "no such token '{token}' for user '{user}'"
                                )))
                            }
                        };
                        Caller::Token {
                            userid: user.into(),
                            tokenid: token.into(),
                            privsep: rec.config.get("privsep").is_none_or(|v| v != 0),
                        }
                    }
                    None => Caller::User { userid: id.clone() },
                }
            }
        };
        let Some(who) = target.subject() else {
            return Ok(json!({}));
        };
        let mut paths: Vec<String> = if let Some(p) = &path {
            vec![roles::normalize_path(p)]
        } else {
            let mut all: Vec<String> = [
                "/",
                "/access",
                "/access/groups",
                "/mapping",
                "/nodes",
                "/pool",
                "/sdn",
                "/storage",
                "/vms",
            ]
            .iter()
            .map(std::string::ToString::to_string)
            .collect();
            all.extend(
                roles::acl_entries(s)
                    .into_iter()
                    .map(|e| roles::normalize_path(&e.path)),
            );
            all
        };
        paths.sort();
        paths.dedup();
        let mut out = BTreeMap::new();
        for p in paths {
            let privs = privileges(s, &who, &p);
            if privs.is_empty() && path.is_none() {
                continue;
            }
            let m: Map<String, Value> = privs
                .into_iter()
                .map(|k| (k.to_string(), json!(1)))
                .collect();
            out.insert(p, Value::Object(m));
        }
        Ok(Value::Object(out.into_iter().collect()))
    })
}

/// `GET /access/domains` (allowed without a login, as on PVE): the built-in realms and
/// those created through the API.
/// `GET /access/domains/{realm}`: the realm's configuration with its digest (the built-in
/// `pam` and `pve` show their type and comment).
fn read_domain(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let realm = ctx.path_param("realm").unwrap_or_default();
    ctx.mock.store().read(|s| {
        let mut config = Map::new();
        if let Some((_, kind, comment)) = builtin_realms_of(s.product)
            .iter()
            .find(|(r, _, _)| *r == realm)
        {
            config.insert("type".into(), json!(kind));
            config.insert("comment".into(), json!(comment));
        } else if let Some(rec) = s.members.get("access/domains").and_then(|m| m.get(realm)) {
            config.clone_from(&rec.config);
        } else {
            return Err(err500(format!("domain '{realm}' does not exist")));
        }
        let digest = crate::mock::reads::config_digest(&config);
        config.insert("digest".into(), json!(digest));
        Ok(Value::Object(config))
    })
}

pub(crate) fn list_domains(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.mock.store().read(|s| {
        let mut out: Vec<Value> = builtin_realms_of(s.product)
            .iter()
            .map(|(realm, kind, comment)| json!({"realm": realm, "type": kind, "comment": comment}))
            .collect();
        if let Some(custom) = s.members.get("access/domains") {
            for (realm, rec) in custom {
                let mut item = json!({"realm": realm});
                for k in ["type", "comment", "tfa"] {
                    if let Some(v) = rec.config.get(k) {
                        item[k] = v.clone();
                    }
                }
                out.push(item);
            }
        }
        Value::Array(out)
    }))
}
