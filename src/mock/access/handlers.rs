//! The `/access` endpoints whose answers PVE computes: login and renewal, passwords,
//! API tokens, TOTP, ACLs, roles, permissions and realms. Users, groups and the rest of
//! `/access` are plain collections (see [`crate::mock::collections`]).

use std::collections::BTreeMap;

use serde_json::{json, Map, Value};

use super::roles::{self, builtin_roles, privileges, role_privs, Subject, PRIVILEGES};
use super::{ticket, totp_matches, Caller, TFA_PREFIX};
use crate::api::{ApiError, Method};
use crate::mock::computed::Computed;
use crate::mock::messages::{authentication_failure, err500};
use crate::mock::store::{MockState, Record};
use crate::mock::{writes, Ctx};

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Post, "/access/ticket", login),
    (Method::Post, "/access/users", create_user),
    (Method::Delete, "/access/users/{userid}", delete_user),
    (Method::Put, "/access/password", change_password),
    (
        Method::Post,
        "/access/users/{userid}/token/{tokenid}",
        create_token,
    ),
    (Method::Post, "/access/tfa/{userid}", add_tfa),
    (Method::Get, "/access/acl", list_acl),
    (Method::Put, "/access/acl", update_acl),
    (Method::Get, "/access/roles", list_roles),
    (Method::Get, "/access/roles/{roleid}", read_role),
    (Method::Post, "/access/roles", create_role),
    (Method::Put, "/access/roles/{roleid}", update_role),
    (Method::Delete, "/access/roles/{roleid}", delete_role),
    (Method::Get, "/access/permissions", permissions),
    (Method::Get, "/access/domains", list_domains),
];

/// PVE's built-in realms.
const BUILTIN_REALMS: &[(&str, &str, &str)] = &[
    ("pam", "pam", "Linux PAM standard authentication"),
    ("pve", "pve", "Proxmox VE authentication server"),
];

/// Whether `realm` exists (built-in, or created through `/access/domains`).
fn realm_exists(s: &MockState, realm: &str) -> bool {
    BUILTIN_REALMS.iter().any(|(r, _, _)| *r == realm)
        || s.members
            .get("access/domains")
            .is_some_and(|m| m.contains_key(realm))
}

fn user_exists(s: &MockState, user: &str) -> bool {
    s.members
        .get("access/users")
        .is_some_and(|m| m.contains_key(user))
}

/// `POST /access/ticket`: password login (with PVE's two-step TFA), or renewal with the
/// current ticket as password.
fn login(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let mock = ctx.mock;
    let store = mock.store();
    let mut username = ctx.text("username").unwrap_or_default();
    let password = ctx.text("password").unwrap_or_default();
    if let Some(realm) = ctx.text("realm").filter(|r| !r.is_empty()) {
        if !username.contains('@') {
            username = format!("{username}@{realm}");
        }
    }
    let now = store.now();
    let not_before = store.tickets_not_before();
    if let Some(challenge) = ctx.text("tfa-challenge").filter(|c| !c.is_empty()) {
        // Second step: the challenge ticket plus `totp:<code>`.
        let user = store
            .signer
            .check_ticket(&challenge, now, not_before)
            .ok()
            .and_then(|(u, _)| u.strip_prefix(TFA_PREFIX).map(str::to_string))
            .filter(|u| username.is_empty() || *u == username)
            .ok_or_else(authentication_failure)?;
        let code = password
            .strip_prefix("totp:")
            .ok_or_else(authentication_failure)?;
        let secret = mock.user_secret(&user, "totp_secret");
        if !secret.is_some_and(|s| totp_matches(&s, code)) {
            return Err(authentication_failure());
        }
        return Ok(mock.full_login(&user));
    }
    if password.starts_with("PVE:") {
        // Renewal: the current ticket, still valid, for the same user.
        let (caller, _) = mock
            .ticket_caller(&password)
            .map_err(|_| authentication_failure())?;
        if caller.userid() != Some(username.as_str()) {
            return Err(authentication_failure());
        }
        return Ok(mock.full_login(&username));
    }
    mock.check_password(&username, &password)?;
    if mock.user_secret(&username, "totp_secret").is_some() {
        // PVE's first step for a user with TFA: a challenge ticket and `NeedTFA`.
        let time = now.max(not_before);
        let challenge_user = format!("{TFA_PREFIX}{username}");
        return Ok(json!({
            "username": username,
            "ticket": store.signer.ticket(&challenge_user, time),
            "CSRFPreventionToken": store.signer.csrf(&challenge_user, time),
            "NeedTFA": 1,
        }));
    }
    Ok(mock.full_login(&username))
}

