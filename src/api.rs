//! The request model and the errors every layer shares (the bottom of the crate, above
//! only [`crate::schema`]): [`Call`] and [`Upload`] (what a backend is asked to do),
//! [`ApiError`] (an answer shaped like PVE's errors), [`Error`] (why a call failed, the one
//! client-facing error), the nouns several layers speak of: [`Upid`] and [`ApiPath`], and
//! [`Answer`] (an answer in its final form: a value, or [`Rows`] of objects).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde_json::{Map, Value};

mod answer;

pub use crate::schema::Method;
use crate::schema::RequestError;
pub use answer::{Answer, Cell, Cells, JsonKeys, Rows};

/// The root of every API path.
pub const API_ROOT: &str = "/api2/json";

// -- requests -------------------------------------------------------------------------------

/// A file sent with a request: the request becomes `multipart/form-data` and the file is
/// streamed as one part of type `application/octet-stream`.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The form field (`filename` for PVE's storage upload).
    pub field: String,
    /// The file name sent in the part's `Content-Disposition`.
    pub file_name: String,
    /// Where the bytes come from.
    pub source: UploadSource,
}

/// The bytes of an [`Upload`].
#[derive(Debug, Clone)]
pub enum UploadSource {
    /// A file on disk, streamed (memory stays flat whatever its size).
    Path(PathBuf),
    /// Bytes already in memory (a `BytesIO`).
    Bytes(Vec<u8>),
}

impl UploadSource {
    /// The size in bytes.
    pub fn len(&self) -> std::io::Result<u64> {
        match self {
            UploadSource::Path(p) => Ok(std::fs::metadata(p)?.len()),
            UploadSource::Bytes(b) => Ok(b.len() as u64),
        }
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> std::io::Result<bool> {
        self.len().map(|n| n == 0)
    }
}

/// One API request as every backend receives it.
#[derive(Debug, Clone)]
pub struct Call {
    /// The method (PVE has no PATCH: the SDK's `patch` sends PUT, as pvesh `set` does).
    pub method: Method,
    /// The full API path (`/api2/json/nodes/pve1/qemu`), segments percent-encoded.
    pub path: String,
    /// Parameters (encoded by the client: booleans 0/1, lists as PVE wants them).
    pub params: Map<String, Value>,
    /// Files to send (makes the request multipart).
    pub uploads: Vec<Upload>,
    /// Overrides the backend's total timeout for this call.
    pub timeout: Option<Duration>,
    /// Refuse answers larger than this many bytes (`get_bounded`).
    pub limit: Option<usize>,
}

impl Call {
    /// A call without uploads, timeout override or size limit.
    pub fn new(method: Method, path: impl Into<String>, params: Map<String, Value>) -> Call {
        Call {
            method,
            path: path.into(),
            params,
            uploads: Vec::new(),
            timeout: None,
            limit: None,
        }
    }

    /// Whether the call only reads (may be retried).
    pub fn is_read(&self) -> bool {
        self.method == Method::Get
    }
}

// -- errors ---------------------------------------------------------------------------------

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

    /// PVE's 400 for parameters: `Parameter verification failed.` and one message each.
    pub fn params<K: Into<String>, V: Into<String>>(
        errors: impl IntoIterator<Item = (K, V)>,
    ) -> ApiError {
        ApiError {
            status: 400,
            message: "Parameter verification failed.".into(),
            errors: Some(
                errors
                    .into_iter()
                    .map(|(k, v)| (k.into(), v.into()))
                    .collect(),
            ),
            exit_code: None,
        }
    }

