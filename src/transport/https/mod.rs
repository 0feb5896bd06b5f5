//! PVE's REST API over HTTPS: one pool of keep-alive connections per SDK (the lean
//! [`driver`] where it serves, else a reqwest client), token or
//! ticket authentication (lazy login, TFA, proactive renewal, one re-login and replay on a
//! 401: [`session`]), fingerprint pinning, retries of reads, redirects refused, size-capped
//! reads and streamed multipart uploads ([`answer`]). What it is configured with: [`config`].

pub mod answer;
pub mod config;
mod driver;
pub mod session;

use std::path::PathBuf;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use parking_lot::RwLock;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;

use super::retry_delay;
use crate::api::{Call, Error, Method};
use crate::tls::{install_crypto_provider, pinned_client_config};
use answer::{answer_of, multipart, read_answer, reason_from, within};
pub use answer::{
    chain, form_pairs, into_data, reason_of, scalar_text, transport_error, RawAnswer,
};
pub use config::{base_url, HttpsAuth, HttpsConfig};
use session::Session;

/// How long a ticket is used before it is renewed (PVE's tickets live two hours).
pub const RENEW_AFTER: Duration = Duration::from_secs(3600);

/// The `User-Agent` of every request.
const USER_AGENT: &str = concat!("proxmox-sdk/", env!("CARGO_PKG_VERSION"));

/// The HTTP method of a call.
fn http_method(method: Method) -> reqwest::Method {
    match method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Delete => reqwest::Method::DELETE,
    }
}

/// The logger of this transport (Python's `proxmox_sdk.http`).
pub(crate) const LOG: &str = "proxmox_sdk::http";

/// One HTTPS connection pool and its authentication state.
pub struct HttpsTransport {
    config: HttpsConfig,
    /// `base_url` parsed once, if it has no path or query of its own: a request's URL is
    /// then a copy with its path set, instead of a string parsed again (host, port, IDNA)
    /// for every request.
    base: Option<reqwest::Url>,
    /// `Authorization` of token auth, made once (`None`: the token cannot be a header
    /// value, refused at each call).
    token_header: Option<HeaderValue>,
    client: reqwest::Client,
    /// The lean path for requests without a proxy or an upload (see [`driver`]), where
    /// the certificate is pinned or the server plain HTTP; `None`: reqwest serves all.
    driver: Option<driver::Driver>,
    session: RwLock<Option<std::sync::Arc<Session>>>,
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
            .user_agent(USER_AGENT)
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
        let mut pinned = None;
        if let Some(fp) = config.fingerprint {
            let tls = match (&pem, is_identity) {
                (Some(pem), true) => crate::tls::pinned_client_config_with_identity(fp, pem)
                    .map_err(|e| format!("cert: {e}"))?,
                _ => pinned_client_config(fp),
            };
            pinned = Some(tls.clone());
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
        let base = reqwest::Url::parse(config.base_url.trim_end_matches('/'))
            .ok()
            .filter(|b| b.path() == "/" && b.query().is_none());
        let driver = base.as_ref().and_then(|b| {
            driver::Driver::new(
                b,
                pinned,
                !config.proxies.is_empty(),
                config.connect_timeout,
            )
        });
        let token_header = match &config.auth {
            HttpsAuth::Token { id_part, secret } => {
                session::secret_header(&format!("{id_part}{secret}"))
            }
            _ => None,
        };
        Ok(HttpsTransport {
            config,
            base,
            token_header,
            client,
            driver,
            session: RwLock::new(None),
            login_lock: tokio::sync::Mutex::new(()),
        })
    }

    /// The configuration.
    pub fn config(&self) -> &HttpsConfig {
        &self.config
    }

    /// Whether requests without uploads take the lean path ([`driver`]): no proxy, and a
    /// pinned certificate or plain HTTP. The others, and uploads, go through reqwest.
    pub fn is_lean(&self) -> bool {
        self.driver.is_some()
    }

    /// The URL of an API path (`/api2/json/...`).
    pub fn url(&self, path: &str) -> String {
        let base = self.config.base_url.trim_end_matches('/');
        let mut url = String::with_capacity(base.len() + path.len() + 16);
        url.push_str(base);
        self.push_path(&mut url, path);
        url
    }

    /// Appends the path prefix and `path` (each with its leading `/`).
    fn push_path(&self, url: &mut String, path: &str) {
        let prefix = self.config.path_prefix.trim_matches('/');
        if !prefix.is_empty() {
            url.push('/');
            url.push_str(prefix);
        }
        if !path.starts_with('/') {
            url.push('/');
        }
        url.push_str(path);
    }

    /// [`HttpsTransport::url`], parsed: a copy of the parsed base URL with its path set,
    /// instead of the whole string parsed again (scheme, host, port) for every request.
    /// `None` where that could differ: a path with `?` or `#` (a query or fragment, which
    /// setting a path would encode instead) or a base URL with a path of its own.
    fn parsed_url(&self, path: &str) -> Option<reqwest::Url> {
        let base = self.base.as_ref()?;
        if path.contains(['?', '#']) {
            return None;
        }
        let mut full = String::with_capacity(path.len() + 16);
        self.push_path(&mut full, path);
        let mut url = base.clone();
        url.set_path(&full);
        Some(url)
    }

