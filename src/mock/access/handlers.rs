//! The `/access` endpoints of accounts whose answers PVE computes: login and renewal,
//! users (their realm, groups and hashed password), passwords, API tokens and TOTP.
//! Users, groups and the rest of `/access` are otherwise plain collections (see
//! [`crate::mock::collections`]); ACLs, roles and realms are in [`super::acl`].

use serde_json::{json, Map, Value};

use super::roles::{self, privileges, Subject};
use super::{ticket, totp_matches, TFA_PREFIX};
use crate::api::{ApiError, Method};
use crate::mock::computed::Computed;
use crate::mock::messages::{authentication_failure, err500};
use crate::mock::store::{MockState, Record};
use crate::mock::{writes, Ctx};

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Post, "/access/ticket", login),
    (Method::Post, "/access/users", create_user),
    (Method::Get, "/access/users/{userid}", read_user),
    (Method::Delete, "/access/users/{userid}", delete_user),
    (Method::Put, "/access/password", change_password),
    (
        Method::Post,
        "/access/users/{userid}/token/{tokenid}",
        create_token,
    ),
    // PBS and PDM name the token's path parameter `token-name`.
    (
        Method::Post,
        "/access/users/{userid}/token/{token-name}",
        create_token,
    ),
    (
        Method::Delete,
        "/access/users/{userid}/token/{tokenid}",
        delete_token,
    ),
    (
        Method::Delete,
        "/access/users/{userid}/token/{token-name}",
        delete_token,
    ),
];

/// PVE's built-in realms.
pub(super) const BUILTIN_REALMS: &[(&str, &str, &str)] = &[
    ("pam", "pam", "Linux PAM standard authentication"),
    ("pve", "pve", "Proxmox VE authentication server"),
];

/// The built-in realms of the other products (`pam` and their own).
pub(crate) fn builtin_realms_of(
    product: crate::schema::Product,
) -> &'static [(&'static str, &'static str, &'static str)] {
    use crate::schema::Product;
    match product {
        Product::Pve => BUILTIN_REALMS,
        Product::Pbs => &[
            ("pam", "pam", "Linux PAM standard authentication"),
            ("pbs", "pbs", "Proxmox Backup authentication server"),
        ],
        Product::Pmg => &[
            ("pam", "pam", "Linux PAM standard authentication"),
            ("pmg", "pmg", "Proxmox Mail Gateway authentication server"),
        ],
        Product::Pdm => &[
            ("pam", "pam", "Linux PAM standard authentication"),
            (
                "pdm",
                "pdm",
                "Proxmox Datacenter Manager authentication server",
            ),
        ],
    }
}

/// Whether `realm` exists (built-in, or created through `/access/domains`).
pub(super) fn realm_exists(s: &MockState, realm: &str) -> bool {
    builtin_realms_of(s.product)
        .iter()
        .any(|(r, _, _)| *r == realm)
        || s.members
            .get("access/domains")
            .is_some_and(|m| m.contains_key(realm))
}

pub(super) fn user_exists(s: &MockState, user: &str) -> bool {
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
        // `totp:<code>`, or `recovery:<key>` (each key works once).
        let ok = if let Some(code) = password.strip_prefix("totp:") {
            mock.user_secret(&user, "totp_secret")
                .is_some_and(|s| totp_matches(&s, code))
        } else if let Some(key) = password.strip_prefix("recovery:") {
            store.write(|s| super::tfa::use_recovery_key(s, &user, key))
        } else {
            false
        };
        if !ok {
            return Err(authentication_failure());
        }
        return Ok(mock.full_login(&user));
    }
    if password.starts_with(&format!("{}:", store.product().ticket_prefix())) {
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
    // user.cfg always holds `enable` and `expire` (PVE's defaults 1 and 0).
    ctx.mock.store().write(|s| {
        if let Some(rec) = s
            .members
            .get_mut("access/users")
            .and_then(|m| m.get_mut(&userid))
        {
            rec.config.entry("enable").or_insert(json!(1));
            rec.config.entry("expire").or_insert(json!(0));
        }
    });
    if let Some(pw) = ctx.text("password").filter(|p| !p.is_empty()) {
        ctx.mock.set_password(&userid, &pw)?;
    }
    Ok(answer)
}

