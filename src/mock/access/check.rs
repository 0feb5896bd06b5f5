//! The `permissions` of every operation in the apidoc, enforced as PVE's
//! `RPCEnvironment::check_api2_permissions` does: `user: world` (anyone), `user: all` (any
//! authenticated caller), and `check` rules (`perm` with `any` and `require_param`, `and`,
//! `or`, `userid-param`, `userid-group`, `perm-modify`). No rule at all means root only.

use serde_json::{Map, Value};

use super::roles::{normalize_path, privileges, user_groups, Subject};
use super::Caller;
use crate::api::ApiError;
use crate::mock::messages::{no_ticket, permission_denied};
use crate::mock::store::MockState;
use crate::schema::{PermissionDialect, Product};

/// What a rule decided: allowed, or refused with PVE's reason (empty: no reason given).
type Verdict = Result<(), String>;

/// Whether `caller` may run an operation with these `permissions` and parameters (path
/// parameters included in `params`): `401 No ticket` for nobody, PVE's `403` otherwise.
/// The rules are read in the dialect of the store's product.
pub fn check(
    s: &MockState,
    caller: &Caller,
    permissions: Option<&Value>,
    params: &Map<String, Value>,
) -> Result<(), ApiError> {
    let product = s.product;
    let user = permissions
        .and_then(|p| p.get("user"))
        .and_then(Value::as_str);
    if user == Some("world") {
        return Ok(());
    }
    let Some(subject) = caller.subject() else {
        return Err(no_ticket_of(product));
    };
    if caller.is_root() {
        return Ok(());
    }
    let denied = |why: &str| denied_of(product, why);
    let Some(perms) = permissions else {
        return Err(denied("user != root@pam"));
    };
    if let Some(rule) = perms.get("check") {
        return match product.permission_dialect() {
            PermissionDialect::PerlPrivileges => {
                eval(s, caller, &subject, rule, params).map_err(|why| denied(&why))
            }
            PermissionDialect::PerlRoles => {
                let role = caller
                    .userid()
                    .map(|u| super::roles::pmg_role(s, u))
                    .unwrap_or_default();
                if super::products::pmg_role_admits(&role, &strings(Some(rule))) {
                    Ok(())
                } else {
                    Err(denied(""))
                }
            }
            PermissionDialect::RustPrivileges => {
                eval_rust(s, caller, &subject, perms, params).map_err(|why| denied(&why))
            }
        };
    }
    if product.permission_dialect() == PermissionDialect::RustPrivileges
        && (perms.get("or").is_some()
            || perms.get("and").is_some()
            || perms.get("userParam").is_some())
    {
        return eval_rust(s, caller, &subject, perms, params).map_err(|why| denied(&why));
    }
    match user {
        Some("all") => Ok(()),
        _ => Err(denied("user != root@pam")),
    }
}

/// A request without credentials: PVE's and PMG's `No ticket`; the Rust products' wording.
pub(crate) fn no_ticket_of(product: Product) -> ApiError {
    if product.is_rust() {
        ApiError::new(
            401,
            "authentication failed - no authentication credentials provided.",
        )
    } else {
        no_ticket()
    }
}

/// A refused permission check, in the product's words (the Rust products give no reason).
fn denied_of(product: Product, why: &str) -> ApiError {
    if product.is_rust() {
        ApiError::new(403, "permission check failed")
    } else {
        permission_denied(why)
    }
}

/// The Rust products' rules (`proxmox_router::Permission` as the apidoc renders it):
/// `{"check": {"path": [...], "privs": [...], "partial": bool}}` (all of `privs` on the
/// path, or any one when `partial`), `{"or": [...]}`, `{"and": [...]}`, `{"userParam":
/// "userid"}` (the caller is that user), `{"user": "all"|"world"}`.
fn eval_rust(
    s: &MockState,
    caller: &Caller,
    who: &Subject<'_>,
    rule: &Value,
    params: &Map<String, Value>,
) -> Verdict {
    if let Some(c) = rule.get("check") {
        let segments = strings(c.get("path"));
        let path = fill(&format!("/{}", segments.join("/")), params);
        let privs = strings(c.get("privs"));
        let partial = c.get("partial").is_some_and(|v| v == true || v == 1);
        let held = privileges(s, who, &path);
        let ok = if partial {
            privs.iter().any(|p| held.contains(p.as_str()))
        } else {
            privs.iter().all(|p| held.contains(p.as_str()))
        };
        return if ok {
            Ok(())
        } else {
            Err(format!("{path}, {}", privs.join("|")))
        };
    }
    if let Some(Value::Array(subs)) = rule.get("or") {
        if subs
            .iter()
            .any(|sub| eval_rust(s, caller, who, sub, params).is_ok())
        {
            return Ok(());
        }
        return Err(String::new());
    }
    if let Some(Value::Array(subs)) = rule.get("and") {
        for sub in subs {
            eval_rust(s, caller, who, sub, params)?;
        }
        return Ok(());
    }
    if let Some(name) = rule.get("userParam").and_then(Value::as_str) {
        let wanted = text(params, name).unwrap_or_default();
        return match caller {
            Caller::User { userid } if *userid == wanted => Ok(()),
            _ => Err(String::new()),
        };
    }
    match rule.get("user").and_then(Value::as_str) {
        Some("all" | "world") => Ok(()),
        _ => Err("user != root@pam".into()),
    }
}

/// Whether `who` holds `priv_` on `path`.
pub fn has(s: &MockState, who: &Subject<'_>, path: &str, priv_: &str) -> bool {
    privileges(s, who, path).contains(priv_)
}

