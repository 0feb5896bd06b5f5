//! The request model shared by every backend: an API error shaped like PVE's answers, and
//! parameter encoding (booleans as 0/1, `None` dropped, lists per PVE's conventions).

pub mod options;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use serde_json::{Map, Value};

use crate::mock::volumes::IncomingFile;
use crate::schema::{ApiSchema, RequestError, SchemaType};
use crate::transport::https::HttpsTransport;
use crate::transport::pvesh::{PveshTransport, Runner};
use crate::transport::Call;

/// A failed API call: the HTTP status, PVE's message (what PVE puts in the reason phrase)
/// and, for parameter errors, the per-parameter messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status (400, 401, 403, 500, 501, 595, ...).
    pub status: u16,
    /// PVE's message: the reason phrase on the wire.
    pub message: String,
    /// Per-parameter messages of a 400.
    pub errors: Option<BTreeMap<String, String>>,
    /// The exit code of the command that answered (pvesh backends).
    pub exit_code: Option<i32>,
}

impl ApiError {
    /// An error with a status and PVE's message.
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            errors: None,
            exit_code: None,
        }
    }

    /// The standard reason phrase of the status (`Internal Server Error`), which Python's
    /// `ResourceException.status_message` carries as proxmoxer does.
    pub fn status_text(&self) -> &'static str {
        status_text(self.status)
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.message)
    }
}

impl std::error::Error for ApiError {}

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> ApiError {
        match e {
            RequestError::Params(p) => ApiError {
                status: 400,
                message: "Parameter verification failed.".into(),
                errors: Some(p.errors),
                exit_code: None,
            },
            other => ApiError::new(other.status(), other.to_string()),
        }
    }
}

/// Standard HTTP reason phrases, plus PVE's proxy statuses (595-599).
pub fn status_text(status: u16) -> &'static str {
    match status {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        413 => "Payload Too Large",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        595 => "Connection Error",
        596 => "TLS Or Request Error",
        597 => "Response Body Error",
        599 => "Proxy Error",
        _ => "Unknown Status",
    }
}

