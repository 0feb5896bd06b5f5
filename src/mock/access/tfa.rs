//! Second factors as PVE keeps them (`/etc/pve/priv/tfa.cfg`, managed by proxmox-tfa): per
//! user a list of entries (`totp`, `recovery`, `webauthn`, `u2f`, `yubico`), each with an
//! `id`, `description`, `created` and `enable`. A TOTP entry's secret and the unused
//! recovery keys (hashed) are kept beside the entry and never shown.

use serde_json::{json, Map, Value};

use super::totp_matches;
use crate::api::{ApiError, Method};
use crate::mock::computed::Computed;
use crate::mock::messages::err500;
use crate::mock::store::{MockState, Record};
use crate::mock::Ctx;

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/access/tfa", list_all),
    (Method::Get, "/access/tfa/{userid}", list_user),
    (Method::Post, "/access/tfa/{userid}", add),
    (Method::Get, "/access/tfa/{userid}/{id}", read_entry),
    (Method::Put, "/access/tfa/{userid}/{id}", update_entry),
    (Method::Delete, "/access/tfa/{userid}/{id}", delete_entry),
];

/// How many recovery keys proxmox-tfa makes.
const RECOVERY_KEYS: usize = 10;

/// The store's list of `user`'s entries.
pub fn list_key(user: &str) -> String {
    format!("access/tfa/{user}")
}

/// An entry as the API shows it.
fn shown(id: &str, rec: &Record) -> Value {
    let mut out = Map::new();
    out.insert("id".into(), json!(id));
    for k in ["type", "description", "created", "enable"] {
        if let Some(v) = rec.config.get(k) {
            out.insert(k.into(), v.clone());
        }
    }
    Value::Object(out)
}

fn entries_of(s: &MockState, user: &str) -> Vec<Value> {
    let Some(entries) = s.members.get(&list_key(user)) else {
        return Vec::new();
    };
    let mut listed: Vec<(&String, &Record)> = entries.iter().map(|(k, v)| (k, &**v)).collect();
    // In the order they were added, as tfa.cfg keeps them.
    listed.sort_by_key(|(_, r)| r.config.get("created").and_then(Value::as_u64));
    listed.into_iter().map(|(id, r)| shown(id, r)).collect()
}

/// `GET /access/tfa`: every user with second factors (the caller alone unless it may audit
/// users), with their entries.
fn list_all(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let caller = ctx.caller;
    Ok(ctx.mock.store().read(|s| {
        let all = caller.is_root()
            || caller.subject().is_some_and(|who| {
                super::check::has_any(s, &who, "/access/users", &["User.Modify", "Sys.Audit"])
            });
        let users: Vec<String> = s
            .members
            .keys()
            .filter_map(|k| k.strip_prefix("access/tfa/"))
            .filter(|u| !u.contains('/'))
            .filter(|u| all || caller.userid() == Some(*u))
            .map(str::to_string)
            .collect();
        Value::Array(
            users
                .iter()
                .map(|u| json!({"userid": u, "entries": entries_of(s, u)}))
                .filter(|v| v["entries"].as_array().is_some_and(|e| !e.is_empty()))
                .collect(),
        )
    }))
}

/// `GET /access/tfa/{userid}`: the user's entries (none for a user without any).
fn list_user(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let user = ctx.path_param("userid").unwrap_or_default();
    Ok(ctx.mock.store().read(|s| Value::Array(entries_of(s, user))))
}

fn no_such_entry(id: &str) -> ApiError {
    ApiError::new(404, format!("No such tfa entry '{id}'"))
}

/// `GET /access/tfa/{userid}/{id}`.
fn read_entry(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let user = ctx.path_param("userid").unwrap_or_default();
    let id = ctx.path_param("id").unwrap_or_default();
    ctx.mock.store().read(|s| {
        s.members
            .get(&list_key(user))
            .and_then(|m| m.get(id))
            .map(|r| shown(id, r))
            .ok_or_else(|| no_such_entry(id))
    })
}

/// `PUT /access/tfa/{userid}/{id}`: description and `enable`.
fn update_entry(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    confirm_password(ctx)?;
    let user = ctx.path_param("userid").unwrap_or_default().to_string();
    let id = ctx.path_param("id").unwrap_or_default().to_string();
    let description = ctx.text("description");
    let enable = ctx.params.get("enable").map(crate::mock::is_set);
    ctx.mock.store().write(|s| {
        let rec = s
            .members
            .get_mut(&list_key(&user))
            .and_then(|m| m.get_mut(&id))
            .ok_or_else(|| no_such_entry(&id))?;
        if let Some(d) = description {
            rec.config.insert("description".into(), json!(d));
        }
        if let Some(e) = enable {
            rec.config.insert("enable".into(), json!(i64::from(e)));
        }
        sync_login_secret(s, &user);
        Ok(Value::Null)
    })
}

/// `DELETE /access/tfa/{userid}/{id}`.
fn delete_entry(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    confirm_password(ctx)?;
    let user = ctx.path_param("userid").unwrap_or_default().to_string();
    let id = ctx.path_param("id").unwrap_or_default().to_string();
    ctx.mock.store().write(|s| {
        let key = list_key(&user);
        let removed = s.members.get_mut(&key).and_then(|m| m.remove(&id));
        if removed.is_none() {
            return Err(no_such_entry(&id));
        }
        if s.members.get(&key).is_some_and(|m| m.is_empty()) {
            s.members.remove(&key);
        }
        sync_login_secret(s, &user);
        Ok(Value::Null)
    })
}

