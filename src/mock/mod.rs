//! The in-memory Proxmox VE: validates every request like PVE, keeps collections coherent
//! (create, list, read, update with `delete=`/`digest`, destroy), answers everything else
//! from the schema, and fails the way PVE fails. One implementation serves `MockBackend`,
//! the SDK's mock backend and the mock server.

pub mod collections;
pub mod digest;
pub mod generate;
pub mod pending;
pub mod store;
pub mod tasks;
pub mod volumes;

use std::collections::BTreeMap;
use std::sync::Arc;

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::client::ApiError;
use crate::schema::{bundled, ApiSchema, Method, Operation, RequestError, SchemaError, SchemaType};
use collections::{concrete, Collection, Collections};
use generate::{generate, generate_object, GenContext};
use store::{key, MockState, MockStore, Record};

/// Parameters that steer an operation but are not stored in a member's configuration.
const ACTION_PARAMS: &[&str] = &[
    "start",
    "archive",
    "pool",
    "unique",
    "force",
    "live-restore",
    "bwlimit",
    "delete",
    "digest",
    "revert",
    "skiplock",
    "background_delay",
    "purge",
    "destroy-unreferenced-disks",
    "import-working-storage",
    "ignore-unpack-errors",
    "restore",
    "ssh-public-keys",
    "password",
];