/// Normalizes parameters the way every backend sends them: `null` dropped, booleans as
/// 0/1, and a list given for a parameter the schema types as a string (PVE's `-list`
/// formats) joined with commas; lists for array parameters stay lists (repeated keys).
pub fn encode_params(
    schema: Option<&ApiSchema>,
    method: &str,
    path: &str,
    params: Map<String, Value>,
) -> Map<String, Value> {
    if params
        .values()
        .all(|v| matches!(v, Value::String(_) | Value::Number(_)))
    {
        // Nothing to encode: the common case costs no schema lookup.
        return params;
    }
    let op = if params.values().any(Value::is_array) {
        schema
            .and_then(|s| s.operation(method, path).ok())
            .map(|(op, _)| op)
    } else {
        None
    };
    let mut out = Map::with_capacity(params.len());
    for (k, v) in params {
        let v = match v {
            Value::Null => continue,
            Value::Bool(b) => Value::from(u8::from(b)),
            Value::Array(items) => {
                let is_array_param = op
                    .and_then(|op| op.param(&k))
                    .is_none_or(|s| s.schema_type() == SchemaType::Array);
                let items: Vec<Value> = items
                    .into_iter()
                    .filter(|i| !i.is_null())
                    .map(|i| match i {
                        Value::Bool(b) => Value::from(u8::from(b)),
                        other => other,
                    })
                    .collect();
                if is_array_param {
                    Value::Array(items)
                } else {
                    Value::String(
                        items
                            .iter()
                            .map(|i| match i {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join(","),
                    )
                }
            }
            other => other,
        };
        out.insert(k, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::bundled;
    use serde_json::json;

    #[test]
    fn encoding() {
        let s = bundled::load("9.2").unwrap();
        let params = json!({"a": null, "onboot": true, "delete": ["net0", "net1"], "exclude-path": ["/a", "/b"]});
        let out = encode_params(
            Some(&s),
            "PUT",
            "/nodes/pve1/qemu/100/config",
            params.as_object().unwrap().clone(),
        );
        assert_eq!(
            Value::Object(out),
            json!({"onboot": 1, "delete": "net0,net1", "exclude-path": ["/a", "/b"]})
        );
        let out = encode_params(
            Some(&s),
            "POST",
            "/cluster/backup",
            json!({"exclude-path": ["/a", true]})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(Value::Object(out), json!({"exclude-path": ["/a", 1]}));
    }

    #[test]
    fn status_texts() {
        assert_eq!(
            ApiError::new(500, "x").status_text(),
            "Internal Server Error"
        );
        assert_eq!(status_text(595), "Connection Error");
    }
}

/// Where requests go: the in-process mock, or a real transport.
#[derive(Debug, Clone)]
pub enum Backend {
    /// The in-memory PVE.
    Mock(crate::mock::MockPve),
    /// PVE's REST API over HTTPS.
    Https(Arc<HttpsTransport>),
    /// `pvesh`/`pmgsh` locally, over the `ssh` binary, or over russh.
    Pvesh(Arc<PveshTransport>),
}

/// Why a call failed before or after reaching PVE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// PVE (or the mock) answered with an error.
    Api(ApiError),
    /// The answer is larger than the caller allowed (`get_bounded`).
    TooLarge {
        /// The allowed size in bytes.
        limit: usize,
        /// The answer's size in bytes.
        size: usize,
    },
    /// Login failed or credentials are missing.
    Auth(String),
    /// The server answered with a redirect (never followed).
    Redirect {
        /// 301, 302, ...
        status: u16,
        /// Where it pointed.
        location: Option<String>,
    },
    /// The request or the command timed out.
    Timeout(String),
    /// No connection could be made (or it broke).
    Connection(String),
    /// TLS failed: an untrusted certificate, a fingerprint mismatch, a handshake error.
    Tls(String),
    /// The answer could not be decoded.
    Encoding(String),
    /// An argument the caller gave is unusable (the message names it).
    Invalid(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Api(e) => write!(f, "{e}"),
            ClientError::TooLarge { limit, size } => write!(
                f,
                "response of {size} bytes exceeds the limit of {limit} bytes"
            ),
            ClientError::Redirect { status, location } => write!(
                f,
                "HTTP {status} redirect to {} refused",
                location.as_deref().unwrap_or("(no location)")
            ),
            ClientError::Auth(m)
            | ClientError::Timeout(m)
            | ClientError::Connection(m)
            | ClientError::Tls(m)
            | ClientError::Encoding(m)
            | ClientError::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ClientError {}

impl From<ApiError> for ClientError {
    fn from(e: ApiError) -> ClientError {
        ClientError::Api(e)
    }
}

/// One SDK connection: a backend plus the request pipeline every call goes through.
#[derive(Debug, Clone)]
pub struct Client {
    backend: Backend,
    /// The schema used to encode lists (`-list` formats joined with commas).
    schema: Option<Arc<ApiSchema>>,
    /// Validate requests against `schema` before they are sent.
    validate: bool,
}

impl Client {
    /// A client over `backend`.
    pub fn new(backend: Backend) -> Client {
        Client {
            backend,
            schema: None,
            validate: false,
        }
    }

    /// Encodes parameters with `schema` (lists of `-list` formats become comma lists).
    pub fn with_schema(mut self, schema: Arc<ApiSchema>) -> Client {
        self.schema = Some(schema);
        self
    }

    /// Validates every request against `schema` before sending it (the mock always does).
    pub fn with_validation(mut self, schema: Arc<ApiSchema>) -> Client {
        self.schema = Some(schema);
        self.validate = true;
        self
    }

    /// The backend.
    pub fn backend(&self) -> &Backend {
        &self.backend
    }

    /// The mock behind this client, if it is one.
    pub fn mock(&self) -> Option<&crate::mock::MockPve> {
        match &self.backend {
            Backend::Mock(m) => Some(m),
            _ => None,
        }
    }

    /// Whether calls answer in-process without I/O (the mock).
    pub fn is_in_process(&self) -> bool {
        matches!(self.backend, Backend::Mock(_))
    }

    /// Whether a call answers at once, in place: the mock with no latency set. The async
    /// SDK then skips the trip through the event loop; anything else (a transport, a mock
    /// told to be slow) runs on the runtime so that the loop never waits.
    pub fn answers_in_place(&self) -> bool {
        match &self.backend {
            Backend::Mock(m) => m.store().control().latency.is_zero(),
            _ => false,
        }
    }

    /// Sends one request and returns the unwrapped `data` (blocking for real transports).
    pub fn call(
        &self,
        method: &str,
        path: &str,
        params: Map<String, Value>,
    ) -> Result<Value, ClientError> {
        self.execute(Call::new(method, path, params))
    }

    /// `call`, refusing answers larger than `limit` bytes.
    pub fn call_bounded(
        &self,
        method: &str,
        path: &str,
        params: Map<String, Value>,
        limit: usize,
    ) -> Result<Value, ClientError> {
        let mut call = Call::new(method, path, params);
        call.limit = Some(limit);
        self.execute(call)
    }

    /// Runs `call` to its end, blocking the calling thread while a transport works.
    pub fn execute(&self, call: Call) -> Result<Value, ClientError> {
        match &self.backend {
            Backend::Mock(m) => {
                let latency = m.store().control().latency;
                if !latency.is_zero() {
                    std::thread::sleep(latency);
                }
                self.logged(call, |call| mock_call(m, call))
            }
            Backend::Https(_) | Backend::Pvesh(_) => {
                crate::runtime::block_on(self.clone().execute_async(call))
            }
        }
    }

    /// Encodes the parameters and, with validation on, checks them.
    fn prepare(&self, mut call: Call) -> Result<Call, ClientError> {
        call.params = encode_params(
            self.schema.as_deref(),
            &call.method,
            &call.path,
            call.params,
        );
        if let (Some(schema), true) = (&self.schema, self.validate) {
            let mut params = call.params.clone();
            for up in &call.uploads {
                params
                    .entry(up.field.clone())
                    .or_insert_with(|| Value::String(up.file_name.clone()));
            }
            schema
                .validate_request(&call.method, &call.path, &params)
                .map_err(ApiError::from)?;
        }
        Ok(call)
    }

    /// Runs `call` on the current async runtime (real transports), or in place (mock).
    pub async fn execute_async(self, call: Call) -> Result<Value, ClientError> {
        let (target, backend) = self.log_target();
        let started = log::log_enabled!(target: target, log::Level::Debug).then(Instant::now);
        let (method, path) = match started {
            Some(_) => (call.method.clone(), call.path.clone()),
            None => Default::default(),
        };
        let result = match &self.backend {
            Backend::Https(t) => match self.prepare(call) {
                Ok(call) => t.call(&call).await,
                Err(e) => Err(e),
            },
            Backend::Pvesh(t) => match self.prepare(call) {
                Ok(call) => t.call(&call).await,
                Err(e) => Err(e),
            },
            Backend::Mock(m) => {
                let latency = m.store().control().latency;
                if !latency.is_zero() {
                    tokio::time::sleep(latency).await;
                }
                mock_call(m, call)
            }
        };
        if let Some(t) = started {
            log_request(target, backend, &method, &path, t, &result);
        }
        result
    }

    /// Runs `f` and writes the request line (DEBUG) when the backend's logger wants it.
    fn logged(
        &self,
        call: Call,
        f: impl FnOnce(Call) -> Result<Value, ClientError>,
    ) -> Result<Value, ClientError> {
        let (target, backend) = self.log_target();
        if !log::log_enabled!(target: target, log::Level::Debug) {
            return f(call);
        }
        let (method, path) = (call.method.clone(), call.path.clone());
        let started = Instant::now();
        let result = f(call);
        log_request(target, backend, &method, &path, started, &result);
        result
    }

    /// The logger (`proxmox_sdk::http` becomes Python's `proxmox_sdk.http`) and the name
    /// of this client's backend.
    fn log_target(&self) -> (&'static str, &'static str) {
        match &self.backend {
            Backend::Mock(_) => ("proxmox_sdk::mock", "mock"),
            Backend::Https(_) => ("proxmox_sdk::http", "https"),
            Backend::Pvesh(t) => match &t.runner {
                Runner::Local => ("proxmox_sdk::local", "local"),
                Runner::OpenSsh(_) => ("proxmox_sdk::ssh", "openssh"),
                Runner::Russh(_) => ("proxmox_sdk::ssh", "ssh_paramiko"),
            },
        }
    }

    /// `(ticket, CSRFPreventionToken)` of HTTPS ticket authentication (logs in if needed);
    /// `None` for every other kind of authentication.
    pub async fn tokens(&self) -> Result<Option<(String, String)>, ClientError> {
        match &self.backend {
            Backend::Https(t) => t.tokens().await,
            _ => Ok(None),
        }
    }

    /// Releases connections and sessions (the client stays usable: it reconnects).
    pub async fn close(&self) {
        match &self.backend {
            Backend::Https(t) => t.logout(),
            Backend::Pvesh(t) => {
                if let Runner::Russh(s) = &t.runner {
                    s.close().await;
                }
            }
            _ => {}
        }
    }
}

/// One DEBUG line per request: method, path, outcome, duration, backend. Never a parameter
/// value: a 400 says only that verification failed, and messages are cut short.
fn log_request(
    target: &str,
    backend: &str,
    method: &str,
    path: &str,
    started: Instant,
    result: &Result<Value, ClientError>,
) {
    let outcome = match result {
        Ok(_) => "200 OK".to_string(),
        Err(ClientError::Api(e)) if e.status == 400 => "400 Parameter verification failed.".into(),
        Err(ClientError::Api(e)) => format!("{} {}", e.status, shorten(&e.message)),
        Err(e) => format!("failed: {}", shorten(&e.to_string())),
    };
    log::debug!(
        target: target,
        "{method} {path} -> {outcome} in {:.1} ms ({backend})",
        started.elapsed().as_secs_f64() * 1e3
    );
}

/// The first line of `text`, at most 200 characters.
fn shorten(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(200) {
        Some((i, _)) => format!("{}...", &line[..i]),
        None => line.to_string(),
    }
}

/// One call answered by the in-process mock (after any latency).
fn mock_call(m: &crate::mock::MockPve, call: Call) -> Result<Value, ClientError> {
    let params = encode_params(Some(m.schema()), &call.method, &call.path, call.params);
    if let Some(up) = call.uploads.first() {
        return mock_upload(m, &call.method, &call.path, params, up);
    }
    let value = m.handle(&call.method, &call.path, &params)?;
    if let Some(limit) = call.limit {
        let size = serde_json::to_vec(&value).map_or(0, |v| v.len());
        if size > limit {
            return Err(ClientError::TooLarge { limit, size });
        }
    }
    Ok(value)
}

/// An upload to the in-process mock: the file is read in chunks (counted and hashed as the
/// server does), then the mock runs the upload.
fn mock_upload(
    m: &crate::mock::MockPve,
    method: &str,
    path: &str,
    params: Map<String, Value>,
    up: &crate::transport::Upload,
) -> Result<Value, ClientError> {
    use std::io::Read;
    let mut incoming = IncomingFile::new(up.file_name.clone(), &params);
    match &up.source {
        crate::transport::UploadSource::Bytes(b) => incoming.update(b),
        crate::transport::UploadSource::Path(p) => {
            let mut f = std::fs::File::open(p).map_err(|e| {
                ClientError::Invalid(format!("{}: cannot open '{}': {e}", up.field, p.display()))
            })?;
            let mut buf = vec![0u8; 256 * 1024];
            loop {
                let n = f.read(&mut buf).map_err(|e| {
                    ClientError::Invalid(format!(
                        "{}: cannot read '{}': {e}",
                        up.field,
                        p.display()
                    ))
                })?;
                if n == 0 {
                    break;
                }
                incoming.update(&buf[..n]);
            }
        }
    }
    Ok(m.receive_upload(method, path, params, &up.field, incoming)?)
}
