//! PVE's REST API over HTTPS: one pooled keep-alive reqwest client per SDK, token or
//! ticket authentication (lazy login, TFA, proactive renewal, one re-login and replay on a
//! 401), fingerprint pinning, retries of reads, redirects refused, size-capped reads and
//! streamed multipart uploads.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use parking_lot::RwLock;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Map, Value};

use super::retry_delay;
use crate::api::{ApiError, Error};
use crate::api::{Call, Method, Upload, UploadSource};
use crate::tls::{install_crypto_provider, pinned_client_config, Fingerprint};

/// How long a ticket is used before it is renewed (PVE's tickets live two hours).
pub const RENEW_AFTER: Duration = Duration::from_secs(3600);

/// The logger of this transport (Python's `proxmox_sdk.http`).
const LOG: &str = "proxmox_sdk::http";

/// How the client authenticates.
#[derive(Clone)]
pub enum HttpsAuth {
    /// An API token; the `Authorization` header is `id_part` followed by `secret`.
    Token {
        /// `PVEAPIToken=user@realm!id=` (prefix, token id and separator).
        id_part: String,
        /// The token's secret (never printed).
        secret: String,
    },
    /// Ticket login with a password (and a one-time password when TFA is on).
    Password {
        /// `user@realm`.
        user: String,
        /// The password.
        password: String,
        /// The one-time password for TFA.
        otp: Option<String>,
        /// `totp`, `recovery`, `yubico`, ...
        otptype: String,
        /// The cookie name (`PVEAuthCookie`, `PBSAuthCookie`, ...).
        cookie: String,
    },
}

impl HttpsAuth {
    /// Token auth for `user@realm!name` with the service's header prefix and separator
    /// (`PVEAPIToken=` and `=` for PVE; `PBSAPIToken=` and `:` for PBS).
    pub fn token(prefix: &str, user: &str, name: &str, separator: &str, secret: &str) -> Self {
        HttpsAuth::Token {
            id_part: format!("{prefix}{user}!{name}{separator}"),
            secret: secret.to_string(),
        }
    }
}

impl std::fmt::Debug for HttpsAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            HttpsAuth::Token { id_part, .. } => write!(f, "Token({id_part}<redacted>)"),
            HttpsAuth::Password { user, otp, .. } => f
                .debug_struct("Password")
                .field("user", user)
                .field("password", &"<redacted>")
                .field("otp", &otp.as_ref().map(|_| "<redacted>"))
                .finish(),
        }
    }
}

/// What the HTTPS transport needs.
#[derive(Debug, Clone)]
pub struct HttpsConfig {
    /// `https://host:port` (see [`base_url`]).
    pub base_url: String,
    /// A reverse proxy's prefix in front of `/api2/json`, usually empty.
    pub path_prefix: String,
    /// Credentials.
    pub auth: HttpsAuth,
    /// Verify the certificate (against `ca_bundle` or the system's roots).
    pub verify_ssl: bool,
    /// A PEM file: a CA bundle, or a client certificate with its key.
    pub cert: Option<PathBuf>,
    /// Trust exactly this certificate (SHA-256), verification stays on.
    pub fingerprint: Option<Fingerprint>,
    /// Total time for one request (`None`: no limit).
    pub timeout: Option<Duration>,
    /// Time to connect.
    pub connect_timeout: Option<Duration>,
    /// Proxies by scheme (`https` -> `http://proxy:3128`, or `all`).
    pub proxies: Vec<(String, String)>,
    /// Retries of reads on 502/503/504, timeouts and connection errors.
    pub max_retries: u32,
    /// First retry delay (doubles, capped at 30 s).
    pub retry_backoff: Duration,
    /// Renew the ticket after this long.
    pub renew_after: Duration,
}

impl HttpsConfig {
    /// Defaults for `base_url` and `auth`: verification on, 5 s timeout, no retries.
    pub fn new(base_url: String, auth: HttpsAuth) -> HttpsConfig {
        HttpsConfig {
            base_url,
            path_prefix: String::new(),
            auth,
            verify_ssl: true,
            cert: None,
            fingerprint: None,
            timeout: Some(Duration::from_secs(5)),
            connect_timeout: None,
            proxies: Vec::new(),
            max_retries: 0,
            retry_backoff: Duration::from_millis(500),
            renew_after: RENEW_AFTER,
        }
    }
}

