//! What a new mock starts from and how tests seed it: the default cluster (its nodes,
//! storages `local` and `local-lvm`, `root@pam`), data files and `set_object` /
//! `get_object` / `delete_object` as the original `MockBackend` store offered them.

use serde_json::{json, Map, Value};

use super::collections::{concrete, Collections};
use super::store::{key, MockState, Record};
use super::MockPve;
use crate::schema::ApiSchema;

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

/// What a new mock of `product` starts from: PVE's default cluster, or the other products'
/// default servers ([`super::pbs`], [`super::pmg`], [`super::pdm`]).
pub fn default_state_of(product: crate::schema::Product) -> MockState {
    use crate::schema::Product;
    let mut state = match product {
        Product::Pve => default_state(default_nodes()),
        Product::Pbs => super::pbs::default_state(),
        Product::Pmg => super::pmg::default_state(),
        Product::Pdm => super::pdm::default_state(),
    };
    state.product = product;
    state
}

/// A small coherent cluster: its nodes, storages `local` and `local-lvm`, `root@pam`.
pub fn default_state(nodes: Vec<String>) -> MockState {
    let mut state = MockState {
        nodes: nodes.into(),
        ..MockState::default()
    };
    let record = |v: Value| Record {
        config: v.as_object().cloned().unwrap_or_default(),
        meta: Map::new(),
    };
    let storage = state.members.entry("storage".into()).or_default();
    storage.insert(
        "local".into(),
        (record(
            json!({"type": "dir", "path": "/var/lib/vz", "content": "iso,vztmpl,backup,import"}),
        ))
        .into(),
    );
    storage.insert(
        "local-lvm".into(),
        (record(json!({"type": "lvmthin", "vgname": "pve", "thinpool": "data", "content": "images,rootdir"}))).into(),
    );
    state.members.entry("access/users".into()).or_default().insert(
        "root@pam".into(),
        (record(json!({"enable": 1, "expire": 0, "comment": "Built-in Superuser", "email": "", "firstname": "", "lastname": ""}))).into(),
    );
    // proxmox-notify's built-in target and matcher: mail to root, everything routed there.
    state
        .members
        .entry("cluster/notifications/endpoints/sendmail".into())
        .or_default()
        .insert(
            "mail-to-root".into(),
            (record(json!({"mailto-user": ["root@pam"], "comment": "Send mails to root@pam's email address", "origin": "builtin"}))).into(),
        );
    state
        .members
        .entry("cluster/notifications/matchers".into())
        .or_default()
        .insert(
            "default-matcher".into(),
            (record(json!({"target": ["mail-to-root"], "comment": "Route all notifications to mail-to-root", "origin": "builtin"}))).into(),
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
                    rec.config.clone_from(m);
                }
            }
        }
    }
    state.overrides.insert(k, value);
}

/// The seeding calls code written for the original mock makes that PVE itself has no
/// answer for (proxbox-api's test fixtures make exactly these), answered as the original
/// did (`null`) and applied to the mock cluster. Each is recognized by a shape no PVE
/// client sends, so every call PVE does answer keeps PVE's answer:
///
/// - `POST /nodes` (PVE: 501, nodes join a cluster with `pvecm`): adds node `node`.
/// - `POST /cluster/storage` (PVE: 501, storage lives at `/storage`): adds storage
///   `storage` with the given configuration.
/// - `POST /cluster/config` with `name` and without `clustername` (PVE: 400, `name` is no
///   parameter of cluster creation): accepted, changes nothing.
pub fn legacy_seeding(
    mock: &MockPve,
    caller: &super::Caller,
    method: crate::api::Method,
    path: &str,
    params: &Map<String, Value>,
) -> Option<Value> {
    if method != crate::api::Method::Post || !caller.is_root() {
        return None;
    }
    if mock.schema().product() != crate::schema::Product::Pve {
        return None;
    }
    let text = |k: &str| match params.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(v) => Some(v.to_string()),
    };
    match key(path).as_str() {
        "nodes" => {
            let node = text("node").filter(|n| !n.is_empty())?;
            mock.add_node(&node);
            Some(Value::Null)
        }
        "cluster/storage" => {
            let id = text("storage").filter(|n| !n.is_empty())?;
            let mut config = params.clone();
            config.remove("storage");
            for v in config.values_mut() {
                if let Value::Bool(b) = v {
                    // Stored as PVE keeps booleans.
                    *v = json!(u8::from(*b));
                }
            }
            mock.store.write(|s| {
                s.undelete(&format!("storage/{id}"));
                s.members.entry("storage".into()).or_default().insert(
                    id,
                    (Record {
                        config,
                        meta: Map::new(),
                    })
                    .into(),
                );
            });
            Some(Value::Null)
        }
        "cluster/config" if params.contains_key("name") && !params.contains_key("clustername") => {
            // Accepted and answered as the original did; a mock cluster needs no name.
            Some(Value::Null)
        }
        _ => None,
    }
}

impl MockPve {
    /// Adds a node to the cluster (what the legacy `POST /nodes` seeding call does).
    pub fn add_node(&self, node: &str) {
        self.store.write(|s| {
            if !s.nodes.iter().any(|n| n == node) {
                s.nodes.push(node.to_string());
            }
        });
    }

    /// `set_object` on this mock's store.
    pub fn set_object(&self, path: &str, value: Value) {
        self.store
            .write(|s| set_object(&self.schema, self.collections(), s, path, value));
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
    pub(crate) fn member_of(&self, path: &str) -> Option<(String, String)> {
        let (endpoint, params) = self.schema.resolve(path)?;
        let params: Vec<(&str, String)> = params.iter().map(|(n, v)| (*n, v.to_string())).collect();
        let c = self.collections().ancestors(&endpoint.template).last()?;
        if !c.is_member_or_config(&endpoint.template) {
            return None;
        }
        let id = super::path_param(&params, &c.id_param)?.to_string();
        Some((concrete(&c.template, &params), id))
    }
}