/// `GET /access/users/{userid}`: the user.cfg entry, `groups` as a list and the user's
/// API tokens (PVE's `read_user`).
fn read_user(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let user = ctx.path_param("userid").unwrap_or_default();
    let mut v = crate::mock::reads::read(ctx).into_value();
    let Value::Object(obj) = &mut v else {
        return Ok(v);
    };
    if let Some(Value::String(g)) = obj.get("groups") {
        let list: Vec<Value> = crate::schema::formats::split_list(g)
            .into_iter()
            .map(Value::from)
            .collect();
        obj.insert("groups".into(), Value::Array(list));
    }
    let tokens = ctx.mock.store().read(|s| {
        s.members
            .get(&format!("access/users/{user}/token"))
            .map(|m| {
                m.iter()
                    .map(|(id, r)| (id.clone(), Value::Object(r.config.clone())))
                    .collect::<Map<String, Value>>()
            })
            .filter(|m| !m.is_empty())
    });
    if let Some(t) = tokens {
        obj.insert("tokens".into(), Value::Object(t));
    }
    Ok(v)
}

/// The rows of `GET /access/users` as PVE's `index` makes them: the realm's type, and no
/// `groups` for a user in none.
pub fn patch_user_rows(s: &MockState, rows: &mut [Value]) {
    for row in rows {
        let Value::Object(obj) = row else { continue };
        let Some(userid) = obj
            .get("userid")
            .and_then(Value::as_str)
            .map(str::to_string)
        else {
            continue;
        };
        let realm = userid.rsplit_once('@').map_or("", |(_, r)| r);
        let kind = builtin_realms_of(s.product)
            .iter()
            .find(|(r, _, _)| *r == realm)
            .map(|(_, k, _)| (*k).to_string())
            .or_else(|| {
                s.members
                    .get("access/domains")
                    .and_then(|m| m.get(realm))
                    .and_then(|r| r.config.get("type"))
                    .and_then(Value::as_str)
                    .map(str::to_string)
            });
        if let Some(kind) = kind {
            obj.insert("realm-type".into(), json!(kind));
        }
        let stored = s
            .members
            .get("access/users")
            .and_then(|m| m.get(&userid))
            .is_some_and(|r| r.config.contains_key("groups"));
        if !stored {
            obj.remove("groups");
        }
    }
}

/// `DELETE /access/users/{userid}`: PVE also drops the user's tokens, second factors and
/// ACL entries.
fn delete_user(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let user = ctx.path_param("userid").unwrap_or_default().to_string();
    let answer = writes::destroy(ctx)?;
    ctx.mock.store().write(|s| {
        s.members.remove(&format!("access/users/{user}/token"));
        s.members.remove(&super::tfa::list_key(&user));
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

/// The user and token id of a token's path (PBS and PDM call the id `token-name`).
fn token_path(ctx: &Ctx<'_>) -> (String, String) {
    let user = ctx.path_param("userid").unwrap_or_default().to_string();
    let id = ctx
        .path_param("tokenid")
        .or_else(|| ctx.path_param("token-name"))
        .unwrap_or_default()
        .to_string();
    (user, id)
}

/// `POST /access/users/{userid}/token/{tokenid}`: the secret is answered once and only its
/// hash is kept.
fn create_token(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let (user, id) = token_path(ctx);
    let rust = ctx.mock.schema().product().is_rust();
    let lenient = ctx.mock.lenient();
    if !lenient && !ctx.mock.store().read(|s| user_exists(s, &user)) {
        return Err(err500(format!("no such user ('{user}')")));
    }
    let secret = super::super::devices::random_uuid();
    // PBS and PDM tokens are always privilege-separated.
    let privsep = rust
        || !ctx
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
        tokens.insert(id.clone(), rec.into());
        false
    });
    if duplicate {
        return Err(err500("Token already exists."));
    }
    if rust {
        return Ok(json!({"tokenid": format!("{user}!{id}"), "value": secret}));
    }
    let mut info = json!({"privsep": u8::from(privsep), "expire": expire});
    if let Some(c) = comment {
        info["comment"] = c;
    }
    Ok(json!({"full-tokenid": format!("{user}!{id}"), "info": info, "value": secret}))
}

/// `DELETE /access/users/{userid}/token/{tokenid}`: the token stops authenticating at
/// once (PVE's `delete_token`: `no such token 'x' for user 'y'` for one that is not there).
fn delete_token(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let (user, id) = token_path(ctx);
    let lenient = ctx.mock.lenient();
    let removed = ctx.mock.store().write(|s| {
        if !lenient && !user_exists(s, &user) {
            return Err(err500(format!("no such user ('{user}')")));
        }
        let list = format!("access/users/{user}/token");
        let gone = s
            .members
            .get_mut(&list)
            .and_then(|tokens| tokens.remove(&id))
            .is_some();
        s.drop_overrides_below(&format!("{list}/{id}"));
        Ok(gone)
    })?;
    if !removed && !lenient {
        return Err(err500(format!("no such token '{id}' for user '{user}'")));
    }
    Ok(Value::Null)
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
