//! The in-memory Proxmox VE: one model of PVE, used by the SDK's mock backend and the
//! server alike. Every request is authenticated and authorized as PVE does it
//! ([`access`]), validated against the schema, routed once per operation ([`routes`]) to a
//! computed handler ([`computed`]: the area files [`cluster`], [`guests`], [`storage`],
//! [`tasks`], [`access`]) or to the generic collection behaviour ([`reads`], [`writes`]),
//! and fails with PVE's wording ([`messages`]). State lives in a [`store::MockStore`].

pub mod access;
pub mod agent;
pub mod appliances;
pub mod ceph;
pub mod clone;
pub mod cluster;
pub mod collections;
pub mod computed;
pub mod containers;
pub mod control;
pub mod devices;
pub mod digest;
pub mod firewall;
pub mod firewall_sets;
pub mod generate;
pub mod guests;
pub mod messages;
pub mod node_config;
pub mod node_views;
pub mod pbs;
pub mod pdm;
pub mod pending;
pub mod pmg;
pub mod pools;
pub mod reads;
pub mod routes;
pub mod sdn;
pub mod seed;
pub mod snapshots;
pub mod storage;
pub mod storage_types;
pub mod store;
pub mod tasks;
pub mod tracked;
pub mod volumes;
pub mod writes;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::api::{Answer, ApiError, Call, Error, Method, UploadSource};
use crate::schema::{bundled, ApiSchema, Operation, Product, RequestError, SchemaError};
pub use access::Caller;
use collections::Collections;
use generate::GenContext;
use routes::{Route, Routes};
use store::{key, MockStore};

/// What the mock derives from a schema once: its collections and every operation's route.
#[derive(Debug)]
struct Model {
    collections: Arc<Collections>,
    routes: Routes,
}

/// The model of `schema` (built once per schema version in a process).
fn model(schema: &ApiSchema) -> Arc<Model> {
    type Models = parking_lot::Mutex<HashMap<(Product, String), Arc<Model>>>;
    static MODELS: OnceLock<Models> = OnceLock::new();
    let mut models = MODELS.get_or_init(Default::default).lock();
    models
        .entry((schema.product(), schema.version().to_string()))
        .or_insert_with(|| {
            let collections = collections::for_schema(schema);
            let routes = Routes::for_schema(schema, &collections);
            Arc::new(Model {
                collections,
                routes,
            })
        })
        .clone()
}

/// The mock PVE of one schema version and store, acting as one caller.
#[derive(Debug, Clone)]
pub struct MockPve {
    schema: Arc<ApiSchema>,
    model: Arc<Model>,
    store: Arc<MockStore>,
    lenient: bool,
    /// The cluster's nodes were named (`PROXMOX_MOCK_NODES`): other nodes answer as PVE's
    /// unknown nodes do.
    strict_nodes: bool,
    /// Who in-process calls act as (`root@pam` unless told otherwise).
    caller: Caller,
    /// Why in-process calls cannot be made at all: the credentials given were refused
    /// (every call fails with it, as every call over HTTPS would).
    refused: Option<String>,
    /// Generated answers by concrete path: generation is deterministic, so a path's answer
    /// is built once and cloned after (state overlays are applied on top each time).
    generated: Arc<parking_lot::RwLock<HashMap<String, Arc<Value>, foldhash::fast::RandomState>>>,
    /// Guest list rows as the server last wrote them (see [`guests::RowCache`]).
    rows: Arc<guests::RowCache>,
}

/// Why a mock could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    /// Unknown version.
    #[error(transparent)]
    Schema(#[from] SchemaError),
    /// A bad initial-data file.
    #[error(transparent)]
    Data(#[from] store::DataError),
}

/// One request as a handler sees it: who asks, for which operation, with which (validated)
/// parameters.
pub struct Ctx<'a> {
    /// The mock.
    pub mock: &'a MockPve,
    /// Who asks.
    pub caller: &'a Caller,
    /// The operation.
    pub op: &'a Operation,
    /// The concrete path without `/api2/json` or surrounding slashes.
    pub path: &'a str,
    /// Path parameters (name, decoded value).
    pub path_params: &'a [(&'a str, String)],
    /// All parameters, validated and coerced (path parameters included).
    pub params: &'a Map<String, Value>,
    /// The answer goes out as JSON text (the server): a list may come already written.
    pub wire: bool,
}

