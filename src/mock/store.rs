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

use super::tracked::{Members, Tracked};
use crate::schema::index::strip_api_prefix;
use crate::schema::Product;

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
    /// The product this state is of (its roles, privileges and permission rules).
    #[serde(default)]
    pub(in crate::mock) product: Product,
    /// Exact answers for concrete paths (`nodes/pve1/version`), seeded or set.
    pub(in crate::mock) overrides: Tracked<BTreeMap<String, Value>>,
    /// Answers for every path of a template (`nodes/{node}/qemu/{vmid}/status/current`).
    pub(in crate::mock) template_overrides: Tracked<BTreeMap<String, Value>>,
    /// Collection path (`nodes/pve1/qemu`) -> member id -> record.
    pub(in crate::mock) members: Members,
    /// Paths deleted through the API or `delete_object`.
    pub(in crate::mock) deleted: Tracked<BTreeSet<String>>,
    /// The cluster's nodes.
    pub(in crate::mock) nodes: Tracked<Vec<String>>,
    /// Counter for generated ids.
    pub(in crate::mock) seq: u64,
    /// Worker tasks by UPID: how they ended and what they logged.
    #[serde(default)]
    pub(in crate::mock) tasks: Tracked<BTreeMap<String, TaskRecord>>,
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

/// What a cached answer was made from (see [`MockStore::stamped`]).
#[derive(Debug, Clone)]
pub struct Stamp {
    epoch: u64,
    generation: u64,
    /// The revisions of the state's parts that reads are not noted for.
    rest: [u64; 5],
    /// The collections read and their revisions (`None`: it read every collection).
    collections: Option<Revisions>,
    /// The clock's second, if the answer read the clock.
    second: Option<u64>,
}

/// Collections by path and their revisions (`None`: there was none).
type Revisions = Box<[(Box<str>, Option<u64>)]>;

impl MockState {
    /// The revisions of the parts of the state that an answer may read without it being
    /// noted (every answer depends on them).
    fn rest_revisions(&self) -> [u64; 5] {
        [
            self.overrides.revision(),
            self.template_overrides.revision(),
            self.deleted.revision(),
            self.nodes.revision(),
            self.tasks.revision(),
        ]
    }

    /// Whether `path` or one of its ancestors was deleted.
    pub fn is_deleted(&self, path: &str) -> bool {
        if self.deleted.is_empty() {
            return false;
        }
        // The path or one of its ancestors: one ordered-set lookup per level, not a scan.
        let k = key(path);
        k.match_indices('/')
            .map(|(i, _)| &k[..i])
            .chain(std::iter::once(k.as_str()))
            .any(|p| self.deleted.contains(p))
    }

    /// Forgets that `path` and everything below it was deleted.
    pub fn undelete(&mut self, path: &str) {
        let k = key(path);
        let below = |d: &String| {
            *d == k || (d.starts_with(k.as_str()) && d.as_bytes().get(k.len()) == Some(&b'/'))
        };
        // Taken mutably only to change it (a mutable borrow is a new revision).
        if self.deleted.iter().any(below) {
            self.deleted.retain(|d| !below(d));
        }
    }

    /// Removes overrides at and below `path`.
    pub fn drop_overrides_below(&mut self, path: &str) {
        let k = key(path);
        let prefix = format!("{k}/");
        let below = |p: &String| *p == k || p.starts_with(&prefix);
        if self.overrides.keys().any(below) {
            self.overrides.retain(|p, _| !below(p));
        }
    }

    /// Removes the override at exactly `path` (a store key), if there is one.
    pub fn drop_override(&mut self, path: &str) {
        if self.overrides.contains_key(path) {
            self.overrides.remove(path);
        }
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
    let value =
        crate::files::parse_structured(&text, crate::files::is_yaml(path)).map_err(fmt_err)?;
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
    product: Product,
    version: String,
    namespace: String,
    /// Bumped by every write, so readers can cache answers between writes.
    generation: std::sync::atomic::AtomicU64,
    /// Bumped by every change that revisions do not show (a reset, the clock, faults,
    /// offline nodes): every cached answer is stale.
    epoch: std::sync::atomic::AtomicU64,
    /// Clock, faults, latency and the request log, for tests.
    pub(in crate::mock) control: parking_lot::Mutex<super::control::Control>,
    /// Signs tickets and CSRF tokens (a random key per store: tickets end with the
    /// process, as PVE's rotate with its key).
    pub(in crate::mock) signer: super::access::ticket::Signer,
    state: RwLock<MockState>,
    initial: RwLock<MockState>,
    /// One save at a time (a later save never loses to an earlier one's rename).
    saving: parking_lot::Mutex<()>,
}

impl MockStore {
    /// A store starting from `initial` (of `initial.product`).
    pub fn new(version: &str, namespace: &str, initial: MockState) -> MockStore {
        let product = initial.product;
        MockStore {
            product,
            version: version.to_string(),
            namespace: namespace.to_string(),
            state: RwLock::new(initial.clone()),
            initial: RwLock::new(initial),
            generation: std::sync::atomic::AtomicU64::new(0),
            epoch: std::sync::atomic::AtomicU64::new(0),
            control: parking_lot::Mutex::new(super::control::Control::default()),
            signer: super::access::ticket::Signer::random(product.ticket_prefix()),
            saving: parking_lot::Mutex::new(()),
        }
    }

    /// The product this store is of.
    pub fn product(&self) -> Product {
        self.product
    }

