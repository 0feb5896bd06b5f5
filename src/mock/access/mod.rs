//! Who is calling and what they may do: the one model of PVE's access control, used by
//! the in-process mock and the server alike. Users (enabled, expiry, `$6$` password
//! hashes as PVE keeps them for the `pve` realm), API tokens (hashed secrets, expiry,
//! privilege separation), TOTP second factors, tickets and CSRF tokens, roles and ACLs,
//! and every operation's `permissions` enforced from the schema ([`check`]).

pub mod acl;
pub mod check;
pub mod handlers;
pub mod products;
pub mod roles;
pub mod rust_acl;
pub mod tfa;
pub mod ticket;

use serde_json::{json, Value};

use super::messages::{authentication_failure, invalid_ticket, invalid_token};
use super::store::{MockState, Record};
use super::MockPve;
use crate::api::ApiError;
use roles::Subject;

/// The marker PVE puts in front of the user of a TFA challenge ticket.
pub const TFA_PREFIX: &str = "!tfa!";

/// Who makes a request, once authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// A user with a ticket (the in-process mock acts as `root@pam` unless told otherwise).
    User {
        /// `user@realm`.
        userid: String,
    },
    /// An API token.
    Token {
        /// `user@realm`.
        userid: String,
        /// The token's name.
        tokenid: String,
        /// Privilege-separated (its own ACL entries, within its user's privileges).
        privsep: bool,
    },
    /// Nobody: no ticket, no token.
    Anonymous,
}

impl Caller {
    /// `root@pam`, who may do anything.
    pub fn root() -> Caller {
        Caller::User {
            userid: "root@pam".into(),
        }
    }

    /// Whether this is `root@pam` (or a token of root without privilege separation).
    pub fn is_root(&self) -> bool {
        matches!(self, Caller::User { userid } if userid == "root@pam")
            || matches!(self, Caller::Token { userid, privsep: false, .. } if userid == "root@pam")
    }

    /// The user behind the caller.
    pub fn userid(&self) -> Option<&str> {
        match self {
            Caller::User { userid } | Caller::Token { userid, .. } => Some(userid),
            Caller::Anonymous => None,
        }
    }

    /// The id PVE shows for the caller (in task ids, logs): `user@realm` or
    /// `user@realm!token`.
    pub fn authid(&self) -> String {
        let mut out = String::new();
        self.push_authid(&mut out);
        out
    }

    /// Appends [`Caller::authid`] to `out` (no allocation of its own).
    pub fn push_authid(&self, out: &mut String) {
        match self {
            Caller::User { userid } => out.push_str(userid),
            Caller::Token {
                userid, tokenid, ..
            } => {
                out.push_str(userid);
                out.push('!');
                out.push_str(tokenid);
            }
            Caller::Anonymous => {}
        }
    }

    /// Who holds the privileges: the user, or a privilege-separated token itself.
    pub fn subject(&self) -> Option<Subject<'_>> {
        match self {
            Caller::User { userid } => Some(Subject::User(userid)),
            Caller::Token {
                userid,
                privsep: false,
                ..
            } => Some(Subject::User(userid)),
            Caller::Token {
                userid, tokenid, ..
            } => Some(Subject::Token {
                user: userid,
                full: format!("{userid}!{tokenid}"),
            }),
            Caller::Anonymous => None,
        }
    }
}

/// The state of a user account PVE checks on every login and request.
fn account_usable(s: &MockState, user: &str, now: u64) -> bool {
    let Some(rec) = s.members.get("access/users").and_then(|m| m.get(user)) else {
        return false;
    };
    let enabled = user_enabled(rec);
    let expire = rec.config.get("expire").and_then(as_u64).unwrap_or(0);
    enabled && (expire == 0 || expire > now)
}

/// `user`'s token `tokenid` if it may be used now, else the refusal of PVE's
/// `verify_token` (checked in its order: the user, the token, the token's expiry).
fn usable_token<'s>(
    s: &'s MockState,
    user: &str,
    tokenid: &str,
    now: u64,
) -> Result<&'s Record, ApiError> {
    let refuse = |text: String| Err(ApiError::new(401, text));
    let Some(account) = s.members.get("access/users").and_then(|m| m.get(user)) else {
        return refuse(format!("no such user ('{user}')"));
    };
    if !user_enabled(account) {
        return refuse(format!("user '{user}' is disabled"));
    }
    if !account_usable(s, user, now) {
        return refuse("account expired".into());
    }
    let Some(rec) = s
        .members
        .get(&format!("access/users/{user}/token"))
        .and_then(|m| m.get(tokenid))
    else {
        return refuse(format!("no such token '{tokenid}' for user '{user}'"));
    };
    let expire = rec.config.get("expire").and_then(as_u64).unwrap_or(0);
    if expire != 0 && expire < now {
        return refuse("token expired".into());
    }
    Ok(rec)
}

