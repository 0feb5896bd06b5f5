//! Real mode: every API request is validated against the schema, forwarded to a real PVE
//! (keeping the `/api2/json` prefix) and its answer is checked against the operation's
//! `returns` schema; mismatches are logged, counted and reported in a header, or turned
//! into 502 in strict mode.
//!
//! Whose credentials: by default the client's own ([`ProxyCredentials::PassThrough`]):
//! its ticket cookie, CSRF token or API token go to PVE, which decides, and logins are
//! forwarded too. Only with `PROXMOX_API_PROXY_CREDENTIALS=own` are the proxy's own
//! credentials used, and then every client must present the proxy token.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::http::{header, HeaderMap, Method, StatusCode};
use serde_json::{Map, Value};

use crate::api::Call;
use crate::api::{ApiError, Error};
use crate::tls::Fingerprint;
use crate::transport::https::{HttpsAuth, HttpsConfig, HttpsTransport};

/// Whose credentials the forwarded requests carry.
#[derive(Clone, PartialEq, Eq)]
pub enum ProxyCredentials {
    /// The client's own (cookie, CSRF token, API token); PVE decides.
    PassThrough,
    /// The proxy's own (token or password below); clients must present `token` as
    /// `Authorization: Bearer <token>`, or as the secret of a product token header.
    Own {
        /// The proxy token clients present.
        token: String,
    },
}

impl std::fmt::Debug for ProxyCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ProxyCredentials::PassThrough => f.write_str("PassThrough"),
            ProxyCredentials::Own { .. } => f.write_str("Own { token: <redacted> }"),
        }
    }
}

/// How to reach and authenticate to the real PVE.
#[derive(Clone)]
pub struct UpstreamConfig {
    /// Whose credentials go upstream.
    pub credentials: ProxyCredentials,
    /// The product behind `url` (its token header and ticket cookie).
    pub service: crate::schema::Product,
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
            .field("credentials", &self.credentials)
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

/// The upstream PVE and the HTTPS transport that talks to it.
pub struct Upstream {
    config: UpstreamConfig,
    transport: HttpsTransport,
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
    /// Builds the HTTPS transport for `config` (the SDK's, with token or ticket auth,
    /// pinning, retries of reads and one re-login and replay on an expired ticket).
    pub fn new(config: UpstreamConfig) -> Result<Upstream, String> {
        let own = matches!(config.credentials, ProxyCredentials::Own { .. });
        let auth = match (&config.token_id, &config.token_secret, &config.username, &config.password) {
            _ if !own => HttpsAuth::PassThrough,
            (Some(id), Some(secret), _, _) => {
                let Some((scheme, sep)) = config.service.token_scheme() else {
                    return Err(format!(
                        "{} has no API tokens: use PROXMOX_API_USERNAME and PROXMOX_API_PASSWORD",
                        config.service
                    ));
                };
                HttpsAuth::Token {
                    id_part: format!("{scheme}={id}{sep}"),
                    secret: secret.clone(),
                }
            }
            (_, _, Some(user), Some(password)) => HttpsAuth::Password {
                user: user.clone(),
                password: password.clone(),
                otp: None,
                otptype: "totp".into(),
                cookie: config.service.auth_cookie().into(),
            },
            _ => {
                return Err(
                    "PROXMOX_API_PROXY_CREDENTIALS=own needs PROXMOX_API_TOKEN_ID and PROXMOX_API_TOKEN_SECRET, or PROXMOX_API_USERNAME and PROXMOX_API_PASSWORD"
                        .into(),
                )
            }
        };
        let mut https = HttpsConfig::new(config.url.clone(), auth);
        https.path_prefix.clone_from(&config.path_prefix);
        https.verify_ssl = config.verify_ssl;
        https.fingerprint = config.fingerprint;
        https.timeout = Some(config.timeout);
        https.connect_timeout = Some(config.connect_timeout);
        https.max_retries = config.retries;
        https.retry_backoff = config.retry_backoff;
        let transport = HttpsTransport::new(https)?;
        Ok(Upstream {
            config,
            transport,
            mismatches: AtomicU64::new(0),
            forwarded: AtomicU64::new(0),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &UpstreamConfig {
        &self.config
    }

    /// Whether a client's headers admit it: always when passing credentials through
    /// (PVE decides), else only with the proxy token.
    pub fn admits(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let ProxyCredentials::Own { token } = &self.config.credentials else {
            return Ok(());
        };
        let candidate = match super::auth::bearer(headers) {
            Some(bearer) => Some(bearer.to_string()),
            None => headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| super::auth::parse_token_header_of(self.config.service, v.trim()))
                .map(|t| t.secret),
        };
        match candidate {
            Some(c) if super::auth::same_secret(&c, token) => Ok(()),
            _ => Err(ApiError::new(401, "proxy token required")),
        }
    }

    /// Forwards one request (`rel` is the path below `/api2/json/`), with the client's
    /// credentials from `headers` when passing them through.
    pub async fn forward(
        &self,
        method: &Method,
        rel: &str,
        params: &Map<String, Value>,
        headers: &HeaderMap,
    ) -> Result<Forwarded, ApiError> {
        self.forwarded.fetch_add(1, Ordering::Relaxed);
        let Some(m) = super::api::api_method(method) else {
            return Err(ApiError::new(
                501,
                format!("Method '{method} /{rel}' not implemented"),
            ));
        };
        let call = Call::new(m, format!("/api2/json/{rel}"), params.clone());
        let mut passed = HeaderMap::new();
        if self.config.credentials == ProxyCredentials::PassThrough {
            for name in [header::COOKIE, header::AUTHORIZATION] {
                if let Some(v) = headers.get(&name) {
                    passed.insert(name, v.clone());
                }
            }
            if let Some(v) = headers.get("CSRFPreventionToken") {
                passed.insert("CSRFPreventionToken", v.clone());
            }
        }
        match self.transport.raw_as(&call, &passed).await {
            Ok(a) => Ok(Forwarded {
                status: a.status,
                reason: a.reason,
                body: a.body,
            }),
            Err(e) => Err(upstream_error(e)),
        }
    }
}

/// A transport failure in PVE's proxy statuses: 504 for timeouts, 595 when no connection
/// could be made, 596 for TLS errors, 401 for a failed upstream login, 599 otherwise.
fn upstream_error(e: Error) -> ApiError {
    let status = match &e {
        Error::Api(api) => return api.clone(),
        Error::Login(inner) => return upstream_error((**inner).clone()),
        Error::Timeout(_) => StatusCode::GATEWAY_TIMEOUT.as_u16(),
        Error::Connection(_) => 595,
        Error::Tls(_) => 596,
        Error::Auth(_) => 401,
        _ => 599,
    };
    ApiError::new(status, format!("upstream: {e}"))
}