/// The base URL for `host` (`name`, `name:port`, IPv4, bare or bracketed IPv6, or a full
/// `https://...` URL, whose path becomes part of the prefix) and the default `port`.
pub fn base_url(host: &str, port: Option<u16>, default_port: u16) -> Result<String, String> {
    let host = host.trim();
    if host.is_empty() {
        return Err("host: expected a host name, an IP address or an https:// URL".into());
    }
    if host.contains("://") {
        let url =
            reqwest::Url::parse(host).map_err(|e| format!("host: invalid URL '{host}': {e}"))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(format!(
                "host: expected an https:// URL, got scheme '{}'",
                url.scheme()
            ));
        }
        let Some(h) = url.host_str() else {
            return Err(format!("host: URL '{host}' has no host"));
        };
        let p = url.port().or(port).unwrap_or(default_port);
        let path = url.path().trim_end_matches('/');
        return Ok(format!("{}://{}:{}{}", url.scheme(), h, p, path));
    }
    let (name, explicit_port) = if let Some(rest) = host.strip_prefix('[') {
        let (addr, after) = rest
            .split_once(']')
            .ok_or_else(|| format!("host: '{host}' lacks the closing ']'"))?;
        let port = match after.strip_prefix(':') {
            Some(p) => Some(p),
            None if after.is_empty() => None,
            None => return Err(format!("host: unexpected '{after}' after ']' in '{host}'")),
        };
        (format!("[{addr}]"), port)
    } else if host.matches(':').count() > 1 {
        // A bare IPv6 address (no port possible).
        (format!("[{host}]"), None)
    } else if let Some((n, p)) = host.split_once(':') {
        (n.to_string(), Some(p))
    } else {
        (host.to_string(), None)
    };
    let port = match explicit_port {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p > 0)
            .ok_or_else(|| format!("host: invalid port '{p}' in '{host}'"))?,
        None => port.unwrap_or(default_port),
    };
    let url = format!("https://{name}:{port}");
    reqwest::Url::parse(&url).map_err(|e| format!("host: invalid host '{host}': {e}"))?;
    Ok(url)
}

/// A logged-in session.
#[derive(Clone)]
struct Session {
    ticket: String,
    csrf: String,
    obtained: Instant,
}

/// What the server answered, before it is turned into a value or an error.
#[derive(Debug, Clone)]
pub struct RawAnswer {
    /// HTTP status.
    pub status: u16,
    /// The reason phrase (PVE puts its message there).
    pub reason: String,
    /// The body, parsed as JSON when it is JSON, else a string.
    pub body: Value,
    /// `Location` of a redirect.
    pub location: Option<String>,
}

/// One HTTPS connection pool and its authentication state.
pub struct HttpsTransport {
    config: HttpsConfig,
    client: reqwest::Client,
    session: RwLock<Option<Session>>,
    login_lock: tokio::sync::Mutex<()>,
}

impl std::fmt::Debug for HttpsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpsTransport")
            .field("base_url", &self.config.base_url)
            .field("auth", &self.config.auth)
            .finish()
    }
}

fn read_pem(path: &PathBuf) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cert: cannot read '{}': {e}", path.display()))
}