/// PVE's `root_permission_check` of every TFA change: `root@pam` changes any user's second
/// factors as it is; anyone else confirms with their own `password` (`password is
/// required to modify TFA data`; a wrong one fails as the realm's `invalid credentials`).
fn confirm_password(ctx: &Ctx<'_>) -> Result<(), ApiError> {
    if ctx.caller.is_root() || ctx.mock.lenient() {
        return Ok(());
    }
    let Some(user) = ctx.caller.userid() else {
        return Ok(()); // no caller: the permission check refuses first
    };
    let Some(password) = ctx.text("password") else {
        return Err(ApiError::params([(
            "password",
            "password is required to modify TFA data",
        )]));
    };
    ctx.mock
        .check_password(user, &password)
        .map_err(|_| err500("invalid credentials"))
}

/// Keeps the user's login check in step with its enabled TOTP entries.
fn sync_login_secret(s: &mut MockState, user: &str) {
    let secret = s.members.get(&list_key(user)).and_then(|m| {
        m.values()
            .filter(|r| r.config.get("type").and_then(Value::as_str) == Some("totp"))
            .filter(|r| r.config.get("enable").and_then(Value::as_i64) != Some(0))
            .find_map(|r| r.meta.get("secret").cloned())
    });
    if let Some(u) = s
        .members
        .get_mut("access/users")
        .and_then(|m| m.get_mut(user))
    {
        match secret {
            Some(v) => u.meta.insert("totp_secret".into(), v),
            None => u.meta.remove("totp_secret"),
        };
    }
}

/// Uses one of `user`'s unused recovery keys; whether it was one.
pub fn use_recovery_key(s: &mut MockState, user: &str, key: &str) -> bool {
    let Some(rec) = s
        .members
        .get_mut(&list_key(user))
        .and_then(|m| m.get_mut("recovery"))
    else {
        return false;
    };
    let Some(Value::Array(keys)) = rec.meta.get_mut("keys") else {
        return false;
    };
    let hash = super::ticket::secret_hash(key.trim());
    let before = keys.len();
    keys.retain(|k| k.as_str() != Some(hash.as_str()));
    keys.len() < before
}

/// Whether `user` has recovery keys left (a second factor for the login).
pub fn has_recovery_keys(s: &MockState, user: &str) -> bool {
    s.members
        .get(&list_key(user))
        .and_then(|m| m.get("recovery"))
        .and_then(|r| r.meta.get("keys"))
        .and_then(Value::as_array)
        .is_some_and(|k| !k.is_empty())
}

fn recovery_key() -> String {
    let mut b = [0u8; 8];
    rand::fill(&mut b);
    b.chunks(2)
        .map(|c| format!("{:02x}{:02x}", c[0], c[1]))
        .collect::<Vec<_>>()
        .join("-")
}

/// `POST /access/tfa/{userid}`: a TOTP factor once the current code (`value`) proves the
/// secret (`totp=otpauth://...secret=...`), a set of recovery keys (answered once), or a
/// Yubico OTP key; WebAuthn and U2F answer their registration challenge.
fn add(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    confirm_password(ctx)?;
    let user = ctx.path_param("userid").unwrap_or_default().to_string();
    let kind = ctx.text("type").unwrap_or_default();
    let description = ctx.text("description").unwrap_or_default();
    let lenient = ctx.mock.lenient();
    let exists = ctx.mock.store().read(|s| {
        s.members
            .get("access/users")
            .is_some_and(|m| m.contains_key(&user))
    });
    if !exists && !lenient {
        return Err(err500(format!("no such user ('{user}')")));
    }
    let mut meta = Map::new();
    let (id, answer) = match kind.as_str() {
        "totp" => {
            let uri = ctx.text("totp").unwrap_or_default();
            let secret = uri
                .split_once('?')
                .map(|(_, q)| q)
                .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "secret"))
                .map(|(_, v)| v.into_owned())
                .ok_or_else(|| {
                    ApiError::params([("totp", "expected an otpauth:// URI with a secret")])
                })?;
            let code = ctx.text("value").unwrap_or_default();
            if !totp_matches(&secret, &code) {
                return Err(ApiError::new(400, "failed to verify TOTP challenge"));
            }
            meta.insert("secret".into(), json!(secret));
            let id = crate::mock::devices::random_uuid();
            (id.clone(), json!({ "id": id }))
        }
        "recovery" => {
            if ctx.mock.store().read(|s| {
                s.members
                    .get(&list_key(&user))
                    .is_some_and(|m| m.contains_key("recovery"))
            }) {
                return Err(ApiError::new(400, "user already has recovery keys"));
            }
            let keys: Vec<String> = (0..RECOVERY_KEYS).map(|_| recovery_key()).collect();
            // Kept hashed, as proxmox-tfa keeps them: the keys themselves are answered once.
            let hashed: Vec<String> = keys.iter().map(|k| super::ticket::secret_hash(k)).collect();
            meta.insert("keys".into(), json!(hashed));
            (
                "recovery".to_string(),
                json!({"id": "recovery", "recovery": keys}),
            )
        }
        "yubico" => {
            let id = crate::mock::devices::random_uuid();
            (id.clone(), json!({ "id": id }))
        }
        // WebAuthn and U2F: the first step answers the registration challenge.
        _ => return Ok(ctx.mock.answer(ctx)),
    };
    let description = if kind == "recovery" && description.is_empty() {
        "Recovery keys".to_string()
    } else {
        description
    };
    let now = ctx.mock.store().now();
    let mut config = Map::new();
    config.insert("type".into(), json!(kind));
    config.insert("description".into(), json!(description));
    config.insert("created".into(), json!(now));
    config.insert("enable".into(), json!(1));
    ctx.mock.store().write(|s| {
        s.members
            .entry(list_key(&user))
            .or_default()
            .insert(id, (Record { config, meta }).into());
        sync_login_secret(s, &user);
    });
    Ok(answer)
}