    /// The schema version this store serves.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// The namespace that separates stores of the same version.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// Runs `f` with shared access. Nothing inside may log, call Python or wait: a thread
    /// holding the GIL may be waiting for this lock.
    pub(in crate::mock) fn read<T>(&self, f: impl FnOnce(&MockState) -> T) -> T {
        f(&self.state.read())
    }

    /// Runs `f` with exclusive access (the same rule as [`MockStore::read`]).
    pub(in crate::mock) fn write<T>(&self, f: impl FnOnce(&mut MockState) -> T) -> T {
        let mut state = self.state.write();
        let out = f(&mut state);
        // While the lock is held: a reader holding it sees a generation that matches.
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        out
    }

    /// Marks the state as changed in a way revisions do not show (every cached answer is
    /// stale).
    pub fn bump(&self) {
        self.epoch.fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// Runs `f` (an answer being made) and stamps what it read, made at `generation`
    /// (`None`: a write came in between, so the answer may mix two states).
    pub fn stamped<T>(&self, f: impl FnOnce() -> T) -> (T, Option<Stamp>) {
        let epoch = self.epoch.load(std::sync::atomic::Ordering::Acquire);
        let generation = self.generation();
        let (out, reads) = super::tracked::recording(f);
        let state = self.state.read();
        if self.generation() != generation
            || self.epoch.load(std::sync::atomic::Ordering::Acquire) != epoch
        {
            return (out, None);
        }
        let collections = (!reads.all).then(|| {
            reads
                .collections
                .into_iter()
                .map(|c| {
                    let revision = state.members.revision_of(&c);
                    (c.into_boxed_str(), revision)
                })
                .collect()
        });
        let stamp = Stamp {
            epoch,
            generation,
            rest: state.rest_revisions(),
            collections,
            second: reads.clock,
        };
        (out, Some(stamp))
    }

    /// Whether an answer stamped `stamp` is still what the store would answer: nothing it
    /// read changed since (and, if it read the clock, within the same second). A stamp
    /// found valid after writes is moved to the current generation, so the next check is
    /// one comparison.
    pub fn still_valid(&self, stamp: &mut Stamp) -> bool {
        if self.epoch.load(std::sync::atomic::Ordering::Acquire) != stamp.epoch
            || stamp.second.is_some_and(|s| s != self.clock())
        {
            return false;
        }
        if self.generation() == stamp.generation {
            return true;
        }
        let Some(collections) = &stamp.collections else {
            return false;
        };
        let state = self.state.read();
        let generation = self.generation();
        let same = state.rest_revisions() == stamp.rest
            && collections
                .iter()
                .all(|(c, revision)| state.members.revision_of(c) == *revision);
        if same {
            stamp.generation = generation;
        }
        same
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

    /// Makes the live state the one [`MockStore::reset`] returns to (after seeding).
    pub fn keep_as_initial(&self) {
        let state = self.state.read().clone();
        *self.initial.write() = state;
        self.bump();
    }

    /// Writes the live state to `path` as JSON, durably: a temporary file readable by its
    /// owner only (0600: it holds password hashes and TFA secrets), synced, renamed over
    /// `path`, and the directory synced. Returns the generation saved: every write up to
    /// it is in the file.
    pub fn save(&self, path: &Path) -> std::io::Result<u64> {
        use std::io::Write;
        let _one_at_a_time = self.saving.lock();
        // Read first: the snapshot below holds every write with a smaller generation.
        let generation = self.generation();
        let text = {
            let state = self.state.read();
            serde_json::to_vec(&*state).map_err(std::io::Error::other)?
        };
        let tmp = path.with_extension("tmp");
        let mut file = private_file(&tmp)?;
        file.write_all(&text)?;
        file.sync_all()?;
        drop(file);
        std::fs::rename(&tmp, path)?;
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        std::fs::File::open(dir)?.sync_all()?;
        Ok(generation)
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

type Registry = Mutex<HashMap<(Product, String, String), Arc<MockStore>>>;

fn registry() -> &'static Registry {
    static REGISTRY: OnceLock<Registry> = OnceLock::new();
    REGISTRY.get_or_init(Registry::default)
}

/// The process-wide store of `product` for (version, namespace), created with `init` on
/// first use.
pub fn shared_store_of(
    product: Product,
    version: &str,
    namespace: &str,
    init: impl FnOnce() -> MockState,
) -> Arc<MockStore> {
    let mut map = registry().lock();
    map.entry((product, version.to_string(), namespace.to_string()))
        .or_insert_with(|| {
            let mut initial = init();
            initial.product = product;
            Arc::new(MockStore::new(version, namespace, initial))
        })
        .clone()
}

/// The process-wide PVE store for (version, namespace), created with `init` on first use.
pub fn shared_store(
    version: &str,
    namespace: &str,
    init: impl FnOnce() -> MockState,
) -> Arc<MockStore> {
    shared_store_of(Product::Pve, version, namespace, init)
}

/// Drops the store of `product` for (version, namespace): the next use starts fresh.
pub fn forget_store_of(product: Product, version: &str, namespace: &str) -> bool {
    registry()
        .lock()
        .remove(&(product, version.to_string(), namespace.to_string()))
        .is_some()
}

/// Drops the PVE store for (version, namespace): the next use starts fresh.
pub fn forget_store(version: &str, namespace: &str) -> bool {
    forget_store_of(Product::Pve, version, namespace)
}

/// A new file only its owner may read and write (the state file holds secrets).
fn private_file(path: &Path) -> std::io::Result<std::fs::File> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let file = options.open(path)?;
    #[cfg(unix)]
    {
        // An existing file keeps its mode on open: set it.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    Ok(file)
}