impl HttpsTransport {
    /// Builds the client (no connection is made yet).
    pub fn new(config: HttpsConfig) -> Result<HttpsTransport, String> {
        install_crypto_provider();
        let mut headers = HeaderMap::new();
        headers.insert("Accept", HeaderValue::from_static("application/json"));
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .user_agent(concat!("proxmox-sdk/", env!("CARGO_PKG_VERSION")))
            .pool_idle_timeout(Duration::from_secs(60))
            .tcp_nodelay(true);
        if let Some(t) = config.timeout {
            builder = builder.timeout(t);
        }
        if let Some(t) = config.connect_timeout {
            builder = builder.connect_timeout(t);
        }
        let pem = config.cert.as_ref().map(read_pem).transpose()?;
        let is_identity = pem
            .as_deref()
            .is_some_and(|p| String::from_utf8_lossy(p).contains("PRIVATE KEY-----"));
        if let Some(fp) = config.fingerprint {
            let tls = match (&pem, is_identity) {
                (Some(pem), true) => crate::tls::pinned_client_config_with_identity(fp, pem)
                    .map_err(|e| format!("cert: {e}"))?,
                _ => pinned_client_config(fp),
            };
            builder = builder.tls_backend_preconfigured(tls);
        } else {
            if let Some(pem) = &pem {
                if is_identity {
                    let id = reqwest::Identity::from_pem(pem).map_err(|e| {
                        format!("cert: not a PEM client certificate with its key: {e}")
                    })?;
                    builder = builder.identity(id);
                } else {
                    let certs = reqwest::Certificate::from_pem_bundle(pem)
                        .map_err(|e| format!("cert: not a PEM CA bundle: {e}"))?;
                    if certs.is_empty() {
                        return Err("cert: the file holds no PEM certificate".into());
                    }
                    builder = builder.tls_certs_only(certs);
                }
            }
            if !config.verify_ssl {
                builder = builder.tls_danger_accept_invalid_certs(true);
            }
        }
        for (scheme, url) in &config.proxies {
            let proxy = match scheme.as_str() {
                "http" => reqwest::Proxy::http(url),
                "https" => reqwest::Proxy::https(url),
                "all" | "*" => reqwest::Proxy::all(url),
                other => {
                    return Err(format!(
                        "proxies: unknown scheme '{other}'; expected http, https or all"
                    ))
                }
            }
            .map_err(|e| format!("proxies: invalid proxy URL for {scheme}: {e}"))?;
            builder = builder.proxy(proxy);
        }
        let client = builder
            .build()
            .map_err(|e| format!("cannot build the HTTPS client: {}", chain(&e)))?;
        Ok(HttpsTransport {
            config,
            client,
            session: RwLock::new(None),
            login_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &HttpsConfig {
        &self.config
    }

    /// The URL of an API path (`/api2/json/...`).
    pub fn url(&self, path: &str) -> String {
        let mut url = String::with_capacity(self.config.base_url.len() + path.len() + 16);
        url.push_str(self.config.base_url.trim_end_matches('/'));
        let prefix = self.config.path_prefix.trim_matches('/');
        if !prefix.is_empty() {
            url.push('/');
            url.push_str(prefix);
        }
        if !path.starts_with('/') {
            url.push('/');
        }
        url.push_str(path);
        url
    }

    /// `(ticket, CSRFPreventionToken)`, logging in if needed; `None` with token auth.
    pub async fn tokens(&self) -> Result<Option<(String, String)>, Error> {
        if matches!(self.config.auth, HttpsAuth::Token { .. }) {
            return Ok(None);
        }
        let s = self.session(false).await?;
        Ok(Some((s.ticket, s.csrf)))
    }

    /// Forgets the session (the next call logs in again).
    pub fn logout(&self) {
        *self.session.write() = None;
    }

    /// The current session: cached, renewed after `renew_after`, or a fresh login.
    async fn session(&self, force_login: bool) -> Result<Session, Error> {
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
        let session = match renewed {
            Some(s) => s,
            None => self.login().await?,
        };
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
        session_from(&data, user)
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
            return session_from(&data, user);
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
        session_from(&data, user)
    }

    /// The user of ticket authentication (empty with a token).
    fn user(&self) -> &str {
        match &self.config.auth {
            HttpsAuth::Password { user, .. } => user,
            HttpsAuth::Token { .. } => "",
        }
    }

    async fn post_ticket(&self, form: &[(&str, &str)]) -> Result<Value, Error> {
        let resp = self
            .client
            .post(self.url("/api2/json/access/ticket"))
            .form(form)
            .send()
            .await
            .map_err(|e| transport_error(&e, "login"))?;
        let answer = read_answer(resp, None).await?;
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

    /// Sends `call` and returns PVE's unwrapped `data`.
    pub async fn call(&self, call: &Call) -> Result<Value, Error> {
        let answer = self.raw(call).await?;
        into_data(answer)
    }

    /// Sends `call` with retries (reads only) and the one re-login and replay a 401 on a
    /// ticket earns, and returns the answer as it came.
    pub async fn raw(&self, call: &Call) -> Result<RawAnswer, Error> {
        let retries = if call.is_read() && call.uploads.is_empty() {
            self.config.max_retries
        } else {
            0
        };
        let mut attempt = 0;
        loop {
            let result = self.authenticated(call).await;
            let retryable = match &result {
                Ok(a) => matches!(a.status, 502..=504),
                Err(e) => matches!(e, Error::Timeout(_) | Error::Connection(_)),
            };
            if !retryable || attempt >= retries {
                return result;
            }
            attempt += 1;
            let delay = retry_delay(self.config.retry_backoff, attempt);
            let why = match &result {
                Ok(a) => format!("{} {}", a.status, a.reason),
                Err(e) => e.to_string(),
            };
            log::warn!(
                target: LOG,
                "{} {} failed ({why}); retry {attempt} of {retries} in {:.1} s",
                call.method,
                call.path,
                delay.as_secs_f64()
            );
            tokio::time::sleep(delay).await;
        }
    }

    async fn authenticated(&self, call: &Call) -> Result<RawAnswer, Error> {
        let ticketed = matches!(self.config.auth, HttpsAuth::Password { .. });
        let answer = self.send(call, false).await?;
        if answer.status == 401 && ticketed {
            // The ticket expired or was revoked: one fresh login, one replay, no loop.
            log::warn!(
                target: LOG,
                "{} {}: 401 {} with the ticket of {}; logging in again and replaying once",
                call.method,
                call.path,
                answer.reason,
                self.user()
            );
            return self.send(call, true).await;
        }
        Ok(answer)
    }

    async fn send(&self, call: &Call, force_login: bool) -> Result<RawAnswer, Error> {
        let method = match call.method {
            Method::Get => reqwest::Method::GET,
            Method::Post => reqwest::Method::POST,
            Method::Put => reqwest::Method::PUT,
            Method::Delete => reqwest::Method::DELETE,
        };
        let is_get = call.method == Method::Get;
        let mut req = self.client.request(method, self.url(&call.path));
        match &self.config.auth {
            HttpsAuth::Token { id_part, secret } => {
                let mut value =
                    HeaderValue::from_str(&format!("{id_part}{secret}")).map_err(|_| {
                        Error::Invalid(
                            "token_value: contains characters not allowed in an HTTP header".into(),
                        )
                    })?;
                value.set_sensitive(true);
                req = req.header("Authorization", value);
            }
            HttpsAuth::Password { cookie, .. } => {
                let s = self.session(force_login).await?;
                // PVE expects the ticket unquoted (`:` and `=` as they are).
                let mut value = HeaderValue::from_str(&format!("{cookie}={}", s.ticket))
                    .map_err(|_| Error::Auth("the server sent an unusable ticket".into()))?;
                value.set_sensitive(true);
                req = req.header("Cookie", value);
                if !is_get {
                    let mut csrf = HeaderValue::from_str(&s.csrf).map_err(|_| {
                        Error::Auth("the server sent an unusable CSRF token".into())
                    })?;
                    csrf.set_sensitive(true);
                    req = req.header("CSRFPreventionToken", csrf);
                }
            }
        }
        let pairs = form_pairs(&call.params);
        if !call.uploads.is_empty() {
            req = req.multipart(multipart(&pairs, &call.uploads).await?);
            // A large upload must not hit the default total timeout.
            req = req.timeout(call.timeout.unwrap_or(Duration::from_secs(24 * 3600)));
        } else {
            req = if is_get || call.method == Method::Delete {
                req.query(&pairs)
            } else {
                req.form(&pairs)
            };
            if let Some(t) = call.timeout {
                req = req.timeout(t);
            }
        }
        let resp = req
            .send()
            .await
            .map_err(|e| transport_error(&e, &call.path))?;
        read_answer(resp, call.limit).await
    }
}

fn session_from(data: &Value, user: &str) -> Result<Session, Error> {
    let ticket = data.get("ticket").and_then(Value::as_str);
    let csrf = data.get("CSRFPreventionToken").and_then(Value::as_str);
    match (ticket, csrf) {
        (Some(t), Some(c)) => Ok(Session {
            ticket: t.to_string(),
            csrf: c.to_string(),
            obtained: Instant::now(),
        }),
        _ => Err(Error::Auth(format!(
            "login for {user}: the answer has no ticket and CSRFPreventionToken"
        ))),
    }
}

async fn multipart(
    pairs: &[(String, String)],
    uploads: &[Upload],
) -> Result<reqwest::multipart::Form, Error> {
    let mut form = reqwest::multipart::Form::new();
    for (k, v) in pairs {
        form = form.text(k.clone(), v.clone());
    }
    for up in uploads {
        let part = match &up.source {
            UploadSource::Path(p) => {
                let file = tokio::fs::File::open(p).await.map_err(|e| {
                    Error::Invalid(format!("{}: cannot open '{}': {e}", up.field, p.display()))
                })?;
                let len = file.metadata().await.map(|m| m.len()).map_err(|e| {
                    Error::Invalid(format!("{}: cannot read '{}': {e}", up.field, p.display()))
                })?;
                let stream = tokio_util::io::ReaderStream::with_capacity(file, 256 * 1024);
                reqwest::multipart::Part::stream_with_length(
                    reqwest::Body::wrap_stream(stream),
                    len,
                )
            }
            UploadSource::Bytes(b) => reqwest::multipart::Part::bytes(b.clone()),
        };
        let part = part
            .file_name(up.file_name.clone())
            .mime_str("application/octet-stream")
            .expect("a constant MIME type parses");
        form = form.part(up.field.clone(), part);
    }
    Ok(form)
}

/// Reads an answer, refusing more than `limit` bytes (checked while streaming).
async fn read_answer(
    mut resp: reqwest::Response,
    limit: Option<usize>,
) -> Result<RawAnswer, Error> {
    let status = resp.status().as_u16();
    let reason = reason_of(&resp);
    let location = resp
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let (Some(limit), Some(len)) = (limit, resp.content_length()) {
        if len as usize > limit {
            return Err(Error::TooLarge {
                limit,
                size: len as usize,
            });
        }
    }
    let mut bytes = Vec::with_capacity(resp.content_length().unwrap_or(0).min(1 << 20) as usize);
    loop {
        match resp.chunk().await {
            Ok(Some(chunk)) => {
                bytes.extend_from_slice(&chunk);
                if let Some(limit) = limit {
                    if bytes.len() > limit {
                        return Err(Error::TooLarge {
                            limit,
                            size: bytes.len(),
                        });
                    }
                }
            }
            Ok(None) => break,
            Err(e) if e.is_decode() => {
                return Err(Error::Encoding(format!(
                    "cannot decode the answer: {}",
                    chain(&e)
                )))
            }
            Err(e) => return Err(transport_error(&e, "reading the answer")),
        }
    }
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(v) => v,
            Err(_) => Value::String(String::from_utf8_lossy(&bytes).into_owned()),
        }
    };
    Ok(RawAnswer {
        status,
        reason,
        body,
        location,
    })
}

/// PVE's answer as the SDK returns it: `data` of a success, else an error.
pub fn into_data(answer: RawAnswer) -> Result<Value, Error> {
    match answer.status {
        200..=299 => Ok(match answer.body {
            Value::Object(mut o) if o.contains_key("data") => o.remove("data").unwrap_or_default(),
            other => other,
        }),
        300..=399 => Err(Error::Redirect {
            status: answer.status,
            location: answer.location,
        }),
        status => {
            let errors = answer
                .body
                .get("errors")
                .and_then(Value::as_object)
                .filter(|o| !o.is_empty())
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| {
                            let text = v.as_str().map_or_else(|| v.to_string(), str::to_string);
                            (k.clone(), text)
                        })
                        .collect()
                });
            let message = match status {
                595 => format!(
                    "{} (PVE could not connect to the node it forwards to)",
                    answer.reason
                ),
                596 => format!("{} (TLS or request error between PVE nodes)", answer.reason),
                597 => format!("{} (the forwarded answer's body failed)", answer.reason),
                599 => format!("{} (error while PVE forwarded the request)", answer.reason),
                _ => answer.reason,
            };
            Err(Error::Api(ApiError {
                status,
                message,
                errors,
                exit_code: None,
            }))
        }
    }
}