/// The default cluster's nodes (override with `PROXMOX_MOCK_NODES=pve1,pve2`).
pub fn default_nodes() -> Vec<String> {
    std::env::var("PROXMOX_MOCK_NODES")
        .ok()
        .map(|v| {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| vec!["pve1".to_string()])
}

/// A small coherent cluster: its nodes, storages `local` and `local-lvm`, `root@pam`.
pub fn default_state(nodes: Vec<String>) -> MockState {
    let mut state = MockState {
        nodes,
        ..MockState::default()
    };
    let record = |v: Value| Record {
        config: v.as_object().cloned().unwrap_or_default(),
        meta: Map::new(),
    };
    let storage = state.members.entry("storage".into()).or_default();
    storage.insert(
        "local".into(),
        record(json!({"type": "dir", "path": "/var/lib/vz", "content": "iso,vztmpl,backup,import", "shared": 0})),
    );
    storage.insert(
        "local-lvm".into(),
        record(json!({"type": "lvmthin", "vgname": "pve", "thinpool": "data", "content": "images,rootdir", "shared": 0})),
    );
    state.members.entry("access/users".into()).or_default().insert(
        "root@pam".into(),
        record(json!({"enable": 1, "expire": 0, "comment": "Built-in Superuser", "email": "", "firstname": "", "lastname": ""})),
    );
    state
}

/// Applies `(path, value)` seeds (from a data file or Python) to a state.
pub fn apply_seeds(
    schema: &ApiSchema,
    collections: &Collections,
    state: &mut MockState,
    seeds: Vec<(String, Value)>,
) {
    for (path, value) in seeds {
        set_object(schema, collections, state, &path, value);
    }
}

/// `set_object` of the original `MockBackend` store: the exact answer for `path`; a path at
/// or under a collection member makes that member exist (its config when the path is the
/// member or its `config`). A template path (`{vmid}`) answers every matching path.
pub fn set_object(
    schema: &ApiSchema,
    collections: &Collections,
    state: &mut MockState,
    path: &str,
    value: Value,
) {
    let k = key(path);
    if k.contains('{') {
        state.template_overrides.insert(format!("/{k}"), value);
        return;
    }
    state.undelete(&k);
    if let Some((endpoint, params)) = schema.resolve(&k) {
        let params: Vec<(&str, String)> = params.iter().map(|(n, v)| (*n, v.to_string())).collect();
        for c in collections.ancestors(&endpoint.template) {
            let id = params
                .iter()
                .find(|(n, _)| *n == c.id_param)
                .map(|(_, v)| v.clone())
                .unwrap_or_default();
            let list = concrete(&c.template, &params);
            let is_config = c.is_member_or_config(&endpoint.template);
            let members = state.members.entry(list).or_default();
            let rec = members.entry(id).or_default();
            if is_config {
                if let Value::Object(m) = &value {
                    rec.config = m.clone();
                }
            }
        }
    }
    state.overrides.insert(k, value);
}

/// The mock PVE of one schema version and store.
#[derive(Debug, Clone)]
pub struct MockPve {
    schema: Arc<ApiSchema>,
    collections: Arc<Collections>,
    store: Arc<MockStore>,
    lenient: bool,
    /// The cluster's nodes were named (`PROXMOX_MOCK_NODES`): other nodes answer as PVE's
    /// unknown nodes do.
    strict_nodes: bool,
    /// Generated answers by concrete path: generation is deterministic, so a path's answer
    /// is built once and cloned after (state overlays are applied on top each time).
    generated: Arc<parking_lot::RwLock<std::collections::HashMap<String, Value>>>,
}

/// Bound on cached generated answers (the cache is dropped when it grows past this).
const GENERATED_CACHE_LIMIT: usize = 4096;

fn err500(msg: impl Into<String>) -> ApiError {
    ApiError::new(500, msg)
}

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
        let schema = bundled::load(version)?;
        let collections = collections::for_schema(&schema);
        let seeds = match data_path {
            Some(p) => store::read_data_file(p)?,
            None => Vec::new(),
        };
        let store = store::shared_store(schema.version(), namespace, || {
            let mut state = default_state(default_nodes());
            apply_seeds(&schema, &collections, &mut state, seeds);
            state
        });
        Ok(MockPve {
            strict_nodes: std::env::var_os("PROXMOX_MOCK_NODES").is_some(),
            schema,
            collections,
            store,
            lenient,
            generated: Arc::default(),
        })
    }

    fn generated(&self, key: &str, returns: &crate::schema::Schema, ctx: &GenContext<'_>) -> Value {
        if let Some(v) = self.generated.read().get(key) {
            return v.clone();
        }
        let v = generate(returns, "", ctx);
        let mut cache = self.generated.write();
        if cache.len() >= GENERATED_CACHE_LIMIT {
            cache.clear();
        }
        cache.insert(key.to_string(), v.clone());
        v
    }

    /// The schema this mock answers from.
    pub fn schema(&self) -> &Arc<ApiSchema> {
        &self.schema
    }

    /// The store behind it.
    pub fn store(&self) -> &Arc<MockStore> {
        &self.store
    }

    /// Whether requests PVE would refuse as unknown are stored instead (legacy seeding).
    pub fn lenient(&self) -> bool {
        self.lenient
    }

    /// `set_object` on this mock's store.
    pub fn set_object(&self, path: &str, value: Value) {
        self.store
            .write(|s| set_object(&self.schema, &self.collections, s, path, value));
    }

    /// `get_object`: the value set for `path`, or the member's config.
    pub fn get_object(&self, path: &str) -> Option<Value> {
        let k = key(path);
        self.store.read(|s| {
            if s.is_deleted(&k) {
                return None;
            }
            if let Some(v) = s.overrides.get(&k) {
                return Some(v.clone());
            }
            let (list, id) = self.member_of(&k)?;
            s.members
                .get(&list)?
                .get(&id)
                .map(|r| Value::Object(r.config.clone()))
        })
    }

    /// `delete_object`: forgets `path` (a member and everything under it).
    pub fn delete_object(&self, path: &str) -> bool {
        let k = key(path);
        let member = self.member_of(&k);
        self.store.write(|s| {
            let had = s.overrides.contains_key(&k);
            s.drop_overrides_below(&k);
            let mut removed = false;
            if let Some((list, id)) = &member {
                removed = s
                    .members
                    .get_mut(list)
                    .is_some_and(|m| m.remove(id).is_some());
                s.drop_overrides_below(&format!("{list}/{id}"));
            }
            s.deleted.insert(k);
            had || removed
        })
    }

    /// `is_deleted`: whether `path` (or an ancestor) was deleted.
    pub fn is_deleted(&self, path: &str) -> bool {
        self.store.read(|s| s.is_deleted(path))
    }

    /// (collection path, id) when `path` is a member path or its `config`.
    fn member_of(&self, path: &str) -> Option<(String, String)> {
        let (endpoint, params) = self.schema.resolve(path)?;
        let params: Vec<(&str, String)> = params.iter().map(|(n, v)| (*n, v.to_string())).collect();
        let c = self.collections.ancestors(&endpoint.template).last()?;
        if !c.is_member_or_config(&endpoint.template) {
            return None;
        }
        let id = path_param(&params, &c.id_param)?.to_string();
        Some((concrete(&c.template, &params), id))
    }

    /// Answers one request like PVE: the unwrapped `data` or PVE's error.
    pub fn handle(
        &self,
        method: &str,
        path: &str,
        params: &Map<String, Value>,
    ) -> Result<Value, ApiError> {
        self.log_request(method, path, params);
        let validated = match self.schema.validate_request(method, path, params) {
            Ok(v) => v,
            Err(e @ RequestError::NotImplemented { .. }) => {
                return if self.lenient {
                    Ok(self.lenient_write(method, path, params))
                } else {
                    Err(e.into())
                };
            }
            Err(e) => return Err(e.into()),
        };
        let op = validated.operation;
        let path_params = validated.path_params.as_slice();
        let params = &validated.params;
        let ctx = GenContext { path_params };
        let template = op.template.as_str();
        if let Some(injected) = self.injected_failure(op, path, path_params, &ctx) {
            return injected;
        }

        if !self.lenient {
            self.check_node_known(path_params)?;
            self.check_members_exist(template, path_params)?;
        }
        match op.method {
            Method::Get => Ok(self.read(op, path, path_params, params, &ctx)),
            Method::Post if self.collections.at(template).is_some() => {
                self.create(op, path_params, params, &ctx)
            }
            Method::Put | Method::Post if self.is_config_path(template) => {
                self.update(op, path_params, params, &ctx)
            }
            Method::Delete if self.collections.member_at(template).is_some() => {
                self.destroy(op, path_params, params, &ctx)
            }
            Method::Delete if template == "/nodes/{node}/tasks/{upid}" => {
                let upid = path_param(path_params, "upid")
                    .map(str::to_string)
                    .unwrap_or_default();
                let now = self.store.now();
                self.store.write(|s| {
                    if let Some(t) = s.tasks.get_mut(&upid).filter(|t| t.endtime > now) {
                        t.endtime = now;
                        t.exitstatus = "interrupted by signal".into();
                        t.log.pop();
                        t.log.push("TASK ERROR: interrupted by signal".into());
                    }
                });
                Ok(Value::Null)
            }
            Method::Post if lifecycle_action(template).is_some() => {
                Ok(self.lifecycle(op, path_params, &ctx))
            }
            Method::Post if guest_action(template).is_some() => {
                self.guest_action(op, path_params, params, &ctx)
            }
            _ => Ok(self.answer(op, &ctx)),
        }
    }

    fn lenient_write(&self, method: &str, path: &str, params: &Map<String, Value>) -> Value {
        if !method.eq_ignore_ascii_case("GET") {
            let value = Value::Object(params.clone());
            self.set_object(path, value);
            return Value::Null;
        }
        self.get_object(path).unwrap_or(Value::Null)
    }

    fn is_config_path(&self, template: &str) -> bool {
        self.collections
            .ancestors(template)
            .last()
            .is_some_and(|c| c.is_member_or_config(template))
    }

    /// With the cluster's nodes named (`PROXMOX_MOCK_NODES`), a node outside it answers as
    /// PVE does when it cannot find a node; without, any node name is accepted (code
    /// written for the original mock uses node names of its own choosing).
    fn check_node_known(&self, path_params: &[(&str, String)]) -> Result<(), ApiError> {
        if !self.strict_nodes {
            return Ok(());
        }
        let Some(node) = path_param(path_params, "node") else {
            return Ok(());
        };
        if node == "localhost" || self.store.read(|s| s.nodes.iter().any(|n| n == node)) {
            return Ok(());
        }
        Err(err500(format!(
            "hostname lookup '{node}' failed - failed to get address info for: {node}: Name or service not known"
        )))
    }

    /// Every collection member the path lies under must exist, as in PVE.
    fn check_members_exist(
        &self,
        template: &str,
        path_params: &[(&str, String)],
    ) -> Result<(), ApiError> {
        let mut ancestors = self.collections.ancestors(template).peekable();
        if ancestors.peek().is_none() {
            return Ok(());
        }
        self.store.read(|s| {
            for c in ancestors {
                let Some(id) = path_params
                    .iter()
                    .find(|(n, _)| *n == c.id_param)
                    .map(|(_, v)| v)
                else {
                    continue;
                };
                let list = concrete(&c.template, path_params);
                let exists = s.members.get(&list).is_some_and(|m| m.contains_key(id))
                    && !s.is_deleted(&format!("{list}/{id}"));
                if !exists {
                    return Err(missing_member(c, path_params, id));
                }
            }
            Ok(())
        })
    }

    fn read(
        &self,
        op: &Operation,
        path: &str,
        path_params: &[(&str, String)],
        params: &Map<String, Value>,
        ctx: &GenContext<'_>,
    ) -> Value {
        let k = key(path);
        let template = op.template.as_str();
        let returns = &op.info.returns;
        self.store.read(|s| {
            if let Some(v) = s.overrides.get(&k) {
                return v.clone();
            }
            if let Some(v) = s.template_overrides.get(template) {
                return v.clone();
            }
            if let Some(c) = self.collections.at(template) {
                let list = concrete(&c.template, path_params);
                return self.list_members(s, c, &list, returns, ctx);
            }
            if let Some(v) = self.special_read(s, template, path_params, params, returns) {
                return v;
            }
            if returns.child_link_key().is_some() {
                return self.directory_index(template, returns);
            }
            let mut v = self.generated(&k, returns, ctx);
            if let Some(c) = self.collections.ancestors(template).last() {
                let list = concrete(&c.template, path_params);
                let id = path_param(path_params, &c.id_param).unwrap_or("");
                if let Some(rec) = s.members.get(&list).and_then(|m| m.get(id)) {
                    let full = c.is_member_or_config(template);
                    let with_pending;
                    let current = params
                        .get("current")
                        .is_some_and(|v| v == 1 || v == "1" || v == &Value::Bool(true));
                    let rec = if template.ends_with("/config")
                        && !current
                        && rec.meta.contains_key("pending")
                    {
                        with_pending = Record {
                            config: pending::applied(rec),
                            meta: rec.meta.clone(),
                        };
                        &with_pending
                    } else {
                        rec
                    };
                    if let Value::Object(obj) = &mut v {
                        overlay(obj, rec, returns, full);
                        if template.ends_with("/status/current") {
                            guest_runtime(obj, rec, returns, self.store.now());
                        }
                        if rec.meta.contains_key("lock_until")
                            && held_lock(rec, self.store.now()).is_none()
                            && rec.config.get("lock").is_none()
                        {
                            obj.remove("lock");
                        }
                    }
                }
            }
            v
        })
    }

    fn list_members(
        &self,
        s: &MockState,
        c: &Collection,
        list: &str,
        returns: &crate::schema::Schema,
        ctx: &GenContext<'_>,
    ) -> Value {
        let Some(members) = s.members.get(list) else {
            return Value::Array(Vec::new());
        };
        let item_schema = returns.items.as_deref();
        let mut ids: Vec<&String> = members
            .keys()
            .filter(|id| s.deleted.is_empty() || !s.is_deleted(&format!("{list}/{id}")))
            .collect();
        ids.sort_by(|a, b| match (a.parse::<u64>(), b.parse::<u64>()) {
            (Ok(x), Ok(y)) => x.cmp(&y),
            _ => a.cmp(b),
        });
        let Some(first) = ids.first() else {
            return Value::Array(Vec::new());
        };
        let guest_kind = match list.rsplit('/').next() {
            Some(k @ ("qemu" | "lxc")) if list.starts_with("nodes/") => Some(k),
            _ => None,
        };
        if let (Some(kind), Some(schema)) = (guest_kind, item_schema) {
            // The required members are the same for every guest but the vmid: build once.
            let clock = self.store.now();
            let base = generate_object(schema, ctx, false);
            let props = schema.properties.as_ref();
            let fields: Vec<&str> = GUEST_LIST_FIELDS
                .iter()
                .copied()
                .filter(|f| props.is_some_and(|p| p.contains_key(*f)))
                .collect();
            return Value::Array(
                ids.into_iter()
                    .map(|id| guest_list_item(kind, id, &members[id], &fields, &base, clock))
                    .collect(),
            );
        }
        // One generated item for the whole list; each member differs in its id and data.
        let mut params: Vec<(&str, String)> = ctx.path_params.to_vec();
        params.push((c.id_param.as_str(), (*first).clone()));
        let base = match item_schema {
            Some(schema) => generate_object(
                schema,
                &GenContext {
                    path_params: &params,
                },
                true,
            ),
            None => Value::Object(Map::new()),
        };
        let id_schema = item_schema
            .and_then(|i| i.properties.as_ref())
            .and_then(|p| p.get(&c.id_param));
        let families = item_schema
            .map(|i| crate::schema::IndexedFamily::collect(i.properties.as_ref()))
            .unwrap_or_default();
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let rec = &members[id];
            let mut item = base.clone();
            if let (Value::Object(obj), Some(schema)) = (&mut item, item_schema) {
                if let Some(id_schema) = id_schema {
                    let typed = match id_schema.schema_type() {
                        SchemaType::Integer => id
                            .parse::<i64>()
                            .map_or_else(|_| Value::from(id.as_str()), Value::from),
                        _ => Value::from(id.as_str()),
                    };
                    obj.insert(c.id_param.clone(), typed);
                }
                overlay_with(obj, rec, schema, false, &families);
            }
            out.push(item);
        }
        Value::Array(out)
    }

    /// Lists and answers PVE computes from the cluster rather than from one collection
    /// (`None` for every other template). `returns` is the operation's answer schema.
    fn special_read(
        &self,
        s: &MockState,
        template: &str,
        path_params: &[(&str, String)],
        params: &Map<String, Value>,
        returns: &crate::schema::Schema,
    ) -> Option<Value> {
        let item_schema = returns.items.as_deref();
        let gen_item = |extra: &[(&str, String)]| -> Map<String, Value> {
            let mut p: Vec<(&str, String)> = path_params.to_vec();
            p.extend(extra.iter().cloned());
            let ctx = GenContext { path_params: &p };
            match item_schema.map(|i| generate_object(i, &ctx, true)) {
                Some(Value::Object(m)) => m,
                _ => Map::new(),
            }
        };
        match template {
            "/nodes" => Some(Value::Array(
                s.nodes
                    .iter()
                    .map(|n| {
                        let mut m = gen_item(&[("node", n.clone())]);
                        m.insert("status".into(), json!("online"));
                        m.insert("id".into(), json!(format!("node/{n}")));
                        m.insert("type".into(), json!("node"));
                        Value::Object(m)
                    })
                    .collect(),
            )),
            "/nodes/{node}/storage" => {
                let storages = s.members.get("storage")?;
                Some(Value::Array(
                    storages
                        .iter()
                        .map(|(id, rec)| {
                            let mut m = gen_item(&[("storage", id.clone())]);
                            for k in ["type", "content", "shared"] {
                                if let Some(v) = rec.config.get(k) {
                                    m.insert(k.into(), v.clone());
                                }
                            }
                            m.insert("active".into(), json!(1));
                            m.insert("enabled".into(), json!(1));
                            Value::Object(m)
                        })
                        .collect(),
                ))
            }
            "/nodes/{node}/qemu/{vmid}/pending" => {
                let node = path_param(path_params, "node")?;
                let vmid = path_param(path_params, "vmid")?;
                let rec = s.members.get(&format!("nodes/{node}/qemu"))?.get(vmid)?;
                Some(pending::list(rec))
            }
            "/nodes/{node}/storage/{storage}/content" => {
                let node = path_param(path_params, "node")?;
                let storage = path_param(path_params, "storage")?;
                Some(volumes::list(s, node, storage, params))
            }
            "/cluster/nextid" => {
                let used: std::collections::BTreeSet<u64> = s
                    .members
                    .iter()
                    .filter(|(list, _)| list.ends_with("/qemu") || list.ends_with("/lxc"))
                    .flat_map(|(_, m)| m.keys().filter_map(|id| id.parse().ok()))
                    .collect();
                if let Some(want) = params.get("vmid").and_then(Value::as_u64) {
                    return Some(if used.contains(&want) {
                        Value::Null
                    } else {
                        json!(want)
                    });
                }
                Some(json!((100u64..)
                    .find(|id| !used.contains(id))
                    .unwrap_or(100)))
            }
            "/cluster/resources" => {
                let filter = params.get("type").and_then(Value::as_str);
                let mut out = Vec::new();
                if filter.is_none_or(|t| t == "node") {
                    for n in &s.nodes {
                        let mut m = gen_item(&[("node", n.clone())]);
                        m.insert("type".into(), json!("node"));
                        m.insert("id".into(), json!(format!("node/{n}")));
                        m.insert("status".into(), json!("online"));
                        out.push(Value::Object(m));
                    }
                }
                if filter.is_none_or(|t| t == "vm") {
                    for (list, members) in &s.members {
                        let parts: Vec<&str> = list.split('/').collect();
                        let ["nodes", node, kind @ ("qemu" | "lxc")] = parts[..] else {
                            continue;
                        };
                        for (id, rec) in members {
                            if s.is_deleted(&format!("{list}/{id}")) {
                                continue;
                            }
                            let mut m = gen_item(&[("node", node.to_string())]);
                            m.insert("type".into(), json!(kind));
                            m.insert("id".into(), json!(format!("{kind}/{id}")));
                            m.insert("vmid".into(), json!(id.parse::<u64>().unwrap_or(0)));
                            m.insert("node".into(), json!(node));
                            m.insert(
                                "status".into(),
                                rec.meta.get("status").cloned().unwrap_or(json!("stopped")),
                            );
                            let name = rec
                                .config
                                .get("name")
                                .or_else(|| rec.config.get("hostname"));
                            if let Some(name) = name {
                                m.insert("name".into(), name.clone());
                            }
                            m.insert(
                                "template".into(),
                                json!(rec
                                    .config
                                    .get("template")
                                    .and_then(Value::as_u64)
                                    .unwrap_or(0)),
                            );
                            out.push(Value::Object(m));
                        }
                    }
                }
                if filter.is_none_or(|t| t == "storage") {
                    if let Some(storages) = s.members.get("storage") {
                        for n in &s.nodes {
                            for (id, rec) in storages {
                                let mut m =
                                    gen_item(&[("node", n.clone()), ("storage", id.clone())]);
                                m.insert("type".into(), json!("storage"));
                                m.insert("id".into(), json!(format!("storage/{n}/{id}")));
                                m.insert("storage".into(), json!(id));
                                m.insert("node".into(), json!(n));
                                m.insert("status".into(), json!("available"));
                                if let Some(c) = rec.config.get("content") {
                                    m.insert("content".into(), c.clone());
                                }
                                if let Some(t) = rec.config.get("type") {
                                    m.insert("plugintype".into(), t.clone());
                                }
                                out.push(Value::Object(m));
                            }
                        }
                    }
                }
                Some(Value::Array(out))
            }
            "/nodes/{node}/tasks/{upid}/status" => {
                let upid = path_params.iter().find(|(k, _)| *k == "upid")?.1.clone();
                let parsed = parse_upid(&upid)?;
                let mut status = json!({
                    "upid": upid, "node": parsed.node, "pid": parsed.pid, "pstart": parsed.pstart,
                    "starttime": parsed.starttime, "type": parsed.kind, "id": parsed.id, "user": parsed.user,
                    "status": "stopped",
                    "exitstatus": s.tasks.get(&upid).map_or("OK", |t| t.exitstatus.as_str()),
                });
                if s.tasks
                    .get(&upid)
                    .is_some_and(|t| t.endtime > self.store.now())
                {
                    status["status"] = json!("running");
                    if let Some(o) = status.as_object_mut() {
                        o.remove("exitstatus");
                    }
                }
                Some(status)
            }
            "/nodes/{node}/tasks/{upid}/log" => {
                let upid = path_params.iter().find(|(k, _)| *k == "upid")?.1.clone();
                let running = s
                    .tasks
                    .get(&upid)
                    .is_some_and(|t| t.endtime > self.store.now());
                let mut lines: Vec<String> = s
                    .tasks
                    .get(&upid)
                    .map_or_else(|| vec!["TASK OK".to_string()], |t| t.log.clone());
                if running {
                    // The final `TASK OK` / `TASK ERROR:` line comes when the task ends.
                    lines.pop();
                }
                Some(Value::Array(
                    lines
                        .iter()
                        .enumerate()
                        .map(|(i, t)| json!({"n": i + 1, "t": t}))
                        .collect(),
                ))
            }
            "/nodes/{node}/tasks" | "/cluster/tasks" => {
                let node = path_param(path_params, "node");
                let clock = self.store.now();
                let mut items: Vec<Value> = s
                    .tasks
                    .iter()
                    .filter_map(|(upid, t)| {
                        let u = parse_upid(upid)?;
                        if node.is_some_and(|n| n != u.node) {
                            return None;
                        }
                        let mut item = json!({
                            "upid": upid, "node": u.node, "pid": u.pid, "pstart": u.pstart,
                            "starttime": u.starttime, "type": u.kind, "id": u.id, "user": u.user,
                            "status": t.exitstatus, "endtime": t.endtime,
                        });
                        if t.endtime > clock {
                            if let Some(o) = item.as_object_mut() {
                                o.remove("status");
                                o.remove("endtime");
                            }
                        }
                        Some(item)
                    })
                    .collect();
                items.reverse();
                Some(Value::Array(items))
            }
            "/access/acl" => Some(Value::Array(
                s.members
                    .get("access/acl")
                    .map(|acl| {
                        acl.values()
                            .map(|r| Value::Object(r.config.clone()))
                            .collect()
                    })
                    .unwrap_or_default(),
            )),
            _ => None,
        }
    }

    /// A directory index: one item per literal child of the template.
    fn directory_index(&self, template: &str, returns: &crate::schema::Schema) -> Value {
        let key_name = returns.child_link_key().unwrap_or("name");
        let prefix = format!("{template}/");
        let mut children: Vec<&str> = self
            .schema
            .endpoints()
            .iter()
            .filter_map(|e| e.template.strip_prefix(&prefix))
            .filter(|rest| !rest.contains('/') && !rest.starts_with('{'))
            .collect();
        children.sort_unstable();
        children.dedup();
        Value::Array(
            children
                .into_iter()
                .map(|c| json!({ key_name: c }))
                .collect(),
        )
    }

    fn create(
        &self,
        op: &Operation,
        path_params: &[(&str, String)],
        params: &Map<String, Value>,
        ctx: &GenContext<'_>,
    ) -> Result<Value, ApiError> {
        let Some(c) = self.collections.at(&op.template) else {
            return Ok(self.answer(op, ctx));
        };
        let list = concrete(&c.template, path_params);
        let id = match params.get(&c.id_param) {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => {
                let numeric = op
                    .param(&c.id_param)
                    .is_some_and(|p| p.schema_type() == SchemaType::Integer);
                self.store.write(|s| {
                    if numeric {
                        // Integer ids (firewall rule `pos`, ...) are positions: the next one.
                        s.members.get(&list).map_or(0, |m| m.len()).to_string()
                    } else {
                        s.seq += 1;
                        format!("{}-{:08x}", c.id_param, s.seq)
                    }
                })
            }
        };
        let is_guest = list.ends_with("/qemu") || list.ends_with("/lxc");
        let mut config = Map::new();
        for (k, v) in params {
            if k == &c.id_param
                || path_params.iter().any(|(p, _)| p == k)
                || ACTION_PARAMS.contains(&k.as_str())
            {
                continue;
            }
            config.insert(k.clone(), v.clone());
        }
        let mut meta = Map::new();
        if is_guest {
            meta.insert("status".into(), json!("stopped"));
        }
        let lenient = self.lenient;
        let now = self.store.now();
        self.store.write(|s| {
            if lenient {
                // Legacy seeding re-creates what exists: an update, not an error.
            } else if is_guest {
                // VMIDs are unique cluster-wide.
                for (other_list, members) in &s.members {
                    if (other_list.ends_with("/qemu") || other_list.ends_with("/lxc"))
                        && members.contains_key(&id)
                        && !s.is_deleted(&format!("{other_list}/{id}"))
                    {
                        let node = other_list.split('/').nth(1).unwrap_or("");
                        let (what, noun) = if list.ends_with("/qemu") { ("VM", "VM") } else { ("CT", "CT") };
                        return Err(err500(format!(
                            "unable to create {what} {id} - {noun} {id} already exists on node '{node}'"
                        )));
                    }
                }
            } else if s.members.get(&list).is_some_and(|m| m.contains_key(&id)) && !s.is_deleted(&format!("{list}/{id}")) {
                return Err(err500(already_exists(c, &id)));
            }
            let pool = if is_guest { params.get("pool").and_then(Value::as_str) } else { None };
            if let Some(pool) = pool.filter(|_| !lenient) {
                if !s.members.get("pools").is_some_and(|p| p.contains_key(pool)) {
                    return Err(err500(format!("pool '{pool}' does not exist")));
                }
            }
            if is_guest && !lenient {
                let node = path_param(path_params, "node").unwrap_or_default();
                let kind = if list.ends_with("/lxc") { "lxc" } else { "qemu" };
                volumes::allocate_disks(s, node, kind, &id, &mut config, now)
                    .map_err(err500)?;
            }
            s.undelete(&format!("{list}/{id}"));
            s.drop_overrides_below(&format!("{list}/{id}"));
            s.members
                .entry(list.clone())
                .or_default()
                .insert(id.clone(), Record { config, meta });
            if let Some(pool) = pool {
                add_pool_member(s, pool, &list, &id);
            }
            Ok(())
        })?;
        let mut p: Vec<(&str, String)> = path_params.to_vec();
        p.push((c.id_param.as_str(), id));
        Ok(self.answer(op, &GenContext { path_params: &p }))
    }

    fn update(
        &self,
        op: &Operation,
        path_params: &[(&str, String)],
        params: &Map<String, Value>,
        ctx: &GenContext<'_>,
    ) -> Result<Value, ApiError> {
        let Some(c) = self.collections.ancestors(&op.template).last() else {
            return Ok(self.answer(op, ctx));
        };
        let lenient = self.lenient;
        let list = concrete(&c.template, path_params);
        let id = path_param(path_params, &c.id_param)
            .map(str::to_string)
            .unwrap_or_default();
        let deletes: Vec<String> = params
            .get("delete")
            .and_then(Value::as_str)
            .map(|d| {
                crate::schema::formats::split_list(d)
                    .into_iter()
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        let clock = self.store.now();
        self.store.write(|s| {
            let rec = s
                .members
                .entry(list.clone())
                .or_default()
                .entry(id.clone())
                .or_default();
            if let Some(lock) = held_lock(rec, clock) {
                let guest = if list.ends_with("/lxc") { "CT" } else { "VM" };
                return Err(err500(format!("{guest} is locked ({lock})")));
            }
            if let Some(want) = params.get("digest").and_then(Value::as_str) {
                if !lenient && !want.is_empty() && want != config_digest(&rec.config) {
                    return Err(err500(
                        "detected modified configuration - file changed by other user? Try again.",
                    ));
                }
            }
            // A running VM keeps what it cannot change live as pending changes.
            let running_vm = !lenient
                && list.ends_with("/qemu")
                && rec.meta.get("status").is_some_and(|st| st == "running");
            for (k, v) in params {
                if path_params.iter().any(|(p, _)| p == k) || ACTION_PARAMS.contains(&k.as_str()) {
                    continue;
                }
                if running_vm {
                    pending::set(rec, k, v.clone());
                } else {
                    rec.config.insert(k.clone(), v.clone());
                }
            }
            for d in &deletes {
                if running_vm {
                    pending::delete(rec, d);
                } else {
                    rec.config.remove(d);
                }
            }
            s.overrides.remove(&format!("{list}/{id}/config"));
            s.overrides.remove(&format!("{list}/{id}"));
            Ok(())
        })?;
        Ok(self.answer(op, ctx))
    }

    fn destroy(
        &self,
        op: &Operation,
        path_params: &[(&str, String)],
        params: &Map<String, Value>,
        ctx: &GenContext<'_>,
    ) -> Result<Value, ApiError> {
        let Some(c) = self.collections.member_at(&op.template) else {
            return Ok(self.answer(op, ctx));
        };
        let list = concrete(&c.template, path_params);
        let id = path_param(path_params, &c.id_param)
            .map(str::to_string)
            .unwrap_or_default();
        let is_guest = list.ends_with("/qemu") || list.ends_with("/lxc");
        let clock = self.store.now();
        let locked = self.store.read(|s| {
            s.members
                .get(&list)
                .and_then(|m| m.get(&id))
                .and_then(|r| held_lock(r, clock))
        });
        if let (true, Some(lock)) = (is_guest, locked) {
            let guest = if list.ends_with("/lxc") { "CT" } else { "VM" };
            return Err(err500(format!("{guest} is locked ({lock})")));
        }
        let purge = params
            .get("purge")
            .is_some_and(|v| matches!(v, Value::Bool(true)) || v == 1 || v == "1");
        if is_guest && !self.lenient {
            let (running, ha) = self.store.read(|s| {
                let running = s
                    .members
                    .get(&list)
                    .and_then(|m| m.get(&id))
                    .and_then(|r| r.meta.get("status"))
                    .is_some_and(|st| st == "running");
                (running, volumes::ha_managed(s, &id))
            });
            let guest = if list.ends_with("/lxc") { "CT" } else { "VM" };
            if running {
                return Err(err500(format!("{guest} {id} is running - destroy failed")));
            }
            if ha && !purge {
                return Err(err500(format!(
                    "unable to remove {guest} {id} - used in HA resources and purge parameter not set."
                )));
            }
        }
        let node = path_param(path_params, "node")
            .unwrap_or_default()
            .to_string();
        self.store.write(|s| {
            if let Some(m) = s.members.get_mut(&list) {
                m.remove(&id);
            }
            if is_guest {
                volumes::free_guest_volumes(s, &node, &id);
                if purge {
                    volumes::purge_guest(s, &id);
                }
                // PVE drops a destroyed guest from its pool.
                if let Some(pools) = s.members.get_mut("pools") {
                    for pool in pools.values_mut() {
                        if let Some(Value::Array(members)) = pool.meta.get_mut("members") {
                            members.retain(|m| {
                                m.get("vmid").and_then(Value::as_u64).map(|v| v.to_string())
                                    != Some(id.clone())
                            });
                        }
                    }
                }
            }
            let member = format!("{list}/{id}");
            s.drop_overrides_below(&member);
            s.deleted.insert(member);
        });
        Ok(self.answer(op, ctx))
    }

    fn log_request(&self, method: &str, path: &str, params: &Map<String, Value>) {
        let mut control = self.store.control();
        control.requests.push_back(store::LoggedRequest {
            method: method.to_ascii_uppercase(),
            path: format!("/{}", key(path)),
            params: store::redact(params),
        });
        while control.requests.len() > store::REQUEST_LOG_LIMIT {
            control.requests.pop_front();
        }
    }

    /// An offline node (595) or a failure a test injected for this request: for a worker
    /// operation the task fails with the message, otherwise the request does.
    fn injected_failure(
        &self,
        op: &Operation,
        path: &str,
        path_params: &[(&str, String)],
        ctx: &GenContext<'_>,
    ) -> Option<Result<Value, ApiError>> {
        let k = key(path);
        let failure = {
            let mut control = self.store.control();
            let node = path_param(path_params, "node");
            if node.is_some_and(|n| control.offline.contains(n)) {
                return Some(Err(ApiError::new(595, "No route to host")));
            }
            let template = store::key(&op.template);
            let pos = control.faults.iter().position(|f| {
                f.method
                    .as_deref()
                    .is_none_or(|m| m.eq_ignore_ascii_case(op.method.as_str()))
                    && (f.path == template
                        || k == f.path
                        || k.starts_with(&format!("{}/", f.path.trim_end_matches('/'))))
            })?;
            let fault = &mut control.faults[pos];
            fault.remaining = fault.remaining.saturating_sub(1);
            let failure = (fault.status, fault.message.clone());
            if fault.remaining == 0 {
                control.faults.remove(pos);
            }
            failure
        };
        if tasks::worker_type(op.method.as_str(), &op.template).is_some() {
            let upid = self.new_upid(op, ctx);
            self.record_task(&upid, Err(failure.1));
            return Some(Ok(Value::String(upid)));
        }
        Some(Err(ApiError::new(failure.0, failure.1)))
    }

    /// The mock's clock (epoch seconds), which tests can advance.
    pub fn now(&self) -> u64 {
        self.store.now()
    }

    /// clone, migrate and template of a guest; refusals end the task with PVE's error.
    fn guest_action(
        &self,
        op: &Operation,
        path_params: &[(&str, String)],
        params: &Map<String, Value>,
        ctx: &GenContext<'_>,
    ) -> Result<Value, ApiError> {
        let action = guest_action(&op.template).unwrap_or_default();
        let kind = if op.template.contains("/lxc/") {
            "lxc"
        } else {
            "qemu"
        };
        let guest = if kind == "lxc" { "CT" } else { "VM" };
        let get = |k: &str| {
            path_param(path_params, k)
                .map(str::to_string)
                .unwrap_or_default()
        };
        let text = |k: &str| match params.get(k) {
            Some(Value::String(s)) => Some(s.clone()),
            Some(Value::Null) | None => None,
            Some(v) => Some(v.to_string()),
        };
        let (node, vmid) = (get("node"), get("vmid"));
        let list = format!("nodes/{node}/{kind}");
        let exists = self
            .store
            .read(|s| s.members.get(&list).is_some_and(|m| m.contains_key(&vmid)));
        if !exists && self.lenient {
            return Ok(self.answer(op, ctx));
        }
        let clock = self.store.now();
        let outcome = self.store.write(|s| -> Result<(), String> {
            let rec = s
                .members
                .get(&list)
                .and_then(|m| m.get(&vmid))
                .cloned()
                .ok_or_else(|| format!("{guest} {vmid} does not exist"))?;
            if let Some(lock) = held_lock(&rec, clock) {
                return Err(format!("{guest} is locked ({lock})"));
            }
            let running = rec.meta.get("status").and_then(Value::as_str) == Some("running");
            match action {
                "template" => {
                    if running {
                        return Err(format!("you can't convert a running {guest} to a template"));
                    }
                    if let Some(r) = s.members.get_mut(&list).and_then(|m| m.get_mut(&vmid)) {
                        r.config.insert("template".into(), json!(1));
                    }
                    Ok(())
                }
                "clone" => {
                    let newid = text("newid").unwrap_or_default();
                    let target = text("target").unwrap_or_else(|| node.clone());
                    if !s.nodes.contains(&target) {
                        return Err(format!("no such cluster node '{target}'"));
                    }
                    if let Some(owner) = guest_owner(s, &newid) {
                        return Err(format!(
                            "unable to create {guest} {newid} - {guest} {newid} already exists on node '{owner}'"
                        ));
                    }
                    let mut config = rec.config.clone();
                    config.remove("template");
                    let name = text("name").or_else(|| text("hostname")).unwrap_or_else(|| {
                        let base = rec.config.get("name").and_then(Value::as_str).unwrap_or("vm");
                        format!("Copy-of-VM-{base}")
                    });
                    config.insert(if kind == "lxc" { "hostname" } else { "name" }.into(), json!(name));
                    let mut meta = Map::new();
                    meta.insert("status".into(), json!("stopped"));
                    s.undelete(&format!("nodes/{target}/{kind}/{newid}"));
                    s.members
                        .entry(format!("nodes/{target}/{kind}"))
                        .or_default()
                        .insert(newid, Record { config, meta });
                    Ok(())
                }
                "migrate" => {
                    let target = text("target").unwrap_or_default();
                    if target == node {
                        return Err("target is local node.".into());
                    }
                    if !s.nodes.contains(&target) {
                        return Err(format!("no such cluster node '{target}'"));
                    }
                    let live = ["online", "restart"].iter().any(|k| {
                        params.get(*k).and_then(Value::as_u64) == Some(1)
                    });
                    if running && !live {
                        return Err(format!("can't migrate running {guest} without --online"));
                    }
                    if let Some(r) = s.members.get_mut(&list).and_then(|m| m.remove(&vmid)) {
                        s.drop_overrides_below(&format!("{list}/{vmid}"));
                        s.members.entry(format!("nodes/{target}/{kind}")).or_default().insert(vmid.clone(), r);
                    }
                    Ok(())
                }
                _ => Ok(()),
            }
        });
        if tasks::worker_type(op.method.as_str(), &op.template).is_none() {
            // Not a worker in PVE (a container's `template`): done, or refused, right away
            // (lenient mode refuses nothing).
            if self.lenient {
                return Ok(Value::Null);
            }
            return outcome.map(|()| Value::Null).map_err(err500);
        }
        let upid = self.new_upid(op, ctx);
        self.record_task(&upid, outcome);
        Ok(Value::String(upid))
    }

    /// The answer of a write: a task ID for workers, `null`, or a generated value.
    fn answer(&self, op: &Operation, ctx: &GenContext<'_>) -> Value {
        let returns = &op.info.returns;
        match (op.method, returns.schema_type()) {
            (Method::Get, _) => generate(returns, "", ctx),
            (_, SchemaType::Null) => Value::Null,
            (_, SchemaType::String)
                if tasks::worker_type(op.method.as_str(), &op.template).is_some() =>
            {
                let upid = self.new_upid(op, ctx);
                self.record_task(&upid, Ok(()));
                Value::String(upid)
            }
            _ => generate(returns, "", ctx),
        }
    }

    /// start/stop/shutdown/reboot/suspend/resume/reset of a guest: the state changes as
    /// in PVE, and an impossible transition ends the task with PVE's error.
    fn lifecycle(
        &self,
        op: &Operation,
        path_params: &[(&str, String)],
        ctx: &GenContext<'_>,
    ) -> Value {
        let action = lifecycle_action(&op.template).unwrap_or_default();
        let guest = if op.template.contains("/lxc/") {
            "CT"
        } else {
            "VM"
        };
        let Some(c) = self.collections.ancestors(&op.template).last() else {
            return self.answer(op, ctx);
        };
        let list = concrete(&c.template, path_params);
        let id = path_param(path_params, &c.id_param)
            .map(str::to_string)
            .unwrap_or_default();
        let clock = self.store.now();
        let outcome = self.store.write(|s| {
            let Some(rec) = s.members.get_mut(&list).and_then(|m| m.get_mut(&id)) else {
                return Err(format!("{guest} {id} does not exist"));
            };
            if let Some(lock) = held_lock(rec, clock) {
                return Err(format!("{guest} is locked ({lock})"));
            }
            let running = rec.meta.get("status").and_then(Value::as_str) == Some("running");
            let set = |rec: &mut Record, status: &str| {
                rec.meta.insert("status".into(), json!(status));
                rec.meta.insert("qmpstatus".into(), json!(status));
            };
            match action {
                "start" if running => Err(format!("{guest} {id} already running")),
                "start" => {
                    pending::apply(rec);
                    set(rec, "running");
                    rec.meta.insert("starttime".into(), json!(clock));
                    Ok(())
                }
                "stop" => {
                    set(rec, "stopped");
                    rec.meta.remove("starttime");
                    Ok(())
                }
                "shutdown" | "reboot" | "suspend" | "resume" | "reset" if !running => {
                    Err(format!("{guest} {id} not running"))
                }
                "shutdown" => {
                    set(rec, "stopped");
                    rec.meta.remove("starttime");
                    Ok(())
                }
                "reboot" => {
                    pending::apply(rec);
                    Ok(())
                }
                "suspend" => {
                    rec.meta.insert("qmpstatus".into(), json!("paused"));
                    Ok(())
                }
                "resume" => {
                    rec.meta.insert("qmpstatus".into(), json!("running"));
                    Ok(())
                }
                _ => Ok(()),
            }
        });
        let upid = self.new_upid(op, ctx);
        self.record_task(&upid, outcome);
        Value::String(upid)
    }

    /// Remembers how a worker task ended (`OK`, or PVE's error and a `TASK ERROR:` line).
    fn record_task(&self, upid: &str, outcome: Result<(), String>) {
        let kind = parse_upid(upid).map(|u| u.kind).unwrap_or_default();
        let scale = self.store.control().time_scale;
        let endtime = self.store.now() + (tasks::nominal_seconds(&kind) * scale).round() as u64;
        let record = match outcome {
            Ok(()) => crate::mock::store::TaskRecord {
                exitstatus: "OK".into(),
                log: vec!["TASK OK".into()],
                endtime,
            },
            Err(e) => crate::mock::store::TaskRecord {
                log: vec![format!("TASK ERROR: {e}")],
                exitstatus: e,
                endtime,
            },
        };
        let now = self.store.now();
        let lock = tasks::lock_kind(&kind).filter(|_| endtime > now);
        let vmid = parse_upid(upid).map(|u| u.id).unwrap_or_default();
        self.store.write(|s| {
            s.tasks.insert(upid.to_string(), record);
            if let (Some(lock), Some(node)) = (lock, guest_owner(s, &vmid)) {
                // The guest stays locked while the task runs, as PVE's config lock does.
                let kind = if s
                    .members
                    .get(&format!("nodes/{node}/lxc"))
                    .is_some_and(|m| m.contains_key(&vmid))
                {
                    "lxc"
                } else {
                    "qemu"
                };
                if let Some(r) = s
                    .members
                    .get_mut(&format!("nodes/{node}/{kind}"))
                    .and_then(|m| m.get_mut(&vmid))
                {
                    r.meta.insert("lock".into(), json!(lock));
                    r.meta.insert("lock_until".into(), json!(endtime));
                }
            }
        });
    }

    fn new_upid(&self, op: &Operation, ctx: &GenContext<'_>) -> String {
        let pid = self.store.write(|s| {
            s.seq += 1;
            s.seq
        });
        let node = path_param(ctx.path_params, "node")
            .map(str::to_string)
            .or_else(|| self.store.read(|s| s.nodes.first().cloned()))
            .unwrap_or_else(|| "pve1".into());
        let id = path_param(ctx.path_params, "vmid")
            .map(str::to_string)
            .unwrap_or_default();
        format!(
            "UPID:{node}:{:08X}:{:08X}:{:08X}:{}:{id}:root@pam:",
            0x1000 + pid,
            0x2000 + pid,
            self.store.now(),
            task_type(op)
        )
    }
}

/// Fields PVE shows for a guest in `/nodes/{node}/qemu|lxc` (a stopped guest: counters 0).
const GUEST_LIST_FIELDS: &[&str] = &[
    "name",
    "status",
    "cpus",
    "maxmem",
    "maxdisk",
    "maxswap",
    "mem",
    "disk",
    "swap",
    "cpu",
    "uptime",
    "netin",
    "netout",
    "diskread",
    "diskwrite",
    "type",
    "template",
    "tags",
    "lock",
];

/// Leading digits of a size such as `2048` or `current=2048` (MiB).
fn leading_mib(v: Option<&Value>) -> Option<u64> {
    let text = match v? {
        Value::Number(n) => return n.as_u64(),
        Value::String(s) => s.trim_start_matches("current="),
        _ => return None,
    };
    let digits: String = text.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

/// One guest as its node's guest list shows it, from its stored config and state.
fn guest_list_item(
    kind: &str,
    id: &str,
    rec: &Record,
    fields: &[&str],
    base: &Value,
    clock: u64,
) -> Value {
    let Value::Object(mut item) = base.clone() else {
        return Value::Null;
    };
    let cfg = &rec.config;
    let num = |k: &str| {
        cfg.get(k)
            .and_then(|v| v.as_u64().or_else(|| v.as_str()?.parse().ok()))
    };
    let mib = 1024 * 1024u64;
    for field in fields {
        let value = match *field {
            "name" => cfg.get("name").or_else(|| cfg.get("hostname")).cloned(),
            "status" => Some(rec.meta.get("status").cloned().unwrap_or(json!("stopped"))),
            "cpus" => Some(json!(
                num("cores").unwrap_or(1) * num("sockets").unwrap_or(1)
            )),
            "maxmem" => Some(json!(leading_mib(cfg.get("memory")).unwrap_or(512) * mib)),
            "maxswap" => Some(json!(num("swap").unwrap_or(512) * mib)),
            "type" => Some(json!(kind)),
            "uptime" => Some(json!(
                match rec.meta.get("starttime").and_then(Value::as_u64) {
                    Some(t)
                        if rec.meta.get("status").and_then(Value::as_str) == Some("running") =>
                        clock.saturating_sub(t),
                    _ => 0,
                }
            )),
            "lock" => cfg
                .get("lock")
                .cloned()
                .or_else(|| held_lock(rec, clock).map(Value::from)),
            "template" | "tags" => cfg.get(*field).cloned(),
            _ => Some(json!(0)),
        };
        if let Some(v) = value {
            item.insert((*field).to_string(), v);
        }
    }
    item.insert("vmid".into(), json!(id.parse::<u64>().unwrap_or(0)));
    Value::Object(item)
}

/// PVE's worker type for an operation (what the UPID carries).
fn task_type(op: &Operation) -> &'static str {
    tasks::worker_type(op.method.as_str(), &op.template).unwrap_or("unknown")
}

/// The parts of a UPID.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upid {
    /// Node.
    pub node: String,
    /// Worker pid.
    pub pid: u64,
    /// Process start time (clock ticks).
    pub pstart: u64,
    /// Task start (epoch seconds).
    pub starttime: u64,
    /// Task type (`qmcreate`).
    pub kind: String,
    /// Task id (often the vmid).
    pub id: String,
    /// User that started it.
    pub user: String,
}

