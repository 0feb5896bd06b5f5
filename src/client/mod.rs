//! The request model shared by every backend: an API error shaped like PVE's answers, and
//! parameter encoding (booleans as 0/1, `None` dropped, lists per PVE's conventions).

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use crate::schema::{ApiSchema, RequestError, SchemaType};

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
}

impl ApiError {
    /// An error with a status and PVE's message.
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            errors: None,
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

/// Where requests go. The mock answers in-process; the network and pvesh transports plug
/// in here as they land.
#[derive(Debug, Clone)]
pub enum Backend {
    /// The in-memory PVE.
    Mock(crate::mock::MockPve),
    /// A backend that cannot serve requests in this build, with the reason.
    Unavailable {
        /// Its name (`https`, `ssh_paramiko`, ...).
        backend: String,
        /// Why.
        reason: String,
    },
}

/// Why a call failed before or after reaching PVE.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// PVE (or the mock) answered with an error.
    Api(ApiError),
    /// The backend cannot serve requests.
    NotAvailable(String),
    /// The answer is larger than the caller allowed (`get_bounded`).
    TooLarge {
        /// The allowed size in bytes.
        limit: usize,
        /// The answer's size in bytes.
        size: usize,
    },
}

impl From<ApiError> for ClientError {
    fn from(e: ApiError) -> ClientError {
        ClientError::Api(e)
    }
}

/// One SDK connection: a backend plus the request pipeline every call goes through.
#[derive(Debug, Clone)]
pub struct Client {
    backend: Backend,
    /// When set, requests are validated against this schema before they are sent.
    validate: Option<std::sync::Arc<ApiSchema>>,
}

impl Client {
    /// A client over `backend`.
    pub fn new(backend: Backend) -> Client {
        Client {
            backend,
            validate: None,
        }
    }

    /// Validates every request against `schema` before sending it (the mock always does).
    pub fn with_validation(mut self, schema: std::sync::Arc<ApiSchema>) -> Client {
        self.validate = Some(schema);
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
            Backend::Unavailable { .. } => None,
        }
    }

    /// Sends one request and returns the unwrapped `data`.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        params: Map<String, Value>,
    ) -> Result<Value, ClientError> {
        match &self.backend {
            Backend::Mock(m) => {
                let latency = m.store().control().latency;
                if !latency.is_zero() {
                    std::thread::sleep(latency);
                }
                let params = encode_params(Some(m.schema()), method, path, params);
                Ok(m.handle(method, path, &params)?)
            }
            Backend::Unavailable { backend, reason } => {
                if let Some(schema) = &self.validate {
                    let params = encode_params(Some(schema), method, path, params);
                    schema
                        .validate_request(method, path, &params)
                        .map_err(ApiError::from)?;
                }
                Err(ClientError::NotAvailable(format!(
                    "backend '{backend}' is not available: {reason}"
                )))
            }
        }
    }

    /// `call`, refusing answers larger than `limit` bytes of JSON.
    pub fn call_bounded(
        &self,
        method: &str,
        path: &str,
        params: Map<String, Value>,
        limit: usize,
    ) -> Result<Value, ClientError> {
        let value = self.call(method, path, params)?;
        let size = serde_json::to_vec(&value).map_or(0, |v| v.len());
        if size > limit {
            return Err(ClientError::TooLarge { limit, size });
        }
        Ok(value)
    }
}