/// Query/form pairs: lists as repeated keys, booleans as 0/1.
pub fn form_pairs(params: &Map<String, Value>) -> Vec<(String, String)> {
    let mut out = Vec::with_capacity(params.len());
    for (k, v) in params {
        match v {
            Value::Null => {}
            Value::Array(items) => out.extend(
                items
                    .iter()
                    .filter(|i| !i.is_null())
                    .map(|i| (k.clone(), scalar_text(i))),
            ),
            other => out.push((k.clone(), scalar_text(other))),
        }
    }
    out
}

/// A parameter value as PVE reads it.
pub fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(b) => u8::from(*b).to_string(),
        other => other.to_string(),
    }
}

/// The reason phrase as the server sent it (PVE's message), else the standard one.
pub fn reason_of(resp: &reqwest::Response) -> String {
    resp.extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .map(|r| String::from_utf8_lossy(r.as_bytes()).into_owned())
        .or_else(|| resp.status().canonical_reason().map(str::to_string))
        .unwrap_or_default()
}

/// An error and its causes, one line.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

/// A transport failure: timeout, TLS, connection, or anything else.
pub fn transport_error(e: &reqwest::Error, what: &str) -> Error {
    let text = chain(e);
    let lower = text.to_ascii_lowercase();
    if e.is_timeout() {
        Error::Timeout(format!("{what}: timed out ({text})"))
    } else if lower.contains("certificate")
        || lower.contains("tls")
        || lower.contains("handshake")
        || lower.contains("fingerprint")
    {
        Error::Tls(format!("{what}: TLS failed: {text}"))
    } else if e.is_connect() {
        Error::Connection(format!("{what}: cannot connect: {text}"))
    } else if e.is_decode() {
        Error::Encoding(format!("{what}: {text}"))
    } else {
        Error::Connection(format!("{what}: {text}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn base_urls() {
        let u = |h: &str| base_url(h, None, 8006).unwrap();
        assert_eq!(u("pve1"), "https://pve1:8006");
        assert_eq!(u("pve1:443"), "https://pve1:443");
        assert_eq!(u("10.0.0.1"), "https://10.0.0.1:8006");
        assert_eq!(u("::1"), "https://[::1]:8006");
        assert_eq!(u("[fe80::1]:9000"), "https://[fe80::1]:9000");
        assert_eq!(u("[::1]"), "https://[::1]:8006");
        assert_eq!(u("https://pve.example/px/"), "https://pve.example:8006/px");
        assert_eq!(u("https://pve.example:8443"), "https://pve.example:8443");
        assert_eq!(
            base_url("pve1", Some(9006), 8006).unwrap(),
            "https://pve1:9006"
        );
        assert!(base_url("pve1:0", None, 8006)
            .unwrap_err()
            .contains("invalid port"));
        assert!(base_url("pve1:x", None, 8006).unwrap_err().contains("'x'"));
        assert!(base_url("ftp://x", None, 8006)
            .unwrap_err()
            .contains("scheme"));
        assert!(base_url("", None, 8006).is_err());
        assert!(base_url("[::1", None, 8006).unwrap_err().contains("']'"));
    }

    #[test]
    fn secrets_stay_out_of_debug() {
        let t = HttpsAuth::token("PVEAPIToken=", "root@pam", "ci", "=", "s3cr3t-uuid");
        let text = format!("{t:?}");
        assert!(!text.contains("s3cr3t"), "{text}");
        assert!(text.contains("root@pam!ci"), "{text}");
        let p = HttpsAuth::Password {
            user: "root@pam".into(),
            password: "hunter2".into(),
            otp: Some("123456".into()),
            otptype: "totp".into(),
            cookie: "PVEAuthCookie".into(),
        };
        let text = format!("{p:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("123456"),
            "{text}"
        );
    }

    #[test]
    fn answers() {
        let ok = RawAnswer {
            status: 200,
            reason: "OK".into(),
            body: json!({"data": [1]}),
            location: None,
        };
        assert_eq!(into_data(ok).unwrap(), json!([1]));
        let bad = RawAnswer {
            status: 400,
            reason: "Parameter verification failed.".into(),
            body: json!({"data": null, "errors": {"vmid": "invalid"}}),
            location: None,
        };
        match into_data(bad) {
            Err(Error::Api(e)) => {
                assert_eq!(e.message, "Parameter verification failed.");
                assert_eq!(e.errors.unwrap()["vmid"], "invalid");
            }
            other => panic!("{other:?}"),
        }
        let moved = RawAnswer {
            status: 301,
            reason: "Moved".into(),
            body: Value::Null,
            location: Some("https://elsewhere/".into()),
        };
        assert!(matches!(
            into_data(moved),
            Err(Error::Redirect { status: 301, .. })
        ));
        let proxy = RawAnswer {
            status: 595,
            reason: "No route to host".into(),
            body: Value::Null,
            location: None,
        };
        match into_data(proxy) {
            Err(Error::Api(e)) => {
                assert!(e.message.starts_with("No route to host ("), "{}", e.message)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn pairs() {
        let p = json!({"a": true, "b": ["x", null, 2], "c": null, "d": "s"});
        assert_eq!(
            form_pairs(p.as_object().unwrap()),
            vec![
                ("a".to_string(), "1".to_string()),
                ("b".into(), "x".into()),
                ("b".into(), "2".into()),
                ("d".into(), "s".into())
            ]
        );
    }
}