/// Parses `UPID:node:pid:pstart:starttime:type:id:user:`.
pub fn parse_upid(upid: &str) -> Option<Upid> {
    let parts: Vec<&str> = upid.split(':').collect();
    if parts.len() < 8 || parts[0] != "UPID" {
        return None;
    }
    let hex = |s: &str| u64::from_str_radix(s, 16).ok();
    Some(Upid {
        node: parts[1].to_string(),
        pid: hex(parts[2])?,
        pstart: hex(parts[3])?,
        starttime: hex(parts[4])?,
        kind: parts[5].to_string(),
        id: parts[6].to_string(),
        user: parts[7..].join(":").trim_end_matches(':').to_string(),
    })
}

/// Overlays a member's stored data onto a generated object: everything the schema can
/// hold when `full` (the member or its config), else only members the schema names.
fn overlay(obj: &mut Map<String, Value>, rec: &Record, schema: &crate::schema::Schema, full: bool) {
    let families = crate::schema::IndexedFamily::collect(schema.properties.as_ref());
    overlay_with(obj, rec, schema, full, &families);
}

fn overlay_with(
    obj: &mut Map<String, Value>,
    rec: &Record,
    schema: &crate::schema::Schema,
    full: bool,
    families: &[crate::schema::IndexedFamily],
) {
    let props = schema.properties.as_ref();
    let allowed = |k: &str| {
        props.is_some_and(|p| p.contains_key(k))
            || families.iter().any(|f| f.matches(k))
            || (full && !schema.forbids_additional_properties() && props.is_none())
    };
    if full {
        // Only what was stored (and what PVE always shows), not invented extras.
        let required: Vec<String> = props
            .map(|p| {
                p.iter()
                    .filter(|(_, s)| !s.optional)
                    .map(|(k, _)| k.clone())
                    .collect()
            })
            .unwrap_or_default();
        obj.retain(|k, _| required.contains(k));
    }
    for (k, v) in rec.config.iter().chain(rec.meta.iter()) {
        if allowed(k) {
            let v = if k.contains("password") {
                json!("**********")
            } else {
                v.clone()
            };
            obj.insert(k.clone(), v);
        }
    }
    if full && props.is_some_and(|p| p.contains_key("digest")) {
        obj.insert("digest".into(), json!(config_digest(&rec.config)));
    }
}

