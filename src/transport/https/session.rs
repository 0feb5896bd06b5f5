//! Ticket authentication: lazy login (with PVE's two-step TFA), the session shared by
//! every request, proactive renewal before the ticket's two hours are up (the ticket posted
//! as the password), and a fresh login when PVE refuses the ticket.

use std::sync::Arc;
use std::time::Instant;

use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;

use super::answer::{read_answer, transport_error};
use super::{HttpsAuth, HttpsTransport, LOG};
use crate::api::{Call, Error, Method};

/// A logged-in session, with the headers every request sends made once (`None`: the
/// server sent a value no header can carry, refused when a request would send it).
pub(super) struct Session {
    pub(super) ticket: String,
    pub(super) csrf: String,
    pub(super) obtained: Instant,
    /// `Cookie: <cookie name>=<ticket>` (PVE expects the ticket unquoted).
    pub(super) cookie_header: Option<HeaderValue>,
    /// `CSRFPreventionToken` of writes.
    pub(super) csrf_header: Option<HeaderValue>,
}

/// A header value marked sensitive (never shown by reqwest's or hyper's `Debug`).
pub(super) fn secret_header(value: &str) -> Option<HeaderValue> {
    let mut v = HeaderValue::from_str(value).ok()?;
    v.set_sensitive(true);
    Some(v)
}

impl HttpsTransport {
    /// `(ticket, CSRFPreventionToken)`, logging in if needed; `None` with token auth.
    pub async fn tokens(&self) -> Result<Option<(String, String)>, Error> {
        if matches!(
            self.config.auth,
            HttpsAuth::Token { .. } | HttpsAuth::PassThrough
        ) {
            return Ok(None);
        }
        let s = self.session(false).await?;
        Ok(Some((s.ticket.clone(), s.csrf.clone())))
    }

    /// Forgets the session (the next call logs in again).
    pub fn logout(&self) {
        *self.session.write() = None;
    }

    /// The current session: cached, renewed after `renew_after`, or a fresh login.
    pub(super) async fn session(&self, force_login: bool) -> Result<Arc<Session>, Error> {
        let stale = |s: &Session| s.obtained.elapsed() >= self.config.renew_after;
        if !force_login {
            if let Some(s) = self.session.read().clone() {
                if !stale(&s) {
                    return Ok(s);
                }
            }
        }
        let _guard = self.login_lock.lock().await;
        let current = self.session.read().clone();
        if let Some(s) = &current {
            if !force_login && !stale(s) {
                // Another task logged in while this one waited.
                return Ok(s.clone());
            }
        }
        let renewed = match (&current, force_login) {
            (Some(s), false) => match self.renew(s).await {
                Ok(s) => {
                    log::info!(target: LOG, "renewed the ticket of {} at {}", self.user(), self.config.base_url);
                    Some(s)
                }
                Err(e) => {
                    log::warn!(target: LOG, "renewing the ticket of {} failed ({e}); logging in again", self.user());
                    None
                }
            },
            _ => None,
        };
        let session = Arc::new(match renewed {
            Some(s) => s,
            None => self.login().await?,
        });
        *self.session.write() = Some(session.clone());
        Ok(session)
    }

    /// Renews a ticket by posting it as the password.
    async fn renew(&self, s: &Session) -> Result<Session, Error> {
        let HttpsAuth::Password { user, .. } = &self.config.auth else {
            unreachable!("sessions exist only with password auth")
        };
        let form = [("username", user.as_str()), ("password", s.ticket.as_str())];
        let data = self.post_ticket(&form).await?;
        self.session_from(&data, user)
    }