impl Ctx<'_> {
    /// What generated answers are made from.
    pub fn gen(&self) -> GenContext<'_> {
        GenContext {
            path_params: self.path_params,
        }
    }

    /// The value of path parameter `name`.
    pub fn path_param(&self, name: &str) -> Option<&str> {
        path_param(self.path_params, name)
    }

    /// A parameter as text (numbers and booleans as PVE writes them).
    pub fn text(&self, k: &str) -> Option<String> {
        match self.params.get(k)? {
            Value::String(s) => Some(s.clone()),
            Value::Null => None,
            v => Some(v.to_string()),
        }
    }

    /// A list parameter (`delete=a,b;c`) split as PVE splits it; empty when not given.
    pub fn list(&self, k: &str) -> Vec<String> {
        self.text(k)
            .map(|d| {
                crate::schema::formats::split_list(&d)
                    .into_iter()
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether a boolean parameter is set (`1`, `true`).
    pub fn flag(&self, k: &str) -> bool {
        self.params.get(k).is_some_and(is_set)
    }

    /// The store.
    pub fn store(&self) -> &MockStore {
        &self.mock.store
    }
}

/// Whether a boolean, given or stored, is set: PVE's `1` (or `"1"`), or JSON `true` (the
/// Rust products').
pub fn is_set(v: &Value) -> bool {
    v == 1 || v == true || v == "1"
}

/// Bound on cached generated answers (the cache is dropped when it grows past this).
const GENERATED_CACHE_LIMIT: usize = 4096;

impl MockPve {
    /// The mock for `version` (`latest` allowed) over the process-wide store of
    /// (version, namespace); a new store starts from the default cluster plus the data
    /// file named by `data_path` (a bad file is an error naming it and the key).
    pub fn shared(
        version: &str,
        namespace: &str,
        data_path: Option<&std::path::Path>,
        lenient: bool,
    ) -> Result<MockPve, MockError> {
        Self::shared_of(Product::Pve, version, namespace, data_path, lenient)
    }

    /// The mock of `product` for `version` over the process-wide store of (product,
    /// version, namespace): PVE's default cluster, PBS's server, PMG's gateway or PDM's
    /// datacenter, plus the data file named by `data_path`.
    pub fn shared_of(
        product: Product,
        version: &str,
        namespace: &str,
        data_path: Option<&std::path::Path>,
        lenient: bool,
    ) -> Result<MockPve, MockError> {
        let schema = bundled::load_of(product, version)?;
        let model = model(&schema);
        let seeds = match data_path {
            Some(p) => store::read_data_file(p)?,
            None => Vec::new(),
        };
        let store = store::shared_store_of(product, schema.version(), namespace, || {
            let mut state = seed::default_state_of(product);
            seed::apply_seeds(&schema, &model.collections, &mut state, seeds);
            state
        });
        Ok(MockPve {
            strict_nodes: std::env::var_os("PROXMOX_MOCK_NODES").is_some(),
            schema,
            model,
            store,
            lenient,
            caller: Caller::root(),
            refused: None,
            generated: Arc::default(),
            rows: Arc::default(),
        })
    }

    /// The same mock, with in-process calls made as `caller`.
    pub fn acting_as(&self, caller: Caller) -> MockPve {
        MockPve {
            caller,
            refused: None,
            ..self.clone()
        }
    }

    /// The same mock, with in-process calls made as the user these credentials log in
    /// as: a password (and TOTP code) or an API token. `root@pam`, or no user, is root
    /// whatever the password (code written for the original mock passes dummy ones).
    /// Refused credentials make every call fail with `Auth`, as a login over HTTPS would.
    pub fn logged_in(
        &self,
        user: Option<&str>,
        password: Option<&str>,
        token: Option<(&str, &str)>,
        otp: Option<&str>,
    ) -> MockPve {
        let Some(user) = user.filter(|u| *u != "root@pam") else {
            return self.clone();
        };
        let outcome = match (token, password) {
            (Some((name, secret)), _) => self.token_caller(user, name, secret),
            (None, Some(pw)) => self.login_caller(user, pw, otp),
            (None, None) => Ok(Caller::User {
                userid: user.to_string(),
            }),
        };
        match outcome {
            Ok(caller) => self.acting_as(caller),
            Err(e) => MockPve {
                refused: Some(format!(
                    "login failed for {user}: {} {}",
                    e.status, e.message
                )),
                ..self.clone()
            },
        }
    }

    /// Who in-process calls act as.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The schema this mock answers from.
    pub fn schema(&self) -> &Arc<ApiSchema> {
        &self.schema
    }

    /// The store behind it.
    pub fn store(&self) -> &Arc<MockStore> {
        &self.store
    }

    /// The collections of its schema.
    pub fn collections(&self) -> &Collections {
        &self.model.collections
    }

    /// Whether requests PVE would refuse as unknown are stored instead (legacy seeding).
    pub fn lenient(&self) -> bool {
        self.lenient
    }

    /// Whether nobody (no ticket, no token) may call `method path`, decided before the
    /// request's body is read, as PVE's HTTP server decides it: the operations whose
    /// permissions name `world` (the login among them) are open, every other known
    /// operation answers `401 No ticket`. Unknown paths pass (they answer 501 later).
    pub fn refuse_anonymous(&self, method: Method, path: &str) -> Result<(), ApiError> {
        let Some((endpoint, _)) = self.schema.resolve(path) else {
            return Ok(());
        };
        let Some(op) = endpoint.operation(method) else {
            return Ok(());
        };
        let world = op
            .info
            .permissions
            .as_ref()
            .and_then(|p| p.get("user"))
            .and_then(Value::as_str)
            == Some("world");
        if world || crate::schema::index::strip_api_prefix(path) == "access/ticket" {
            Ok(())
        } else {
            Err(access::check::no_ticket_of(self.schema.product()))
        }
    }

    /// The latency tests asked for (every request waits this long first).
    pub fn latency(&self) -> Duration {
        self.store.latency()
    }

    /// The mock's clock (epoch seconds), which tests can advance.
    pub fn now(&self) -> u64 {
        self.store.now()
    }

    /// One in-process call, as [`MockPve::caller`]: an upload when the call carries a
    /// file, else [`MockPve::handle`]. Latency is the caller's to wait.
    pub fn call(&self, call: &Call) -> Result<Answer, Error> {
        if let Some(why) = &self.refused {
            return Err(Error::Auth(why.clone()));
        }
        self.caller_still_valid(&self.caller)?;
        if let Some(up) = call.uploads.first() {
            return self
                .upload(call, &up.field, &up.file_name, &up.source)
                .map(Answer::Value);
        }
        Ok(self.answer_of(&self.caller, call.method, &call.path, &call.params)?)
            .and_then(|v| check_limit(v, call.limit))
    }

    /// An in-process upload: the file is read in chunks (counted and hashed as the server
    /// does), then the mock runs the upload.
    fn upload(
        &self,
        call: &Call,
        field: &str,
        file_name: &str,
        source: &UploadSource,
    ) -> Result<Value, Error> {
        use std::io::Read;
        let mut incoming = volumes::IncomingFile::new(file_name.to_string(), &call.params);
        match source {
            UploadSource::Bytes(b) => incoming.update(b),
            UploadSource::Path(p) => {
                let open_err = |e: std::io::Error| {
                    Error::Invalid(format!("{field}: cannot read '{}': {e}", p.display()))
                };
                let mut f = std::fs::File::open(p).map_err(open_err)?;
                let mut buf = vec![0u8; 256 * 1024];
                loop {
                    let n = f.read(&mut buf).map_err(open_err)?;
                    if n == 0 {
                        break;
                    }
                    incoming.update(&buf[..n]);
                }
            }
        }
        Ok(self.receive_upload(
            &self.caller,
            call.method,
            &call.path,
            call.params.clone(),
            field,
            incoming,
        )?)
    }

    /// [`MockPve::answer_of`] as a JSON value.
    pub fn handle(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        params: &Map<String, Value>,
    ) -> Result<Value, ApiError> {
        self.answer_of(caller, method, path, params)
            .map(Answer::into_value)
    }

    /// Answers one request like PVE: the unwrapped `data` or PVE's error. Authorization
    /// comes first (PVE checks permissions before it verifies parameters), then parameter
    /// verification, injected failures, the existence of what the path names, and the
    /// operation's route.
    pub fn answer_of(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        params: &Map<String, Value>,
    ) -> Result<Answer, ApiError> {
        self.answer_in(caller, method, path, params, false)
    }

    /// [`MockPve::answer_of`] for an answer that goes out as JSON text: a guest list may
    /// come as [`Answer::Json`], its unchanged rows copied from the text written last time.
    pub fn answer_for_wire(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        params: &Map<String, Value>,
    ) -> Result<Answer, ApiError> {
        self.answer_in(caller, method, path, params, true)
    }

    fn answer_in(
        &self,
        caller: &Caller,
        method: Method,
        path: &str,
        params: &Map<String, Value>,
        wire: bool,
    ) -> Result<Answer, ApiError> {
        let k = key(path);
        self.store.log_request(method, &k, params);
        if let Some(seeded) = seed::legacy_seeding(self, caller, method, path, params) {
            return Ok(seeded.into());
        }
        let (op, path_params) = match self.schema.resolve_operation(method, path) {
            Ok(found) => found,
            Err(e @ RequestError::NotImplemented { .. }) if self.lenient => {
                let _ = e;
                return Ok(writes::lenient_write(self, method, path, params).into());
            }
            Err(e) => return Err(e.into()),
        };
        self.authorize(caller, op, &path_params, params)?;
        let mut validated = op
            .check_params(params, &path_params)
            .map_err(RequestError::Params)?;
        if self.schema.product().is_rust() {
            json_booleans(op, &mut validated);
        }
        let ctx = Ctx {
            mock: self,
            caller,
            op,
            path: &k,
            path_params: &path_params,
            params: &validated,
            wire,
        };
        if let Some(injected) = self.injected_failure(&ctx) {
            return injected.map(Answer::Value);
        }
        if !self.lenient {
            self.check_node_known(&ctx)?;
            writes::check_members_exist(&ctx)?;
            self.check_product_objects(&ctx)?;
        }
        if op.method == Method::Get {
            if let Some(v) = reads::stored(&ctx) {
                return Ok(v.into());
            }
        }
        let value = match self.model.routes.get_for(op.id, self.lenient) {
            Route::Computed(handler) => handler(&ctx),
            Route::Rows(handler) => return handler(&ctx).map(Answer::Rows),
            Route::Read => return Ok(reads::read(&ctx)),
            Route::Create => writes::create(&ctx),
            Route::Update => writes::update(&ctx),
            Route::Destroy => writes::destroy(&ctx),
            Route::Lifecycle(action) => Ok(guests::lifecycle(&ctx, action)),
            Route::GuestAction(action) => guests::action(&ctx, action),
            Route::Answer => Ok(self.answer(&ctx)),
        };
        value.map(Answer::Value)
    }

    /// The permission rules of `op` for `caller`, with the raw parameters (as PVE checks
    /// them before verifying them); API tokens are refused where PVE refuses them.
    fn authorize(
        &self,
        caller: &Caller,
        op: &Operation,
        path_params: &[(&str, String)],
        params: &Map<String, Value>,
    ) -> Result<(), ApiError> {
        if caller.is_root() && matches!(caller, Caller::User { .. }) {
            return Ok(());
        }
        if matches!(caller, Caller::Token { .. }) && !op.info.allowtoken {
            return Err(messages::permission_denied("API token not allowed"));
        }
        let mut all = params.clone();
        for (k, v) in path_params {
            all.insert((*k).to_string(), Value::String(v.clone()));
        }
        self.store
            .read(|s| access::check::check(s, caller, op.info.permissions.as_ref(), &all))
    }

    /// The answer of an operation the mock has no behaviour for: a task id for worker
    /// operations, `null`, or a value generated from `returns`.
    pub fn answer(&self, ctx: &Ctx<'_>) -> Value {
        let op = ctx.op;
        let returns = &op.info.returns;
        match (op.method, returns.schema_type()) {
            (Method::Get, _) => self.generated(ctx.path, returns, &ctx.gen()),
            (_, crate::schema::SchemaType::Null) => Value::Null,
            (_, crate::schema::SchemaType::String)
                if tasks::worker_type(op.method.as_str(), &op.template).is_some() =>
            {
                let upid = self.new_upid(ctx, ctx.path_params);
                self.record_task(&upid, Ok(()));
                Value::String(upid)
            }
            _ => generate::generate(returns, "", &ctx.gen()),
        }
    }

    /// The generated answer of a concrete path (cached: generation is deterministic).
    pub(crate) fn generated(
        &self,
        key: &str,
        returns: &crate::schema::Schema,
        ctx: &GenContext<'_>,
    ) -> Value {
        (*self.generated_shared(key, returns, ctx)).clone()
    }

    /// The generated answer for `key`, shared: made once, then only what a reader needs of
    /// it is copied (a config read takes its required members, not the whole sample).
    pub(crate) fn generated_shared(
        &self,
        key: &str,
        returns: &crate::schema::Schema,
        ctx: &GenContext<'_>,
    ) -> Arc<Value> {
        if let Some(v) = self.generated.read().get(key) {
            return v.clone();
        }
        let v = Arc::new(generate::generate(returns, "", ctx));
        let mut cache = self.generated.write();
        if cache.len() >= GENERATED_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key.to_string(), v.clone());
        v
    }

    /// With the cluster's nodes named (`PROXMOX_MOCK_NODES`), a node outside it answers as
    /// PVE does when it cannot find a node; without, any node name is accepted (code
    /// written for the original mock uses node names of its own choosing).
    fn check_node_known(&self, ctx: &Ctx<'_>) -> Result<(), ApiError> {
        if !self.strict_nodes {
            return Ok(());
        }
        let Some(node) = ctx.path_param("node") else {
            return Ok(());
        };
        if node == "localhost" || self.store.read(|s| s.nodes.iter().any(|n| n == node)) {
            return Ok(());
        }
        Err(messages::unknown_node(node))
    }

    /// An offline node (595) or a failure a test injected for this request: for a worker
    /// operation the task fails with the message, otherwise the request does.
    fn injected_failure(&self, ctx: &Ctx<'_>) -> Option<Result<Value, ApiError>> {
        if ctx
            .path_param("node")
            .is_some_and(|n| self.store.is_offline(n))
        {
            return Some(Err(messages::no_route()));
        }
        if !self.store.has_faults() {
            return None;
        }
        let template = key(&ctx.op.template);
        let (status, message) = self.store.take_fault(ctx.op.method, &template, ctx.path)?;
        if tasks::worker_type(ctx.op.method.as_str(), &ctx.op.template).is_some() {
            let upid = self.new_upid(ctx, ctx.path_params);
            self.record_task(&upid, Err(message));
            return Some(Ok(Value::String(upid)));
        }
        Some(Err(ApiError::new(status, message)))
    }
}

/// The Rust products keep booleans as JSON booleans (PVE's validation makes them 0/1).
fn json_booleans(op: &Operation, params: &mut Map<String, Value>) {
    for (k, v) in params.iter_mut() {
        let boolean = op
            .param(k)
            .is_some_and(|p| p.schema_type() == crate::schema::SchemaType::Boolean);
        if boolean {
            if let Some(n) = v.as_u64() {
                *v = Value::Bool(n != 0);
            }
        }
    }
}

impl MockPve {
    /// What the path names must exist, as the other products check it: a PBS datastore
    /// (`{store}`), a PDM remote of the right kind (`{remote}` under `/pve` or `/pbs`).
    fn check_product_objects(&self, ctx: &Ctx<'_>) -> Result<(), ApiError> {
        match self.schema.product() {
            Product::Pbs => match ctx.path_param("store") {
                Some(store) if ctx.op.template.starts_with("/admin/datastore/") => {
                    self.store.read(|s| {
                        if pbs::datastore_exists(s, store) {
                            Ok(())
                        } else {
                            Err(pbs::no_such_datastore(store))
                        }
                    })
                }
                _ => Ok(()),
            },
            Product::Pdm => match ctx.path_param("remote") {
                Some(remote) => {
                    let kind = ctx.op.template.split('/').nth(1);
                    self.store.read(|s| {
                        pdm::check_remote(s, remote, kind.filter(|k| *k == "pve" || *k == "pbs"))
                    })
                }
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

/// `TooLarge` when `limit` is given and the answer's JSON is longer.
fn check_limit(v: Answer, limit: Option<usize>) -> Result<Answer, Error> {
    if let Some(limit) = limit {
        let size = v.to_json().len();
        if size > limit {
            return Err(Error::TooLarge { limit, size });
        }
    }
    Ok(v)
}

/// The value of path parameter `name`.
pub fn path_param<'a>(params: &'a [(&str, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_str())
}
