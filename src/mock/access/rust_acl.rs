//! Access control as PBS and PDM expose it: ACL entries (`ugid`, `ugid_type`, `roleid`,
//! boolean `propagate`; granted with `role`, `auth-id` or `group`), roles listed with
//! their privileges, `/access/permissions` as a map of path to privilege to propagate
//! bit, and users' API tokens. The entries live where PVE's do (`access/acl`), so the
//! same privilege resolution ([`super::roles`]) applies.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::handlers::user_exists;
use super::roles::{self, builtin_roles_of, privileges, privileges_of, role_privs, Subject};
use crate::api::{ApiError, Method};
use crate::mock::computed::Computed;
use crate::mock::store::Record;
use crate::mock::Ctx;

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/access/acl", list_acl),
    (Method::Put, "/access/acl", update_acl),
    (Method::Get, "/access/roles", list_roles),
    (Method::Get, "/access/permissions", permissions),
    (Method::Get, "/access/domains", super::acl::list_domains),
    (Method::Get, "/access/users/{userid}/token", list_tokens),
];

/// The privilege that lets a caller see every ACL entry (`Sys.Audit` on PBS,
/// `Access.Audit` on PDM).
fn audit_privilege(ctx: &Ctx<'_>) -> &'static str {
    match ctx.mock.schema().product() {
        crate::schema::Product::Pdm => "Access.Audit",
        _ => "Sys.Audit",
    }
}

fn bad(msg: impl Into<String>) -> ApiError {
    ApiError::new(400, msg.into())
}

/// `GET /access/acl`: every entry for callers with the audit privilege on `/access/acl`,
/// otherwise only the entries of the caller's own tokens; `path` (with `exact`) filters.
fn list_acl(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let path = ctx.text("path").map(|p| roles::normalize_path(&p));
    let exact = ctx.flag("exact");
    let audit = audit_privilege(ctx);
    let caller = ctx.caller;
    Ok(ctx.store().read(|s| {
        let all = caller.is_root()
            || caller
                .subject()
                .is_some_and(|w| privileges(s, &w, "/access/acl").contains(audit));
        let own_tokens = caller.userid().map(|u| format!("{u}!")).unwrap_or_default();
        Value::Array(
            roles::acl_entries(s)
                .into_iter()
                .filter(|e| all || (e.kind == "token" && e.ugid.starts_with(&own_tokens)))
                .filter(|e| match &path {
                    None => true,
                    Some(p) if exact => roles::normalize_path(&e.path) == *p,
                    Some(p) => {
                        let ep = roles::normalize_path(&e.path);
                        ep == *p || ep.starts_with(&format!("{}/", p.trim_end_matches('/')))
                    }
                })
                .map(|e| {
                    let ugid_type = if e.kind == "group" { "group" } else { "user" };
                    json!({"path": e.path, "ugid": e.ugid, "ugid_type": ugid_type,
                           "roleid": e.role, "propagate": e.propagate})
                })
                .collect(),
        )
    }))
}

/// `PUT /access/acl`: grants (or with `delete`) revokes `role` on `path` for `auth-id` (a
/// user or a token) or `group`.
fn update_acl(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let path = roles::normalize_path(&ctx.text("path").unwrap_or_default());
    let role = ctx.text("role").unwrap_or_default();
    let delete = ctx.flag("delete");
    let propagate = ctx
        .params
        .get("propagate")
        .is_none_or(|v| v == true || v == 1);
    let (kind, ugid) = match (ctx.text("auth-id"), ctx.text("group")) {
        (Some(a), None) if a.contains('!') => ("token", a),
        (Some(a), None) => ("user", a),
        (None, Some(g)) => ("group", g),
        (Some(_), Some(_)) => {
            return Err(bad(
                "parameter 'auth-id' and 'group' are mutually exclusive",
            ))
        }
        (None, None) => return Err(bad("missing 'userid' or 'group' parameter")),
    };
    let lenient = ctx.mock.lenient();
    ctx.store().write(|s| {
        if !delete && !lenient {
            if role_privs(s, &role).is_none() {
                return Err(bad(format!("no such role '{role}'")));
            }
            match kind {
                "user" if !user_exists(s, &ugid) => {
                    return Err(bad(format!("no such user '{ugid}'")));
                }
                "token" => {
                    let (user, token) = ugid.split_once('!').unwrap_or_default();
                    let known = s
                        .members
                        .get(&format!("access/users/{user}/token"))
                        .is_some_and(|m| m.contains_key(token));
                    if !known {
                        return Err(bad(format!("no such API token '{ugid}'")));
                    }
                }
                _ => {}
            }
        }
        let acl = s.members.entry("access/acl".into()).or_default();
        let id = format!("{path}|{kind}:{ugid}|{role}");
        if delete {
            acl.remove(&id);
        } else {
            let mut rec = Record::default();
            rec.config.insert("path".into(), json!(path));
            rec.config.insert("type".into(), json!(kind));
            rec.config.insert("ugid".into(), json!(ugid));
            rec.config.insert("roleid".into(), json!(role));
            rec.config
                .insert("propagate".into(), json!(u8::from(propagate)));
            acl.insert(id, rec.into());
        }
        Ok(Value::Null)
    })
}

/// `GET /access/roles`: the built-in roles with their privileges.
fn list_roles(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let product = ctx.mock.schema().product();
    Ok(Value::Array(
        builtin_roles_of(product)
            .iter()
            .map(|(name, privs)| {
                json!({"roleid": name, "privs": privs.iter().copied().collect::<Vec<_>>(),
                       "comment": format!("Built-in role {name}")})
            })
            .collect(),
    ))
}

/// `GET /access/permissions`: for `auth-id` (default the caller) the privileges held on
/// `path`, or on every path an ACL entry names.
fn permissions(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let product = ctx.mock.schema().product();
    let caller_id = ctx.caller.authid();
    let auth_id = ctx.text("auth-id").unwrap_or_else(|| caller_id.clone());
    if auth_id != caller_id && !ctx.caller.is_root() {
        let held = ctx.store().read(|s| {
            ctx.caller
                .subject()
                .is_some_and(|w| privileges(s, &w, "/access").contains(audit_privilege(ctx)))
        });
        if !held {
            return Err(ApiError::new(403, "permission check failed"));
        }
    }
    let path = ctx.text("path");
    Ok(ctx.store().read(|s| {
        let subject = match auth_id.split_once('!') {
            Some((user, _)) => Subject::Token {
                user,
                full: auth_id.clone(),
            },
            None => Subject::User(&auth_id),
        };
        let mut paths: Vec<String> = match &path {
            Some(p) => vec![roles::normalize_path(p)],
            None => roles::acl_entries(s)
                .into_iter()
                .map(|e| roles::normalize_path(&e.path))
                .chain(std::iter::once("/".to_string()))
                .collect(),
        };
        paths.sort();
        paths.dedup();
        let mut out: BTreeMap<String, Value> = BTreeMap::new();
        for p in paths {
            let held = if auth_id == "root@pam" {
                privileges_of(product).iter().copied().collect()
            } else {
                privileges(s, &subject, &p)
            };
            if held.is_empty() && path.is_none() {
                continue;
            }
            let m: Map<String, Value> = held
                .iter()
                .map(|k| ((*k).to_string(), Value::Bool(true)))
                .collect();
            out.insert(p, Value::Object(m));
        }
        Value::Object(out.into_iter().collect())
    }))
}

/// `GET /access/users/{userid}/token`: the user's tokens (never their secrets).
fn list_tokens(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let user = ctx.path_param("userid").unwrap_or_default().to_string();
    ctx.store().read(|s| {
        if !user_exists(s, &user) {
            return Err(bad(format!("no such user '{user}'")));
        }
        Ok(Value::Array(
            s.members
                .get(&format!("access/users/{user}/token"))
                .into_iter()
                .flatten()
                .map(|(name, r)| {
                    let mut v =
                        json!({"tokenid": format!("{user}!{name}"), "enable": true, "expire": 0});
                    for k in ["comment", "enable", "expire"] {
                        if let Some(x) = r.config.get(k) {
                            v[k] = x.clone();
                        }
                    }
                    v
                })
                .collect(),
        ))
    })
}