/// Whether a user's `enable` lets the account in (unset means enabled).
fn user_enabled(rec: &Record) -> bool {
    !matches!(rec.config.get("enable"), Some(v) if v == 0 || v == "0" || v == false)
}

fn as_u64(v: &Value) -> Option<u64> {
    v.as_u64().or_else(|| v.as_str()?.parse().ok())
}

/// A `$6$` (SHA-512 crypt) hash of `password` with a random salt, as PVE keeps passwords of
/// the `pve` realm (`/etc/pve/priv/shadow.cfg`).
pub fn hash_password(password: &str) -> String {
    use sha_crypt::PasswordHasher;
    let mut salt = [0u8; 12];
    rand::fill(&mut salt);
    sha_crypt::ShaCrypt::SHA512
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// A `$5$` (SHA-256 crypt) hash of `password`, as PVE keeps a guest's cloud-init password.
pub fn hash_password_sha256(password: &str) -> String {
    use sha_crypt::PasswordHasher;
    let mut salt = [0u8; 12];
    rand::fill(&mut salt);
    sha_crypt::ShaCrypt::SHA256
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// Whether `password` matches a `$6$`/`$5$` hash.
pub fn password_matches(password: &str, hash: &str) -> bool {
    use sha_crypt::PasswordVerifier;
    match sha_crypt::PasswordHashRef::new(hash) {
        Ok(h) => sha_crypt::ShaCrypt::default()
            .verify_password(password.as_bytes(), h)
            .is_ok(),
        Err(_) => false,
    }
}

/// Whether `code` is the current TOTP code (30 s steps, one step of skew) of a base32 secret.
pub fn totp_matches(secret: &str, code: &str) -> bool {
    let Ok(bytes) = totp_rs::Secret::Encoded(secret.to_string()).to_bytes() else {
        return false;
    };
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .check_current(code.trim())
        .unwrap_or(false)
}

impl MockPve {
    /// The caller a ticket stands for, with the ticket's issue time (for its CSRF token):
    /// PVE's `401 permission denied - invalid PVE ticket` when it is forged, expired,
    /// revoked, a TFA challenge, or its user is gone, disabled or expired.
    pub fn ticket_caller(&self, ticket: &str) -> Result<(Caller, u64), ApiError> {
        let store = self.store();
        let now = store.now();
        let (user, time) = store
            .signer
            .check_ticket(ticket, now, store.tickets_not_before())
            .map_err(|_| invalid_ticket())?;
        if user.starts_with(TFA_PREFIX) || !store.read(|s| account_usable(s, &user, now)) {
            return Err(invalid_ticket());
        }
        Ok((Caller::User { userid: user }, time))
    }

    /// Whether `caller` may still act (checked on every in-process call, as every HTTP
    /// request authenticates again): its user exists and is enabled and not expired; a
    /// token still exists and has not expired. PVE's 401s otherwise.
    pub fn caller_still_valid(&self, caller: &Caller) -> Result<(), ApiError> {
        let now = self.store().now();
        match caller {
            Caller::User { userid } if userid != "root@pam" => {
                if self.store().read(|s| account_usable(s, userid, now)) {
                    Ok(())
                } else {
                    Err(invalid_ticket())
                }
            }
            Caller::Token {
                userid, tokenid, ..
            } => self
                .store()
                .read(|s| usable_token(s, userid, tokenid, now).map(|_| ())),
            _ => Ok(()),
        }
    }

    /// Whether `csrf` is the CSRF token of the ticket `user` got at `time`.
    pub fn csrf_matches(&self, csrf: &str, user: &str, time: u64) -> bool {
        self.store().signer.check_csrf(csrf, user, time)
    }

    /// The caller an API token stands for, refused as PVE's `verify_token` refuses (its
    /// text is the 401's reason): `no such user ('u')`, `user 'u' is disabled`, `account
    /// expired`, `no such token 't' for user 'u'` (also once deleted), `token expired`, and
    /// `invalid token value!` for a wrong secret.
    pub fn token_caller(
        &self,
        user: &str,
        tokenid: &str,
        secret: &str,
    ) -> Result<Caller, ApiError> {
        let now = self.store().now();
        let privsep = self.store().read(|s| {
            let rec = usable_token(s, user, tokenid, now)?;
            if rec.meta.get("secret_hash").and_then(Value::as_str)
                != Some(ticket::secret_hash(secret).as_str())
            {
                return Err(invalid_token());
            }
            Ok(!matches!(rec.config.get("privsep"), Some(v) if v == 0 || v == "0"))
        })?;
        Ok(Caller::Token {
            userid: user.to_string(),
            tokenid: tokenid.to_string(),
            privsep,
        })
    }

    /// Logs in as `user` with `password` (and, for a user with TOTP, `otp`) without a
    /// ticket: how the in-process SDK acts as a given user. PVE's `401 authentication
    /// failure` otherwise.
    pub fn login_caller(
        &self,
        user: &str,
        password: &str,
        otp: Option<&str>,
    ) -> Result<Caller, ApiError> {
        self.check_password(user, password)?;
        let secret = self.user_secret(user, "totp_secret");
        if let Some(secret) = secret {
            let ok =
                otp.is_some_and(|code| totp_matches(&secret, code.trim_start_matches("totp:")));
            if !ok {
                return Err(authentication_failure());
            }
        }
        Ok(Caller::User {
            userid: user.to_string(),
        })
    }

    /// Checks a user's password (and that the account may log in).
    fn check_password(&self, user: &str, password: &str) -> Result<(), ApiError> {
        let now = self.store().now();
        let hash = self.store().read(|s| {
            account_usable(s, user, now)
                .then(|| {
                    s.members
                        .get("access/users")
                        .and_then(|m| m.get(user))
                        .and_then(|r| r.meta.get("password_hash"))
                        .and_then(Value::as_str)
                        .map(str::to_string)
                })
                .flatten()
        });
        // Hashing happens outside the store's lock: it takes milliseconds.
        match hash {
            Some(h) if password_matches(password, &h) => Ok(()),
            _ => Err(authentication_failure()),
        }
    }

    /// A secret kept beside a user (`totp_secret`).
    fn user_secret(&self, user: &str, key: &str) -> Option<String> {
        self.store().read(|s| {
            s.members
                .get("access/users")?
                .get(user)?
                .meta
                .get(key)?
                .as_str()
                .map(str::to_string)
        })
    }

    /// Sets a user's password (the user must exist; `root@pam` always does).
    pub fn set_password(&self, user: &str, password: &str) -> Result<(), ApiError> {
        let hash = hash_password(password);
        let found = self.store().write(|s| {
            match s
                .members
                .get_mut("access/users")
                .and_then(|m| m.get_mut(user))
            {
                Some(r) => {
                    r.meta.insert("password_hash".into(), json!(hash));
                    true
                }
                None => false,
            }
        });
        if found {
            Ok(())
        } else {
            Err(super::messages::err500(format!("no such user ('{user}')")))
        }
    }

    /// A full login answer for `user`: ticket, CSRF token and PVE's `cap`.
    pub(crate) fn full_login(&self, user: &str) -> Value {
        let store = self.store();
        let time = store.now().max(store.tickets_not_before());
        let mut login = json!({
            "username": user,
            "ticket": store.signer.ticket(user, time),
            "CSRFPreventionToken": store.signer.csrf(user, time),
        });
        // PVE (and PMG, with its role) tell the GUI what the user may do; PBS and PDM
        // answer just the ticket.
        match store.product() {
            crate::schema::Product::Pve => {
                login["cap"] = store.read(|s| handlers::capabilities(s, user));
            }
            crate::schema::Product::Pmg => {
                login["role"] = Value::from(store.read(|s| roles::pmg_role(s, user)));
            }
            _ => {}
        }
        login
    }
}

/// Whether `id` is a member of collection `list` that PVE has built in rather than stored:
/// the realms `pam` and `pve` (`pbs`, `pmg`, `pdm`), and the special roles.
pub fn is_builtin_member(s: &MockState, list: &str, id: &str) -> bool {
    match list {
        "access/domains" => handlers::builtin_realms_of(s.product)
            .iter()
            .any(|(realm, _, _)| *realm == id),
        "access/roles" => roles::builtin_roles_of(s.product).contains_key(id),
        _ => false,
    }
}
