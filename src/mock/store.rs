//! The mock's state: one store per (schema version, namespace) in a process, shared by every
//! mock client and server. A cheap `Arc` handle over a `parking_lot::RwLock`: many readers at
//! once, writers serialized, and the lock is never held across an `.await` (nothing inside
//! awaits), so a plain blocking lock is the right tool and costs tens of nanoseconds.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use parking_lot::{Mutex, RwLock};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::schema::index::strip_api_prefix;

/// A member of a collection (a VM, a user, a pool ...): its configuration and the state
/// PVE keeps beside it (status, node).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Record {
    /// What `GET .../config` (or the member itself) shows.
    pub config: Map<String, Value>,
    /// Runtime state shown in lists (`status`, ...).
    #[serde(default)]
    pub meta: Map<String, Value>,
}

/// Everything the mock remembers.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct MockState {
    /// Exact answers for concrete paths (`nodes/pve1/version`), seeded or set.
    pub overrides: BTreeMap<String, Value>,
    /// Answers for every path of a template (`nodes/{node}/qemu/{vmid}/status/current`).
    pub template_overrides: BTreeMap<String, Value>,
    /// Collection path (`nodes/pve1/qemu`) -> member id -> record.
    pub members: BTreeMap<String, BTreeMap<String, Record>>,
    /// Paths deleted through the API or `delete_object`.
    pub deleted: BTreeSet<String>,
    /// The cluster's nodes.
    pub nodes: Vec<String>,
    /// Counter for generated ids.
    pub seq: u64,
    /// Worker tasks by UPID: how they ended and what they logged.
    #[serde(default)]
    pub tasks: BTreeMap<String, TaskRecord>,
}

/// A finished worker task.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct TaskRecord {
    /// `OK`, or the error (PVE's `exitstatus`).
    pub exitstatus: String,
    /// Log lines, in order.
    pub log: Vec<String>,
    /// When it ends (epoch seconds, on the mock's clock); running until then.
    pub endtime: u64,
}

/// Normalizes an API path to the store's key form: no `/api2/json`, no surrounding slashes.
pub fn key(path: &str) -> String {
    let stripped = strip_api_prefix(path);
    if stripped.contains('%') {
        // `UPID%3Apve1...` and `UPID:pve1...` are the same path.
        percent_encoding::percent_decode_str(stripped)
            .decode_utf8_lossy()
            .into_owned()
    } else {
        stripped.to_string()
    }
}

impl MockState {
    /// Whether `path` or one of its ancestors was deleted.
    pub fn is_deleted(&self, path: &str) -> bool {
        if self.deleted.is_empty() {
            return false;
        }
        let k = key(path);
        self.deleted.iter().any(|d| {
            k == *d || (k.starts_with(d.as_str()) && k.as_bytes().get(d.len()) == Some(&b'/'))
        })
    }

    /// Forgets that `path` and everything below it was deleted.
    pub fn undelete(&mut self, path: &str) {
        let k = key(path);
        self.deleted.retain(|d| {
            !(*d == k || (d.starts_with(k.as_str()) && d.as_bytes().get(k.len()) == Some(&b'/')))
        });
    }

    /// Removes overrides at and below `path`.
    pub fn drop_overrides_below(&mut self, path: &str) {
        let k = key(path);
        let prefix = format!("{k}/");
        self.overrides
            .retain(|p, _| *p != k && !p.starts_with(&prefix));
    }
}

/// Why initial data could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DataError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not JSON/YAML, or not a mapping of paths.
    #[error("{path}: {message}")]
    Format {
        /// The file.
        path: PathBuf,
        /// What is wrong (names the key where one is at fault).
        message: String,
    },
}

/// Reads an initial-data file: a JSON or YAML mapping of API paths (concrete or templates)
/// to values. A key that is not an API path is an error naming it.
pub fn read_data_file(path: &Path) -> Result<Vec<(String, Value)>, DataError> {
    let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let fmt_err = |message: String| DataError::Format {
        path: path.to_path_buf(),
        message,
    };
    let is_yaml = matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("yaml" | "yml")
    );
    let value: Value = if is_yaml {
        serde_norway::from_str(&text).map_err(|e| fmt_err(format!("invalid YAML: {e}")))?
    } else {
        serde_json::from_str(&text).map_err(|e| fmt_err(format!("invalid JSON: {e}")))?
    };
    let Value::Object(map) = value else {
        return Err(fmt_err(
            "expected a mapping of API paths to values at the top level".into(),
        ));
    };
    let mut out = Vec::with_capacity(map.len());
    for (k, v) in map {
        if !k.starts_with('/') {
            return Err(fmt_err(format!(
                "key '{k}': expected an API path such as /api2/json/nodes/pve1/qemu/100/config"
            )));
        }
        out.push((k, v));
    }
    Ok(out)
}

