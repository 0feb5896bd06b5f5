//! Real mode: every API request is validated against the schema, forwarded to a real PVE
//! (keeping the `/api2/json` prefix) with the server's own credentials, and its answer is
//! checked against the operation's `returns` schema; mismatches are logged, counted and
//! reported in a header, or turned into 502 in strict mode.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{Method, StatusCode};
use parking_lot::RwLock;
use serde_json::{Map, Value};

use crate::client::ApiError;
use crate::tls::{pinned_client_config, Fingerprint};

/// How to reach and authenticate to the real PVE.
#[derive(Clone)]
pub struct UpstreamConfig {
    /// Base URL, for example `https://pve1:8006`.
    pub url: String,
    /// Path prefix in front of `/api2/json` (a reverse proxy's), usually empty.
    pub path_prefix: String,
    /// `user@realm!tokenid` of an API token.
    pub token_id: Option<String>,
    /// The token's secret.
    pub token_secret: Option<String>,
    /// `user@realm` for ticket login.
    pub username: Option<String>,
    /// Password for ticket login.
    pub password: Option<String>,
    /// Verify the upstream certificate against the system's CAs.
    pub verify_ssl: bool,
    /// Pin the upstream certificate instead (SHA-256).
    pub fingerprint: Option<Fingerprint>,
    /// Total time for one upstream request.
    pub timeout: Duration,
    /// Time to connect.
    pub connect_timeout: Duration,
    /// Turn a response that does not match its schema into 502.
    pub strict: bool,
    /// Retries of GET requests on 502/503/504 and connection errors.
    pub retries: u32,
    /// First retry delay; doubles each time, capped at 30 s.
    pub retry_backoff: Duration,
}

impl std::fmt::Debug for UpstreamConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamConfig")
            .field("url", &self.url)
            .field("path_prefix", &self.path_prefix)
            .field("token_id", &self.token_id)
            .field(
                "token_secret",
                &self.token_secret.as_ref().map(|_| "<redacted>"),
            )
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("verify_ssl", &self.verify_ssl)
            .field("fingerprint", &self.fingerprint)
            .field("strict", &self.strict)
            .finish()
    }
}

/// A logged-in session: ticket and CSRF token (never logged).
#[derive(Clone)]
struct Session {
    ticket: String,
    csrf: String,
}

/// The upstream PVE and the client that talks to it.
pub struct Upstream {
    config: UpstreamConfig,
    client: reqwest::Client,
    session: RwLock<Option<Session>>,
    /// Responses that did not match their schema.
    pub mismatches: AtomicU64,
    /// Requests forwarded.
    pub forwarded: AtomicU64,
}

/// What the real PVE answered.
pub struct Forwarded {
    /// Status.
    pub status: u16,
    /// Reason phrase (PVE's message for errors).
    pub reason: String,
    /// Parsed body (`{"data": ...}` for successes).
    pub body: Value,
}