/// PVE's `cap` of a login: per area, the privileges the user holds anywhere there.
pub fn capabilities(s: &MockState, user: &str) -> Value {
    let who = Subject::User(user);
    let acl_paths: Vec<String> = roles::acl_entries(s).into_iter().map(|e| e.path).collect();
    let area = |top: &str, prefix: &str| -> Map<String, Value> {
        let mut privs = privileges(s, &who, top);
        for p in acl_paths.iter().filter(|p| p.starts_with(prefix)) {
            privs.extend(privileges(s, &who, p));
        }
        privs
            .into_iter()
            .map(|p| (p.to_string(), json!(1)))
            .collect()
    };
    let only = |m: Map<String, Value>, pre: &[&str]| -> Value {
        Value::Object(
            m.into_iter()
                .filter(|(k, _)| pre.iter().any(|p| k.starts_with(p)))
                .collect(),
        )
    };
    json!({
        "vms": only(area("/vms", "/vms"), &["VM.", "Permissions."]),
        "storage": only(area("/storage", "/storage"), &["Datastore.", "Permissions."]),
        "access": only(area("/access", "/access"), &["User.", "Group.", "Permissions.", "Realm."]),
        "nodes": only(area("/nodes", "/nodes"), &["Sys.", "Permissions."]),
        "dc": only(area("/", "/"), &["Sys.Audit", "Sys.Modify", "Permissions."]),
        "sdn": only(area("/sdn", "/sdn"), &["SDN.", "Permissions."]),
        "mapping": only(area("/mapping", "/mapping"), &["Mapping.", "Permissions."]),
    })
}