    /// Sends `call` and returns PVE's unwrapped `data`.
    pub async fn call(&self, call: &Call) -> Result<Value, Error> {
        let answer = self.raw(call).await?;
        into_data(answer)
    }

    /// Sends `call` with retries (reads only) and the one re-login and replay a 401 on a
    /// ticket earns, and returns the answer as it came.
    pub async fn raw(&self, call: &Call) -> Result<RawAnswer, Error> {
        self.raw_as(call, &reqwest::header::HeaderMap::new()).await
    }

    /// [`HttpsTransport::raw`] with `headers` added to the request: a validating proxy
    /// passes its client's `Cookie`, `CSRFPreventionToken` and `Authorization` this way
    /// (with [`HttpsAuth::PassThrough`], the only credentials sent).
    pub async fn raw_as(
        &self,
        call: &Call,
        headers: &reqwest::header::HeaderMap,
    ) -> Result<RawAnswer, Error> {
        let retries = if call.is_read() && call.uploads.is_empty() {
            self.config.max_retries
        } else {
            0
        };
        let mut attempt = 0;
        loop {
            let result = self.authenticated(call, headers).await;
            let retryable = match &result {
                Ok(a) => matches!(a.status, 502..=504),
                Err(e) => {
                    matches!(e, Error::Timeout(_) | Error::Connection(_))
                        || matches!(e, Error::Login(inner) if matches!(**inner, Error::Timeout(_) | Error::Connection(_)))
                }
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

    async fn authenticated(
        &self,
        call: &Call,
        headers: &reqwest::header::HeaderMap,
    ) -> Result<RawAnswer, Error> {
        let ticketed = matches!(self.config.auth, HttpsAuth::Password { .. });
        let answer = self.send(call, false, headers).await?;
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
            return self.send(call, true, headers).await;
        }
        Ok(answer)
    }

    async fn send(
        &self,
        call: &Call,
        force_login: bool,
        headers: &reqwest::header::HeaderMap,
    ) -> Result<RawAnswer, Error> {
        use reqwest::header::{HeaderName, AUTHORIZATION, COOKIE};
        let is_get = call.method == Method::Get;
        // The credentials' headers (made once per token or session).
        let mut auth: [Option<(HeaderName, HeaderValue)>; 2] = [None, None];
        match &self.config.auth {
            HttpsAuth::Token { .. } => {
                let value = self.token_header.clone().ok_or_else(|| {
                    Error::Invalid(
                        "token_value: contains characters not allowed in an HTTP header".into(),
                    )
                })?;
                auth[0] = Some((AUTHORIZATION, value));
            }
            HttpsAuth::Password { .. } => {
                let s = self.session(force_login).await?;
                let value = s
                    .cookie_header
                    .clone()
                    .ok_or_else(|| Error::Auth("the server sent an unusable ticket".into()))?;
                auth[0] = Some((COOKIE, value));
                if !is_get {
                    let csrf = s.csrf_header.clone().ok_or_else(|| {
                        Error::Auth("the server sent an unusable CSRF token".into())
                    })?;
                    auth[1] = Some((HeaderName::from_static("csrfpreventiontoken"), csrf));
                }
            }
            HttpsAuth::PassThrough => {}
        }
        let pairs = form_pairs(&call.params);
        let url = self.parsed_url(&call.path);
        if let (Some(driver), Some(url), true) = (&self.driver, &url, call.uploads.is_empty()) {
            return self
                .send_lean(driver, url, call, &auth, headers, &pairs, &call.path)
                .await;
        }
        let method = http_method(call.method);
        let mut req = match url {
            Some(url) => self.client.request(method, url),
            None => self.client.request(method, self.url(&call.path)),
        };
        for (name, value) in auth.into_iter().flatten() {
            req = req.header(name, value);
        }
        for (name, value) in headers {
            req = req.header(name, value.clone());
        }
        if call.uploads.is_empty() {
            if is_get || call.method == Method::Delete {
                // Without parameters, no query to write (and take off the URL again).
                if !pairs.is_empty() {
                    req = req.query(&pairs);
                }
            } else {
                req = req.form(&pairs);
            }
            if let Some(t) = call.timeout {
                req = req.timeout(t);
            }
        } else {
            req = req.multipart(multipart(&pairs, &call.uploads).await?);
            // A large upload must not hit the default total timeout.
            req = req.timeout(call.timeout.unwrap_or(Duration::from_secs(24 * 3600)));
        }
        let resp = req
            .send()
            .await
            .map_err(|e| transport_error(&e, &call.path))?;
        read_answer(resp, call.limit).await
    }

    /// [`HttpsTransport::send`] through the lean driver: the same request (method, URL,
    /// headers, query or form body) and the same answer, within the call's timeout
    /// (`what` names the request in errors).
    #[allow(clippy::too_many_arguments)]
    async fn send_lean(
        &self,
        driver: &driver::Driver,
        url: &reqwest::Url,
        call: &Call,
        auth: &[Option<(reqwest::header::HeaderName, HeaderValue)>; 2],
        headers: &reqwest::header::HeaderMap,
        pairs: &[(String, String)],
        what: &str,
    ) -> Result<RawAnswer, Error> {
        let work = async {
            let has_body = matches!(call.method, Method::Post | Method::Put);
            let encoded = || {
                form_urlencoded::Serializer::new(String::new())
                    .extend_pairs(pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())))
                    .finish()
            };
            let mut target = url.path().to_string();
            let mut body = Bytes::new();
            if has_body {
                body = Bytes::from(encoded());
            } else if !pairs.is_empty() {
                target.push('?');
                target.push_str(&encoded());
            }
            // What reqwest does with a URL too (and refuses the same way): a request target
            // must parse as an HTTP URI.
            let uri: hyper::Uri = target.parse().map_err(|e| {
                Error::Invalid(format!(
                    "{what}: '{target}' is not a valid request URI: {e}"
                ))
            })?;
            let method = http_method(call.method);
            let build = || {
                let mut req = hyper::Request::new(Full::new(body.clone()));
                *req.method_mut() = method.clone();
                *req.uri_mut() = uri.clone();
                let h = req.headers_mut();
                h.insert(hyper::header::HOST, driver.authority.clone());
                h.insert(
                    hyper::header::ACCEPT,
                    HeaderValue::from_static("application/json"),
                );
                // As reqwest's `gzip` feature does: PVE compresses large answers then.
                h.insert(
                    hyper::header::ACCEPT_ENCODING,
                    HeaderValue::from_static("gzip"),
                );
                h.insert(
                    hyper::header::USER_AGENT,
                    HeaderValue::from_static(USER_AGENT),
                );
                for (name, value) in auth.iter().flatten() {
                    h.insert(name.clone(), value.clone());
                }
                for (name, value) in headers {
                    h.insert(name.clone(), value.clone());
                }
                if has_body {
                    h.insert(
                        hyper::header::CONTENT_TYPE,
                        HeaderValue::from_static("application/x-www-form-urlencoded"),
                    );
                }
                req
            };
            let lease = driver.lease(what).await?;
            let (resp, lease) = driver.send(lease, build(), build, what).await?;
            let (parts, incoming) = resp.into_parts();
            let status = parts.status.as_u16();
            let reason = reason_from(parts.status, &parts.extensions);
            let location = parts
                .headers
                .get(hyper::header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string);
            let length = parts
                .headers
                .get(hyper::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse::<u64>().ok());
            if let Some(len) = length {
                within(call.limit, len as usize)?;
            }
            let gzip = parts
                .headers
                .get(hyper::header::CONTENT_ENCODING)
                .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"gzip"));
            let bytes = driver::read_body(incoming, length, call.limit).await?;
            driver.give_back(lease);
            let bytes = if gzip {
                driver::gunzip(&bytes, call.limit)?
            } else {
                bytes
            };
            Ok(answer_of(status, reason, location, &bytes))
        };
        match call.timeout.or(self.config.timeout) {
            Some(t) => tokio::time::timeout(t, work).await.map_err(|_| {
                Error::Timeout(format!(
                    "{what}: timed out (no answer within {:.1} s)",
                    t.as_secs_f64()
                ))
            })?,
            None => work.await,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The parsed URL of a request is the URL its string would parse to, whatever the
    /// base, prefix and path.
    #[test]
    fn parsed_urls_equal_the_parsed_strings() {
        let bases = [
            "https://127.0.0.1:8006",
            "https://pve1.example.com:8006/",
            "https://[::1]:8006",
            "http://BÜcher.example:80",
            "https://pve1:8006/sub",
        ];
        let paths = [
            "/api2/json/nodes",
            "api2/json/version",
            "/api2/json/nodes/pve%201/qemu/100/config",
            "/api2/json/nodes/ü n/a\\b",
            "/api2/json/x?y=1",
            "/api2/json/x#frag",
            "/api2/json/./a/../b",
            "",
        ];
        let mut fast = 0;
        for base in bases {
            for prefix in ["", "/proxy/", "a b"] {
                let mut cfg = HttpsConfig::new(base.to_string(), HttpsAuth::PassThrough);
                cfg.path_prefix = prefix.to_string();
                let t = HttpsTransport::new(cfg).unwrap();
                for path in paths {
                    let want = reqwest::Url::parse(&t.url(path)).unwrap();
                    if let Some(got) = t.parsed_url(path) {
                        assert_eq!(got.as_str(), want.as_str(), "{base} {prefix} {path}");
                        fast += 1;
                    }
                }
            }
        }
        // Every path without a query or fragment on a base without a path of its own.
        assert_eq!(fast, 4 * 3 * 6);
    }
}