impl Upstream {
    /// Builds the HTTPS client for `config`.
    pub fn new(config: UpstreamConfig) -> Result<Upstream, String> {
        crate::tls::install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .timeout(config.timeout)
            .connect_timeout(config.connect_timeout)
            .redirect(reqwest::redirect::Policy::none());
        if let Some(fp) = config.fingerprint {
            builder = builder.use_preconfigured_tls(pinned_client_config(fp));
        } else if !config.verify_ssl {
            builder = builder.tls_danger_accept_invalid_certs(true);
        }
        if config.token_id.is_none() && (config.username.is_none() || config.password.is_none()) {
            return Err(
                "real mode needs PROXMOX_API_TOKEN_ID and PROXMOX_API_TOKEN_SECRET, or PROXMOX_API_USERNAME and PROXMOX_API_PASSWORD"
                    .into(),
            );
        }
        let client = builder.build().map_err(|e| e.to_string())?;
        Ok(Upstream {
            config,
            client,
            session: RwLock::new(None),
            mismatches: AtomicU64::new(0),
            forwarded: AtomicU64::new(0),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &UpstreamConfig {
        &self.config
    }

    fn url(&self, rel: &str) -> String {
        format!(
            "{}{}/api2/json/{}",
            self.config.url.trim_end_matches('/'),
            self.config.path_prefix.trim_end_matches('/'),
            rel
        )
    }

    async fn login(&self) -> Result<Session, ApiError> {
        let (Some(user), Some(password)) = (&self.config.username, &self.config.password) else {
            return Err(ApiError::new(500, "no upstream credentials"));
        };
        let resp = self
            .client
            .post(self.url("access/ticket"))
            .form(&[("username", user.as_str()), ("password", password.as_str())])
            .send()
            .await
            .map_err(|e| transport_error(&e))?;
        if !resp.status().is_success() {
            return Err(ApiError::new(
                resp.status().as_u16(),
                format!("upstream login failed: {}", reason_of(&resp)),
            ));
        }
        let body: Value = resp
            .json()
            .await
            .map_err(|e| ApiError::new(502, format!("upstream login: {e}")))?;
        let data = &body["data"];
        let session = Session {
            ticket: data["ticket"].as_str().unwrap_or_default().to_string(),
            csrf: data["CSRFPreventionToken"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        };
        *self.session.write() = Some(session.clone());
        Ok(session)
    }

    /// Forwards one request; a 401 with a ticket triggers one fresh login and one replay.
    pub async fn forward(
        &self,
        method: &Method,
        rel: &str,
        params: &Map<String, Value>,
    ) -> Result<Forwarded, ApiError> {
        self.forwarded.fetch_add(1, Ordering::Relaxed);
        let retries = if *method == Method::GET {
            self.config.retries
        } else {
            0
        };
        let mut attempt = 0;
        loop {
            let result = match self.send(method, rel, params, false).await {
                Ok(f) if f.status == 401 && self.config.token_id.is_none() => {
                    // An expired or revoked ticket: one fresh login and one replay.
                    self.send(method, rel, params, true).await
                }
                other => other,
            };
            let retryable = match &result {
                Ok(f) => matches!(f.status, 502..=504),
                Err(e) => matches!(e.status, 504 | 595 | 599),
            };
            if !retryable || attempt >= retries {
                return result;
            }
            attempt += 1;
            let delay = self.config.retry_backoff.as_secs_f64() * 2f64.powi(attempt as i32 - 1);
            tokio::time::sleep(Duration::from_secs_f64(delay.min(30.0))).await;
        }
    }

    async fn send(
        &self,
        method: &Method,
        rel: &str,
        params: &Map<String, Value>,
        relogin: bool,
    ) -> Result<Forwarded, ApiError> {
        let pairs = form_pairs(params);
        let url = self.url(rel);
        let reqwest_method = reqwest::Method::from_bytes(method.as_str().as_bytes())
            .map_err(|_| ApiError::new(501, format!("Method '{method}' not implemented")))?;
        let mut req = self.client.request(reqwest_method, url);
        req = if matches!(*method, Method::GET | Method::DELETE) {
            req.query(&pairs)
        } else {
            req.form(&pairs)
        };
        if let (Some(id), Some(secret)) = (&self.config.token_id, &self.config.token_secret) {
            req = req.header("Authorization", format!("PVEAPIToken={id}={secret}"));
        } else {
            let cached = if relogin {
                None
            } else {
                self.session.read().clone()
            };
            let session = match cached {
                Some(s) => s,
                None => self.login().await?,
            };
            req = req.header("Cookie", format!("PVEAuthCookie={}", session.ticket));
            if *method != Method::GET {
                req = req.header("CSRFPreventionToken", session.csrf);
            }
        }
        let resp = req.send().await.map_err(|e| transport_error(&e))?;
        let status = resp.status().as_u16();
        let reason = reason_of(&resp);
        let bytes = resp
            .bytes()
            .await
            .map_err(|e| ApiError::new(597, format!("upstream body: {e}")))?;
        let body = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok(Forwarded {
            status,
            reason,
            body,
        })
    }
}

/// Query/form pairs: lists as repeated keys, booleans as 0/1.
fn form_pairs(params: &Map<String, Value>) -> Vec<(String, String)> {
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => u8::from(*b).to_string(),
        other => other.to_string(),
    };
    let mut out = Vec::with_capacity(params.len());
    for (k, v) in params {
        match v {
            Value::Null => {}
            Value::Array(items) => out.extend(items.iter().map(|i| (k.clone(), text(i)))),
            other => out.push((k.clone(), text(other))),
        }
    }
    out
}

fn reason_of(resp: &reqwest::Response) -> String {
    resp.extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
        .or_else(|| resp.status().canonical_reason().map(str::to_string))
        .unwrap_or_default()
}

/// PVE's proxy statuses for transport failures: 595 when no connection could be made,
/// 596 for TLS or request errors, 599 otherwise.
fn transport_error(e: &reqwest::Error) -> ApiError {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    let status = if e.is_timeout() {
        StatusCode::GATEWAY_TIMEOUT.as_u16()
    } else if e.is_connect() {
        if text.contains("certificate") || text.contains("tls") || text.contains("TLS") {
            596
        } else {
            595
        }
    } else if e.is_request() {
        596
    } else {
        599
    };
    ApiError::new(status, format!("upstream: {text}"))
}