    /// The standard reason phrase of the status (`Internal Server Error`).
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
            RequestError::Params(p) => ApiError::params(p.errors),
            other @ RequestError::NotImplemented { .. } => {
                ApiError::new(other.status(), other.to_string())
            }
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
        415 => "Unsupported Media Type",
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

/// Why a call failed. Each variant says whether the request may have reached the server,
/// which is what decides whether repeating a write is safe.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Error {
    /// PVE (or the mock) answered with an error: the request arrived and was refused or
    /// failed there; repeating it repeats whatever part of it PVE did.
    Api(ApiError),
    /// The answer is larger than the caller allowed (`get_bounded`): the request was
    /// served, only its answer was refused.
    TooLarge {
        /// The allowed size in bytes.
        limit: usize,
        /// The answer's size in bytes (at least this much was seen).
        size: usize,
    },
    /// Login failed or credentials are missing: no API request was sent.
    Auth(String),
    /// Logging in could not be completed because of this transport failure (timeout,
    /// refused connection, TLS): no API request was sent. A login failure and the
    /// transport failure at once (Python raises a class deriving from both).
    Login(Box<Error>),
    /// The server answered with a redirect (never followed): the request arrived, PVE does
    /// not redirect API calls, so something in between did.
    Redirect {
        /// 301, 302, ...
        status: u16,
        /// Where it pointed.
        location: Option<String>,
    },
    /// The request or the command timed out: it may have been sent and applied.
    Timeout(String),
    /// No connection could be made, or it broke: may have been sent if it broke
    /// mid-request; a refused connection means it was not.
    Connection(String),
    /// TLS failed (untrusted certificate, fingerprint mismatch, handshake): not sent.
    Tls(String),
    /// The SSH server's host key is unknown, changed or not the pinned one: not sent.
    HostKey(String),
    /// The answer could not be decoded: the request was served.
    Encoding(String),
    /// An argument the caller gave is unusable (the message names it): not sent.
    Invalid(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Api(e) => write!(f, "{e}"),
            Error::TooLarge { limit, size } => write!(
                f,
                "response of {size} bytes exceeds the limit of {limit} bytes"
            ),
            Error::Redirect { status, location } => write!(
                f,
                "HTTP {status} redirect to {} refused",
                location.as_deref().unwrap_or("(no location)")
            ),
            Error::Login(inner) => write!(f, "login: {inner}"),
            Error::Auth(m)
            | Error::Timeout(m)
            | Error::Connection(m)
            | Error::Tls(m)
            | Error::HostKey(m)
            | Error::Encoding(m)
            | Error::Invalid(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {}

impl From<ApiError> for Error {
    fn from(e: ApiError) -> Error {
        Error::Api(e)
    }
}

impl From<RequestError> for Error {
    fn from(e: RequestError) -> Error {
        Error::Api(e.into())
    }
}

// -- nouns ----------------------------------------------------------------------------------

/// A worker task's id: `UPID:node:pid:pstart:starttime:type:id:user:` (numbers in hex).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upid {
    /// Node.
    pub node: String,
    /// Worker pid.
    pub pid: u64,
    /// Process start time (clock ticks).
    pub pstart: u64,
    /// The Rust products' per-process task counter (`UPID:node:pid:pstart:TASKID:...`);
    /// `None` for PVE's and PMG's UPIDs, which have no such field.
    pub task_id: Option<u64>,
    /// Task start (epoch seconds).
    pub starttime: u64,
    /// Task type (`qmcreate`).
    pub kind: String,
    /// Task id (often the vmid).
    pub id: String,
    /// User (or API token) that started it.
    pub user: String,
    /// What follows the user, if anything (PVE writes nothing there).
    pub comment: String,
}

/// Why a text is not a UPID.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a task id (expected UPID:node:pid:pstart:starttime:type:id:user:)")]
pub struct NotAUpid(pub String);

impl FromStr for Upid {
    type Err = NotAUpid;

    fn from_str(text: &str) -> Result<Upid, NotAUpid> {
        let bad = || NotAUpid(text.to_string());
        let parts: Vec<&str> = text.split(':').collect();
        if parts.len() < 8 || parts[0] != "UPID" || parts[1].is_empty() {
            return Err(bad());
        }
        let hex = |s: &str| u64::from_str_radix(s, 16).map_err(|_| bad());
        let is_hex8 = |s: &str| s.len() == 8 && s.bytes().all(|b| b.is_ascii_hexdigit());
        // PBS and PDM: UPID:node:pid:pstart:task_id:starttime:type:id:authid:
        let rust = parts.len() >= 9 && is_hex8(parts[4]) && is_hex8(parts[5]);
        let (task_id, at) = if rust {
            (Some(hex(parts[4])?), 5)
        } else {
            (None, 4)
        };
        Ok(Upid {
            node: parts[1].to_string(),
            pid: hex(parts[2])?,
            pstart: hex(parts[3])?,
            task_id,
            starttime: hex(parts[at])?,
            kind: parts[at + 1].to_string(),
            id: parts[at + 2].to_string(),
            user: parts[at + 3].to_string(),
            comment: parts[at + 4..].join(":").trim_end_matches(':').to_string(),
        })
    }
}

impl fmt::Display for Upid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "UPID:{}:{:08X}:{:08X}:",
            self.node, self.pid, self.pstart
        )?;
        if let Some(task_id) = self.task_id {
            write!(f, "{task_id:08X}:")?;
        }
        write!(
            f,
            "{:08X}:{}:{}:{}:",
            self.starttime, self.kind, self.id, self.user
        )?;
        if !self.comment.is_empty() {
            write!(f, "{}:", self.comment)?;
        }
        Ok(())
    }
}