/// `POST /access/users`: the realm and groups must exist; the password is kept hashed.
fn create_user(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let userid = ctx.text("userid").unwrap_or_default();
    let realm = userid
        .rsplit_once('@')
        .map(|(_, r)| r.to_string())
        .unwrap_or_default();
    let groups: Vec<String> = ctx
        .text("groups")
        .map(|g| {
            crate::schema::formats::split_list(&g)
                .into_iter()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    if !ctx.mock.lenient() {
        let problem = ctx.mock.store().read(|s| {
            if !realm_exists(s, &realm) {
                return Some(format!(
                    "create user failed: auth domain '{realm}' does not exist"
                ));
            }
            groups
                .iter()
                .find(|g| {
                    !s.members
                        .get("access/groups")
                        .is_some_and(|m| m.contains_key(*g))
                })
                .map(|g| format!("create user failed: no such group '{g}'"))
        });
        if let Some(p) = problem {
            return Err(err500(p));
        }
    }
    let answer = writes::create(ctx)?;
    if let Some(pw) = ctx.text("password").filter(|p| !p.is_empty()) {
        ctx.mock.set_password(&userid, &pw)?;
    }
    Ok(answer)
}

/// `DELETE /access/users/{userid}`: PVE also drops the user's tokens, second factors and
/// ACL entries.
fn delete_user(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let user = ctx.path_param("userid").unwrap_or_default().to_string();
    let answer = writes::destroy(ctx)?;
    ctx.mock.store().write(|s| {
        s.members.remove(&format!("access/users/{user}/token"));
        if let Some(acl) = s.members.get_mut("access/acl") {
            acl.retain(|_, r| {
                let ugid = r.config.get("ugid").and_then(Value::as_str).unwrap_or("");
                ugid != user && !ugid.starts_with(&format!("{user}!"))
            });
        }
    });
    Ok(answer)
}

/// `PUT /access/password` (the permission rules already allowed it).
fn change_password(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let user = ctx.text("userid").unwrap_or_default();
    let password = ctx.text("password").unwrap_or_default();
    let realm = user.rsplit_once('@').map_or("", |(_, r)| r);
    if !ctx.mock.store().read(|s| realm_exists(s, realm)) {
        return Err(err500(format!("auth domain '{realm}' does not exist")));
    }
    ctx.mock.set_password(&user, &password)?;
    Ok(Value::Null)
}

/// A random secret in the shape of PVE's token values (a UUID).
fn uuid_like() -> String {
    let mut b = [0u8; 16];
    rand::fill(&mut b);
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// `POST /access/users/{userid}/token/{tokenid}`: the secret is answered once and only its
/// hash is kept.
fn create_token(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let user = ctx.path_param("userid").unwrap_or_default().to_string();
    let id = ctx.path_param("tokenid").unwrap_or_default().to_string();
    let lenient = ctx.mock.lenient();
    if !lenient && !ctx.mock.store().read(|s| user_exists(s, &user)) {
        return Err(err500(format!("no such user ('{user}')")));
    }
    let secret = uuid_like();
    let privsep = !ctx
        .params
        .get("privsep")
        .is_some_and(|v| v == 0 || v == "0" || v == false);
    let expire = ctx.params.get("expire").cloned().unwrap_or(json!(0));
    let comment = ctx.params.get("comment").cloned();
    let hash = ticket::secret_hash(&secret);
    let duplicate = ctx.mock.store().write(|s| {
        let tokens = s
            .members
            .entry(format!("access/users/{user}/token"))
            .or_default();
        if tokens.contains_key(&id) {
            return true;
        }
        let mut rec = Record::default();
        rec.config
            .insert("privsep".into(), json!(u8::from(privsep)));
        rec.config.insert("expire".into(), expire.clone());
        if let Some(c) = &comment {
            rec.config.insert("comment".into(), c.clone());
        }
        rec.meta.insert("secret_hash".into(), json!(hash));
        tokens.insert(id.clone(), rec);
        false
    });
    if duplicate {
        return Err(err500("Token already exists."));
    }
    let mut info = json!({"privsep": u8::from(privsep), "expire": expire});
    if let Some(c) = comment {
        info["comment"] = c;
    }
    Ok(json!({"full-tokenid": format!("{user}!{id}"), "info": info, "value": secret}))
}

/// `POST /access/tfa/{userid}` with `type=totp`: registers a TOTP factor once the current
/// code (`value`) proves the secret (`totp=otpauth://...secret=...`). Other types are
/// accepted as PVE's schema describes them.
fn add_tfa(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    if ctx.text("type").as_deref() != Some("totp") {
        return Ok(ctx.mock.answer(ctx));
    }
    let user = ctx.path_param("userid").unwrap_or_default().to_string();
    let uri = ctx.text("totp").unwrap_or_default();
    let secret = uri
        .split_once('?')
        .map(|(_, q)| q)
        .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "secret"))
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| ApiError::params([("totp", "expected an otpauth:// URI with a secret")]))?;
    let code = ctx.text("value").unwrap_or_default();
    if !totp_matches(&secret, &code) {
        return Err(ApiError::new(400, "failed to verify TOTP challenge"));
    }
    let found = ctx.mock.store().write(|s| {
        match s
            .members
            .get_mut("access/users")
            .and_then(|m| m.get_mut(&user))
        {
            Some(r) => {
                r.meta.insert("totp_secret".into(), json!(secret));
                true
            }
            None => false,
        }
    });
    if !found && !ctx.mock.lenient() {
        return Err(err500(format!("no such user ('{user}')")));
    }
    Ok(json!({"id": format!("totp-{}", &ticket::secret_hash(&secret)[..8])}))
}

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
                acl.insert(id, rec);
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
            old.iter().map(|p| p.to_string()).collect();
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
        let mut paths: Vec<String> = match &path {
            Some(p) => vec![roles::normalize_path(p)],
            None => {
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
                .map(|p| p.to_string())
                .collect();
                all.extend(
                    roles::acl_entries(s)
                        .into_iter()
                        .map(|e| roles::normalize_path(&e.path)),
                );
                all
            }
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
fn list_domains(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.mock.store().read(|s| {
        let mut out: Vec<Value> = BUILTIN_REALMS
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

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_are_sha512_crypt() {
        use super::super::hash_password;
        let h = hash_password("s3cret");
        assert!(h.starts_with("$6$"), "{h}");
        assert!(super::super::password_matches("s3cret", &h));
        assert!(!super::super::password_matches("other", &h));
        assert_ne!(h, hash_password("s3cret"), "salted");
    }
}
