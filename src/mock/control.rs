//! What tests control on a mock store: injected failures, latency, offline nodes, the
//! mock's clock, task duration, ticket expiry, and the request log (secrets redacted).

use std::collections::{BTreeSet, VecDeque};

use serde::Serialize;
use serde_json::{Map, Value};

use super::store::{key, MockStore};
use crate::api::Method;

/// A failure to inject: the next `remaining` requests matching `method` (any when `None`)
/// and `path` (a concrete path prefix or a template) fail with `status` and `message`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    /// HTTP method, or any.
    pub method: Option<String>,
    /// Path without `/api2/json`: a concrete prefix (`nodes/pve1/qemu/100`) or a template.
    pub path: String,
    /// How many more requests fail.
    pub remaining: u32,
    /// HTTP status (or the task's failure for worker operations).
    pub status: u16,
    /// PVE's message.
    pub message: String,
}

/// One request as the mock received it (secrets redacted).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoggedRequest {
    /// Method.
    pub method: &'static str,
    /// Path.
    pub path: String,
    /// Parameters, with passwords, secrets, tokens and tickets replaced.
    pub params: Map<String, Value>,
}

/// What tests control: the clock, injected failures, latency, offline nodes, the request log
/// and ticket expiry.
#[derive(Debug, Default)]
pub struct Control {
    /// Seconds added to the real clock.
    pub clock_offset: i64,
    /// Pending failures.
    pub faults: Vec<Fault>,
    /// Added to every request.
    pub latency: std::time::Duration,
    /// Nodes that answer 595.
    pub offline: BTreeSet<String>,
    /// The last requests (bounded).
    pub requests: VecDeque<LoggedRequest>,
    /// Tickets issued before this time are refused.
    pub tickets_not_before: u64,
    /// Simulated seconds a task takes per second of its nominal duration (0: at once).
    pub time_scale: f64,
}

/// How many requests the log keeps.
pub const REQUEST_LOG_LIMIT: usize = 1000;

/// Replaces the values of secret-looking parameters.
pub fn redact(params: &Map<String, Value>) -> Map<String, Value> {
    params
        .iter()
        .map(|(k, v)| {
            let lower = k.to_ascii_lowercase();
            let secret = ["password", "secret", "token", "ticket", "key", "otp"]
                .iter()
                .any(|s| lower.contains(s));
            (
                k.clone(),
                if secret {
                    Value::from("********")
                } else {
                    v.clone()
                },
            )
        })
        .collect()
}

impl MockStore {
    /// The latency every request gets.
    pub fn latency(&self) -> std::time::Duration {
        self.control.lock().latency
    }

    /// How long tasks take, per second of their nominal duration (0: at once).
    pub fn time_scale(&self) -> f64 {
        self.control.lock().time_scale
    }

    /// Tickets issued before this time are refused.
    pub fn tickets_not_before(&self) -> u64 {
        self.control.lock().tickets_not_before
    }

    /// Whether `node` was taken offline.
    pub fn is_offline(&self, node: &str) -> bool {
        self.control.lock().offline.contains(node)
    }

    /// Records one request (secrets redacted), keeping the last [`REQUEST_LOG_LIMIT`].
    /// `key` is the path as the store keys it (see [`key`]).
    pub fn log_request(&self, method: Method, key: &str, params: &Map<String, Value>) {
        let mut path = String::with_capacity(key.len() + 1);
        path.push('/');
        path.push_str(key);
        let entry = LoggedRequest {
            method: method.as_str(),
            path,
            params: if params.is_empty() {
                Map::new()
            } else {
                redact(params)
            },
        };
        let mut control = self.control.lock();
        control.requests.push_back(entry);
        while control.requests.len() > REQUEST_LOG_LIMIT {
            control.requests.pop_front();
        }
    }

    /// Whether any failure is injected (most requests need not look further).
    pub fn has_faults(&self) -> bool {
        !self.control.lock().faults.is_empty()
    }

    /// The injected failure for this request, if one matches (its count goes down by one):
    /// `(status, message)`. `template` and `path` are without `/api2/json`.
    pub fn take_fault(&self, method: Method, template: &str, path: &str) -> Option<(u16, String)> {
        let mut control = self.control.lock();
        let pos = control.faults.iter().position(|f| {
            f.method
                .as_deref()
                .is_none_or(|m| m.eq_ignore_ascii_case(method.as_str()))
                && (f.path == template
                    || path == f.path
                    || path
                        .strip_prefix(f.path.trim_end_matches('/'))
                        .is_some_and(|rest| rest.starts_with('/')))
        })?;
        let fault = &mut control.faults[pos];
        fault.remaining = fault.remaining.saturating_sub(1);
        let failure = (fault.status, fault.message.clone());
        if fault.remaining == 0 {
            control.faults.remove(pos);
        }
        Some(failure)
    }

    /// The mock's clock (real time plus what tests advanced it by), epoch seconds.
    pub fn now(&self) -> u64 {
        let now = self.clock();
        super::tracked::note_clock(now);
        now
    }

    /// The clock, not noted as read (for checking a cached answer's second).
    pub(in crate::mock) fn clock(&self) -> u64 {
        let real = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()) as i64;
        (real + self.control.lock().clock_offset).max(0) as u64
    }

    /// Moves the clock forward by `seconds` (callers check the bound, see
    /// [`crate::limits::MAX_CLOCK_STEP_SECONDS`]; the offset saturates rather than wraps).
    pub fn advance_clock(&self, seconds: i64) {
        let mut control = self.control.lock();
        control.clock_offset = control.clock_offset.saturating_add(seconds);
        drop(control);
        self.bump();
    }

    /// Adds a failure for the next `fault.remaining` matching requests.
    pub fn inject_fault(&self, mut fault: Fault) {
        fault.path = key(&fault.path);
        self.control.lock().faults.push(fault);
        self.bump();
    }

    /// Sets the latency every request gets.
    pub fn set_latency(&self, latency: std::time::Duration) {
        self.control.lock().latency = latency;
    }

    /// Takes a node offline (its requests answer 595) or back online.
    pub fn set_node_offline(&self, node: &str, offline: bool) {
        let mut c = self.control.lock();
        if offline {
            c.offline.insert(node.to_string());
        } else {
            c.offline.remove(node);
        }
        drop(c);
        self.bump();
    }

    /// The requests received so far (oldest first, secrets redacted).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.control.lock().requests.iter().cloned().collect()
    }

    /// Forgets the request log.
    pub fn clear_requests(&self) {
        self.control.lock().requests.clear();
    }

    /// Makes tasks take `scale` times their nominal duration on the mock's clock
    /// (0, the default, finishes them at once).
    pub fn set_time_scale(&self, scale: f64) {
        self.control.lock().time_scale = if scale.is_finite() {
            scale.max(0.0)
        } else {
            0.0
        };
        self.bump();
    }

    /// Makes every ticket issued so far invalid.
    pub fn expire_tickets(&self) {
        let now = self.now();
        self.control.lock().tickets_not_before = now + 1;
    }
}