impl Upid {
    /// `/api2/json/nodes/{node}/tasks/{upid}` of the task (`text` is the UPID as PVE wrote
    /// it, kept byte for byte).
    pub fn task_path(&self, text: &str) -> String {
        let mut p = ApiPath::root();
        p.push("nodes").push(&self.node).push("tasks").push(text);
        p.into_string()
    }
}

/// An API path built segment by segment: every segment is percent-encoded with no safe
/// characters (`b/c` in one segment becomes `b%2Fc`), as the original SDK's navigation did.
/// One encoder for the SDK's navigation and the CLI.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct ApiPath(String);

impl ApiPath {
    /// `/api2/json`.
    pub fn root() -> ApiPath {
        ApiPath(API_ROOT.to_string())
    }

    /// A path already encoded (`/api2/json/nodes/pve1`).
    pub fn from_encoded(path: impl Into<String>) -> ApiPath {
        ApiPath(path.into())
    }

    /// A path as users write it (`/nodes/pve1/qemu`, `nodes/pve1`, or with the
    /// `/api2/json` root): each `/`-separated part becomes one encoded segment.
    pub fn parse(text: &str) -> ApiPath {
        let rel = text
            .strip_prefix(API_ROOT)
            .filter(|r| r.is_empty() || r.starts_with('/'))
            .unwrap_or(text);
        let mut p = ApiPath::root();
        for part in rel.trim_matches('/').split('/').filter(|s| !s.is_empty()) {
            p.push(part);
        }
        p
    }

    /// Appends one segment, percent-encoded.
    pub fn push(&mut self, segment: &str) -> &mut ApiPath {
        push_segment(&mut self.0, segment);
        self
    }

    /// The encoded path.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The encoded path, owned.
    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for ApiPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Appends `/` and `segment` percent-encoded with no safe characters to an encoded path.
pub fn push_segment(path: &mut String, segment: &str) {
    path.push('/');
    path.extend(utf8_percent_encode(segment, NON_ALPHANUMERIC));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upid_round_trip() {
        let text = "UPID:pve1:000003E8:00001B58:6B08E68D:qmcreate:101:root@pam:";
        let u: Upid = text.parse().unwrap();
        assert_eq!(u.node, "pve1");
        assert_eq!((u.pid, u.pstart, u.starttime), (1000, 7000, 0x6B08_E68D));
        assert_eq!((u.kind.as_str(), u.id.as_str()), ("qmcreate", "101"));
        assert_eq!(u.user, "root@pam");
        assert_eq!(u.to_string(), text);
        assert_eq!(
            u.task_path(text),
            "/api2/json/nodes/pve1/tasks/UPID%3Apve1%3A000003E8%3A00001B58%3A6B08E68D%3Aqmcreate%3A101%3Aroot%40pam%3A"
        );
        let pbs = "UPID:localhost:000003E8:0000A1B2:00000007:6927A000:verify:backup\\x3avm-100:root@pam!ci:";
        let p: Upid = pbs.parse().unwrap();
        assert_eq!(
            (p.task_id, p.starttime, p.kind.as_str(), p.user.as_str()),
            (Some(7), 0x6927_A000, "verify", "root@pam!ci")
        );
        assert_eq!(p.to_string(), pbs);
        assert!("UPID:bogus".parse::<Upid>().is_err());
        assert!("UPID::1:2:3:t:i:u:".parse::<Upid>().is_err());
        assert!("UPID:n:zz:2:3:t:i:u:".parse::<Upid>().is_err());
        let t: Upid = "UPID:n:1:2:3:t:i:root@pam!ci:".parse().unwrap();
        assert_eq!((t.user.as_str(), t.comment.as_str()), ("root@pam!ci", ""));
        let c: Upid = "UPID:n:1:2:3:t:i:root@pam:a:b:".parse().unwrap();
        assert_eq!((c.user.as_str(), c.comment.as_str()), ("root@pam", "a:b"));
        assert_eq!(
            c.to_string(),
            "UPID:n:00000001:00000002:00000003:t:i:root@pam:a:b:"
        );
    }

    #[test]
    fn paths_are_encoded_per_segment() {
        let mut p = ApiPath::root();
        p.push("nodes").push("pve 1").push("b/c");
        assert_eq!(p.as_str(), "/api2/json/nodes/pve%201/b%2Fc");
        assert_eq!(
            ApiPath::parse("/nodes/pve1/").as_str(),
            "/api2/json/nodes/pve1"
        );
        assert_eq!(
            ApiPath::parse("/api2/json/cluster").as_str(),
            "/api2/json/cluster"
        );
        assert_eq!(ApiPath::parse("/").as_str(), "/api2/json");
        assert_eq!(
            ApiPath::parse("/api2/jsonx").as_str(),
            "/api2/json/api2/jsonx"
        );
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