/// A store handle: the live state, and the initial state `reset()` returns to.
#[derive(Debug)]
pub struct MockStore {
    version: String,
    namespace: String,
    /// Bumped by every write, so readers can cache answers between writes.
    generation: std::sync::atomic::AtomicU64,
    /// Clock, faults, latency and the request log, for tests.
    control: parking_lot::Mutex<Control>,
    state: RwLock<MockState>,
    initial: RwLock<MockState>,
}

impl MockStore {
    /// A store starting from `initial`.
    pub fn new(version: &str, namespace: &str, initial: MockState) -> MockStore {
        MockStore {
            version: version.to_string(),
            namespace: namespace.to_string(),
            state: RwLock::new(initial.clone()),
            initial: RwLock::new(initial),
            generation: std::sync::atomic::AtomicU64::new(0),
            control: parking_lot::Mutex::new(Control::default()),
        }
    }

    /// The schema version this store serves.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The namespace that separates stores of the same version.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Runs `f` with shared access.
    pub fn read<T>(&self, f: impl FnOnce(&MockState) -> T) -> T {
        f(&self.state.read())
    }

    /// Runs `f` with exclusive access.
    pub fn write<T>(&self, f: impl FnOnce(&mut MockState) -> T) -> T {
        let mut state = self.state.write();
        let out = f(&mut state);
        self.bump();
        out
    }

    /// Marks the state as changed (cached answers are stale).
    pub fn bump(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// A number that changes whenever the state may have changed.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Back to the initial state (default cluster plus initial data).
    pub fn reset(&self) {
        let initial = self.initial.read().clone();
        *self.state.write() = initial;
        self.bump();
    }

    /// Replaces the initial state (and the live one), for seeding from Python.
    pub fn set_initial(&self, state: MockState) {
        *self.initial.write() = state.clone();
        *self.state.write() = state;
        self.bump();
    }

    /// A copy of the live state.
    pub fn snapshot(&self) -> MockState {
        self.state.read().clone()
    }

    /// Writes the live state to `path` as JSON (atomically: temp file, then rename).
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let text = serde_json::to_string_pretty(&self.snapshot()).map_err(std::io::Error::other)?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)?;
        std::fs::rename(tmp, path)
    }

    /// Replaces the live state with one saved by [`MockStore::save`].
    pub fn load(&self, path: &Path) -> Result<(), DataError> {
        let text = std::fs::read_to_string(path).map_err(|source| DataError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        let state: MockState = serde_json::from_str(&text).map_err(|e| DataError::Format {
            path: path.to_path_buf(),
            message: format!("not a saved mock state: {e}"),
        })?;
        *self.state.write() = state;
        self.bump();
        Ok(())
    }
}

type Registry = Mutex<HashMap<(String, String), Arc<MockStore>>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::default)
}

/// The process-wide store for (version, namespace), created with `init` on first use.
pub fn shared_store(
    version: &str,
    namespace: &str,
    init: impl FnOnce() -> MockState,
) -> Arc<MockStore> {
    let mut map = registry().lock();
    map.entry((version.to_string(), namespace.to_string()))
        .or_insert_with(|| Arc::new(MockStore::new(version, namespace, init())))
        .clone()
}

/// Drops the store for (version, namespace): the next use starts fresh.
pub fn forget_store(version: &str, namespace: &str) -> bool {
    registry()
        .lock()
        .remove(&(version.to_string(), namespace.to_string()))
        .is_some()
}

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
    pub method: String,
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
    pub requests: std::collections::VecDeque<LoggedRequest>,
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
    /// The test-controlled state.
    pub fn control(&self) -> parking_lot::MutexGuard<'_, Control> {
        self.control.lock()
    }

    /// The mock's clock (real time plus what tests advanced it by), epoch seconds.
    pub fn now(&self) -> u64 {
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