/// The digest PVE shows for a configuration (and checks on update).
pub fn config_digest(config: &Map<String, Value>) -> String {
    let canonical: BTreeMap<&String, &Value> = config.iter().collect();
    let text = serde_json::to_string(&canonical).unwrap_or_default();
    Sha256::digest(text.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()[..40]
        .to_string()
}

fn already_exists(c: &Collection, id: &str) -> String {
    match c.template.as_str() {
        "/access/users" => format!("create user failed: user '{id}' already exists"),
        "/pools" => format!("create pool failed: pool '{id}' already exists"),
        "/storage" => format!("create storage failed: storage ID '{id}' already defined"),
        "/access/groups" => format!("create group failed: group '{id}' already exists"),
        "/access/roles" => format!("create role failed: role '{id}' already exists"),
        _ => format!("{} '{id}' already exists", c.id_param),
    }
}

/// PVE's answer for a member that does not exist.
fn missing_member(c: &Collection, params: &[(&str, String)], id: &str) -> ApiError {
    let node = params
        .iter()
        .find(|(k, _)| *k == "node")
        .map_or("", |(_, v)| v.as_str());
    match c.template.as_str() {
        "/nodes/{node}/qemu" => err500(format!(
            "Configuration file 'nodes/{node}/qemu-server/{id}.conf' does not exist"
        )),
        "/nodes/{node}/lxc" => err500(format!(
            "Configuration file 'nodes/{node}/lxc/{id}.conf' does not exist"
        )),
        "/access/users" => err500(format!("no such user ('{id}')")),
        "/pools" => err500(format!("pool '{id}' does not exist")),
        "/storage" => err500(format!("storage '{id}' does not exist")),
        "/access/groups" => err500(format!("group '{id}' does not exist")),
        "/access/roles" => err500(format!("role '{id}' does not exist")),
        _ => err500(format!("{} '{id}' does not exist", c.id_param)),
    }
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

/// The guest action of a `.../qemu|lxc/{vmid}/status/<action>` template.
fn lifecycle_action(template: &str) -> Option<&str> {
    let action = template.rsplit_once("/status/")?.1;
    let guest = template.starts_with("/nodes/{node}/qemu/{vmid}/status/")
        || template.starts_with("/nodes/{node}/lxc/{vmid}/status/");
    (guest
        && matches!(
            action,
            "start" | "stop" | "shutdown" | "reboot" | "suspend" | "resume" | "reset"
        ))
    .then_some(action)
}

/// What a guest's `status/current` shows of its runtime: counters and pid only while it runs.
fn guest_runtime(
    obj: &mut Map<String, Value>,
    rec: &Record,
    schema: &crate::schema::Schema,
    clock: u64,
) {
    let running = rec.meta.get("status").and_then(Value::as_str) == Some("running");
    obj.insert(
        "status".into(),
        json!(if running { "running" } else { "stopped" }),
    );
    if schema
        .properties
        .as_ref()
        .is_some_and(|p| p.contains_key("qmpstatus"))
    {
        let qmp = rec
            .meta
            .get("qmpstatus")
            .cloned()
            .unwrap_or(json!("stopped"));
        obj.insert("qmpstatus".into(), qmp);
    }
    if running {
        let started = rec
            .meta
            .get("starttime")
            .and_then(Value::as_u64)
            .unwrap_or(clock);
        obj.insert("uptime".into(), json!(clock.saturating_sub(started)));
    } else {
        obj.remove("pid");
        for k in [
            "uptime",
            "cpu",
            "mem",
            "netin",
            "netout",
            "diskread",
            "diskwrite",
        ] {
            if obj.contains_key(k) {
                obj.insert(k.into(), json!(0));
            }
        }
    }
}

/// The guest action (clone, migrate, template) of a `.../qemu|lxc/{vmid}/<action>` template.
fn guest_action(template: &str) -> Option<&str> {
    let (base, action) = template.rsplit_once('/')?;
    let guest = base == "/nodes/{node}/qemu/{vmid}" || base == "/nodes/{node}/lxc/{vmid}";
    (guest && matches!(action, "clone" | "migrate" | "template")).then_some(action)
}

/// The node that holds guest `vmid`, if any (VMIDs are unique cluster-wide).
fn guest_owner(s: &MockState, vmid: &str) -> Option<String> {
    s.members.iter().find_map(|(list, members)| {
        let parts: Vec<&str> = list.split('/').collect();
        match parts[..] {
            ["nodes", node, "qemu" | "lxc"]
                if members.contains_key(vmid) && !s.is_deleted(&format!("{list}/{vmid}")) =>
            {
                Some(node.to_string())
            }
            _ => None,
        }
    })
}

/// Adds a guest to a pool's `members` (what `GET /pools/{poolid}` lists).
fn add_pool_member(s: &mut MockState, pool: &str, list: &str, vmid: &str) {
    let mut parts = list.split('/');
    let (Some("nodes"), Some(node), Some(kind)) = (parts.next(), parts.next(), parts.next()) else {
        return;
    };
    let entry = json!({
        "id": format!("{kind}/{vmid}"),
        "type": kind,
        "vmid": vmid.parse::<u64>().unwrap_or(0),
        "node": node,
    });
    if let Some(rec) = s.members.get_mut("pools").and_then(|p| p.get_mut(pool)) {
        match rec.meta.get_mut("members") {
            Some(Value::Array(members)) => members.push(entry),
            _ => {
                rec.meta.insert("members".into(), json!([entry]));
            }
        }
    }
}

/// The lock a running task holds on a guest, if its task has not ended yet.
fn held_lock(rec: &Record, now: u64) -> Option<String> {
    let until = rec.meta.get("lock_until")?.as_u64()?;
    (until > now).then(|| {
        rec.meta
            .get("lock")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    })
}

/// The value of path parameter `name`.
pub(crate) fn path_param<'a>(params: &'a [(&str, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.as_str())
}