    async fn login(&self) -> Result<Session, Error> {
        let HttpsAuth::Password {
            user,
            password,
            otp,
            otptype,
            ..
        } = &self.config.auth
        else {
            unreachable!("sessions exist only with password auth")
        };
        let form = [("username", user.as_str()), ("password", password.as_str())];
        let data = self.post_ticket(&form).await.inspect_err(|e| {
            log::warn!(target: LOG, "login to {} as {user} failed: {e}", self.config.base_url);
        })?;
        let needs_tfa = data.get("NeedTFA").is_some_and(|v| match v {
            Value::Number(n) => n.as_i64() != Some(0),
            Value::Bool(b) => *b,
            Value::String(s) => s != "0" && !s.is_empty(),
            _ => false,
        });
        if !needs_tfa {
            log::info!(target: LOG, "logged in to {} as {user}", self.config.base_url);
            return self.session_from(&data, user);
        }
        let Some(otp) = otp else {
            return Err(Error::Auth(format!(
                "login for {user} needs a second factor: pass otp= (and otptype=, now '{otptype}')"
            )));
        };
        let challenge = data
            .get("ticket")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let response = format!("{otptype}:{otp}");
        let form = [
            ("username", user.as_str()),
            ("tfa-challenge", challenge.as_str()),
            ("password", response.as_str()),
        ];
        let data = self.post_ticket(&form).await.inspect_err(|e| {
            log::warn!(target: LOG, "second factor ({otptype}) for {user} at {} refused: {e}", self.config.base_url);
        })?;
        log::info!(target: LOG, "logged in to {} as {user} (second factor: {otptype})", self.config.base_url);
        self.session_from(&data, user)
    }

    /// The user of ticket authentication (empty with a token).
    pub(super) fn user(&self) -> &str {
        match &self.config.auth {
            HttpsAuth::Password { user, .. } => user,
            HttpsAuth::Token { .. } | HttpsAuth::PassThrough => "",
        }
    }

    async fn post_ticket(&self, form: &[(&str, &str)]) -> Result<Value, Error> {
        const TICKET: &str = "/api2/json/access/ticket";
        let login_failed = |e| match e {
            e @ (Error::Timeout(_) | Error::Connection(_) | Error::Tls(_)) => {
                Error::Login(Box::new(e))
            }
            other => Error::Auth(format!("login: {other}")),
        };
        // On the lean path where requests take it, so that one pool serves the login too.
        let answer = if let (Some(driver), Some(url)) = (&self.driver, self.parsed_url(TICKET)) {
            let pairs: Vec<(String, String)> = form
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect();
            let call = Call::new(Method::Post, TICKET, serde_json::Map::new());
            let none = [None, None];
            self.send_lean(
                driver,
                &url,
                &call,
                &none,
                &HeaderMap::new(),
                &pairs,
                "login",
            )
            .await
            .map_err(login_failed)?
        } else {
            let resp = self
                .client
                .post(self.url(TICKET))
                .form(form)
                .send()
                .await
                .map_err(|e| Error::Login(Box::new(transport_error(&e, "login"))))?;
            read_answer(resp, None).await.map_err(login_failed)?
        };
        if (300..400).contains(&answer.status) {
            return Err(Error::Redirect {
                status: answer.status,
                location: answer.location,
            });
        }
        if answer.status != 200 {
            let user = form.first().map(|(_, u)| *u).unwrap_or_default();
            return Err(Error::Auth(format!(
                "login failed for {user}: {} {}",
                answer.status, answer.reason
            )));
        }
        Ok(answer.body.get("data").cloned().unwrap_or(Value::Null))
    }

    /// The session a login or renewal answered with, its headers made.
    fn session_from(&self, data: &Value, user: &str) -> Result<Session, Error> {
        let HttpsAuth::Password { cookie, .. } = &self.config.auth else {
            unreachable!("sessions exist only with password auth")
        };
        let ticket = data.get("ticket").and_then(Value::as_str);
        let csrf = data.get("CSRFPreventionToken").and_then(Value::as_str);
        match (ticket, csrf) {
            (Some(t), Some(c)) => Ok(Session {
                ticket: t.to_string(),
                csrf: c.to_string(),
                obtained: Instant::now(),
                cookie_header: secret_header(&format!("{cookie}={t}")),
                csrf_header: secret_header(c),
            }),
            _ => Err(Error::Auth(format!(
                "login for {user}: the answer has no ticket and CSRFPreventionToken"
            ))),
        }
    }
}