/// Whether `who` holds any of `privs` on `path`.
pub fn has_any(s: &MockState, who: &Subject<'_>, path: &str, privs: &[&str]) -> bool {
    let held = privileges(s, who, path);
    privs.iter().any(|p| held.contains(p))
}

fn text(params: &Map<String, Value>, k: &str) -> Option<String> {
    match params.get(k)? {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// `/vms/{vmid}` with the parameters filled in (a missing one left empty), normalized.
fn fill(template: &str, params: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(start) = rest.find('{') {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find('}') else {
            out.push_str(&rest[start..]);
            rest = "";
            break;
        };
        let name = &rest[start + 1..start + len];
        out.push_str(&text(params, name).unwrap_or_default());
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    normalize_path(&out)
}

fn strings(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn eval(
    s: &MockState,
    caller: &Caller,
    who: &Subject<'_>,
    rule: &Value,
    params: &Map<String, Value>,
) -> Verdict {
    let Some(items) = rule.as_array() else {
        return Err("user != root@pam".into());
    };
    let form = items.first().and_then(Value::as_str).unwrap_or("");
    match form {
        "perm" => {
            let path = fill(items.get(1).and_then(Value::as_str).unwrap_or("/"), params);
            let privs = strings(items.get(2));
            let mut any = false;
            for pair in items[3.min(items.len())..].chunks(2) {
                match (pair.first().and_then(Value::as_str), pair.get(1)) {
                    (Some("any"), Some(v)) => any = v == 1 || v == true,
                    // PVE: no permission can be checked for a parameter not given.
                    (Some("require_param"), Some(Value::String(p)))
                        if text(params, p).is_none() =>
                    {
                        return Err(format!("{path}, {}", privs.join("|")));
                    }
                    _ => {}
                }
            }
            let held = privileges(s, who, &path);
            if any {
                if privs.iter().any(|p| held.contains(p.as_str())) {
                    Ok(())
                } else {
                    Err(format!("{path}, {}", privs.join("|")))
                }
            } else {
                match privs.iter().find(|p| !held.contains(p.as_str())) {
                    None => Ok(()),
                    Some(missing) => Err(format!("{path}, {missing}")),
                }
            }
        }
        "and" => {
            for sub in &items[1..] {
                eval(s, caller, who, sub, params)?;
            }
            Ok(())
        }
        "or" => {
            for sub in &items[1..] {
                if eval(s, caller, who, sub, params).is_ok() {
                    return Ok(());
                }
            }
            // PVE names no reason when none of several alternatives held.
            Err(String::new())
        }
        "userid-param" => {
            let userid = text(params, "userid").unwrap_or_default();
            match items.get(1).and_then(Value::as_str) {
                Some("self") => {
                    // A token is not its user: `self` holds for tickets only.
                    match caller {
                        Caller::User { userid: me } if *me == userid => Ok(()),
                        _ => Err(String::new()),
                    }
                }
                Some(privilege) => {
                    let realm = userid.rsplit_once('@').map_or("", |(_, r)| r);
                    let path = format!("/access/realm/{realm}");
                    if has(s, who, &path, privilege) {
                        Ok(())
                    } else {
                        Err(format!("{path}, {privilege}"))
                    }
                }
                None => Err("user != root@pam".into()),
            }
        }
        "userid-group" => {
            let privs = strings(items.get(1));
            let privs: Vec<&str> = privs.iter().map(String::as_str).collect();
            let reason = format!("/access/groups, {}", privs.join("|"));
            if has_any(s, who, "/access/groups", &privs) {
                return Ok(());
            }
            let groups_param = items
                .iter()
                .skip(2)
                .collect::<Vec<_>>()
                .chunks(2)
                .any(|c| c.first().and_then(|v| v.as_str()) == Some("groups_param"));
            if groups_param {
                let wanted: Vec<String> = text(params, "groups")
                    .map(|g| {
                        crate::schema::formats::split_list(&g)
                            .into_iter()
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default();
                if wanted.is_empty() {
                    return Err(reason);
                }
                for g in wanted {
                    if !has_any(s, who, &format!("/access/groups/{g}"), &privs) {
                        return Err(format!("/access/groups/{g}, {}", privs.join("|")));
                    }
                }
                return Ok(());
            }
            // The user must be in a group the caller may manage.
            let userid = text(params, "userid").unwrap_or_default();
            let managed = user_groups(s, &userid)
                .into_iter()
                .any(|g| has_any(s, who, &format!("/access/groups/{g}"), &privs));
            if managed {
                Ok(())
            } else {
                Err(String::new())
            }
        }
        "perm-modify" => {
            let path = fill(items.get(1).and_then(Value::as_str).unwrap_or(""), params);
            let mut privs = vec!["Permissions.Modify"];
            if path.starts_with("/storage/") {
                privs.push("Datastore.Allocate");
            } else if path.starts_with("/vms/") {
                privs.push("VM.Allocate");
            } else if path.starts_with("/pool/") {
                privs.push("Pool.Allocate");
            }
            if has_any(s, who, &path, &privs) {
                Ok(())
            } else {
                Err(format!("{path}, {}", privs.join("|")))
            }
        }
        _ => Err("user != root@pam".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn paths_fill_and_normalize() {
        let p = json!({"vmid": 100, "node": "pve1"});
        assert_eq!(fill("/vms/{vmid}", p.as_object().unwrap()), "/vms/100");
        assert_eq!(fill("/pool/{pool}", p.as_object().unwrap()), "/pool");
        assert_eq!(fill("/", p.as_object().unwrap()), "/");
    }
}
