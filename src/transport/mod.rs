//! The real transports: HTTPS to a PVE node ([`https`]), and the pvesh-based ones
//! ([`pvesh`]: `local` subprocess, `openssh` through the system `ssh`, `ssh_paramiko`
//! through russh in [`ssh`]). All of them are async and run on [`crate::runtime`].

pub mod https;
pub mod pvesh;
pub mod ssh;

use std::path::PathBuf;
use std::time::Duration;

use serde_json::{Map, Value};

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

/// One API request as every transport receives it.
#[derive(Debug, Clone, Default)]
pub struct Call {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: String,
    /// The full API path (`/api2/json/nodes/pve1/qemu`), segments percent-encoded.
    pub path: String,
    /// Parameters (already encoded: booleans 0/1, lists as PVE wants them).
    pub params: Map<String, Value>,
    /// Files to send (makes the request multipart).
    pub uploads: Vec<Upload>,
    /// Overrides the transport's total timeout for this call.
    pub timeout: Option<Duration>,
    /// Refuse answers larger than this many bytes (`get_bounded`).
    pub limit: Option<usize>,
}

impl Call {
    /// A call without uploads, timeout override or size limit.
    pub fn new(method: &str, path: &str, params: Map<String, Value>) -> Call {
        Call {
            method: method.to_ascii_uppercase(),
            path: path.to_string(),
            params,
            ..Call::default()
        }
    }

    /// Whether the call only reads (may be retried).
    pub fn is_read(&self) -> bool {
        matches!(self.method.as_str(), "GET" | "HEAD")
    }
}

/// The delay before retry number `attempt` (1-based): `backoff * 2^(attempt-1)`, capped
/// at 30 seconds.
pub fn retry_delay(backoff: Duration, attempt: u32) -> Duration {
    let factor = 2f64.powi(attempt.saturating_sub(1).min(30) as i32);
    Duration::from_secs_f64((backoff.as_secs_f64() * factor).min(30.0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let b = Duration::from_millis(500);
        assert_eq!(retry_delay(b, 1), Duration::from_millis(500));
        assert_eq!(retry_delay(b, 2), Duration::from_secs(1));
        assert_eq!(retry_delay(b, 3), Duration::from_secs(2));
        assert_eq!(retry_delay(b, 20), Duration::from_secs(30));
        assert_eq!(retry_delay(b, u32::MAX), Duration::from_secs(30));
    }
}
