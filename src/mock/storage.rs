//! Storage as a node shows it: the node's storage list (from the cluster's storage
//! configuration) and each storage's content (volumes of guests, uploads, downloads).

use serde_json::{json, Map, Value};

use super::cluster::gen_item;
use super::computed::Computed;
use super::store::{MockState, Record};
use super::{volumes, Ctx};
use crate::api::{ApiError, Method};

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/storage", config_list),
    (Method::Get, "/storage/{storage}", config_entry),
    (Method::Get, "/nodes/{node}/storage", node_storage),
    (
        Method::Get,
        "/nodes/{node}/storage/{storage}/content",
        content,
    ),
];

/// The digest of the cluster's whole storage configuration (PVE's `storage.cfg` digest:
/// every entry of the list carries it, and a write with another `digest` is refused).
pub fn storage_cfg_digest(s: &MockState) -> String {
    let all: Map<String, Value> = s
        .members
        .get("storage")
        .map(|m| {
            m.iter()
                .filter(|(id, _)| !s.is_deleted(&format!("storage/{id}")))
                .map(|(id, r)| (id.clone(), Value::Object(r.config.clone())))
                .collect()
        })
        .unwrap_or_default();
    super::reads::config_digest(&all)
}

/// One storage as `GET /storage` lists it: its configuration as storage.cfg holds it,
/// with its id and the file's digest (PVE's `api_storage_config`).
fn entry(id: &str, rec: &Record, digest: &str) -> Value {
    let mut m = rec.config.clone();
    m.insert("storage".into(), json!(id));
    m.insert("digest".into(), json!(digest));
    Value::Object(m)
}

/// `GET /storage`: every storage the caller may audit, in id order, `type` filtering.
fn config_list(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let want = ctx.text("type");
    Ok(ctx.store().read(|s| {
        let digest = storage_cfg_digest(s);
        let Some(storages) = s.members.get("storage") else {
            return Value::Array(Vec::new());
        };
        Value::Array(
            storages
                .iter()
                .filter(|(id, _)| !s.is_deleted(&format!("storage/{id}")))
                .filter(|(_, r)| {
                    want.as_deref()
                        .is_none_or(|t| r.config.get("type").and_then(Value::as_str) == Some(t))
                })
                .filter(|(id, _)| super::reads::may_audit_storage(ctx, s, id))
                .map(|(id, r)| entry(id, r, &digest))
                .collect(),
        )
    }))
}

/// `GET /storage/{storage}`.
fn config_entry(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let id = ctx.path_param("storage").unwrap_or_default();
    let missing = ctx.store().read(|s| {
        !s.members.get("storage").is_some_and(|m| m.contains_key(id))
            || s.is_deleted(&format!("storage/{id}"))
    });
    if missing && ctx.mock.lenient() {
        // Lenient mode (the original mock's behaviour) refuses nothing: the schema's shape.
        return Ok(ctx.mock.answer(ctx));
    }
    ctx.store().read(|s| {
        let rec = s
            .members
            .get("storage")
            .and_then(|m| m.get(id))
            .filter(|_| !s.is_deleted(&format!("storage/{id}")))
            .ok_or_else(|| super::messages::err500(format!("storage '{id}' does not exist")))?;
        Ok(entry(id, rec, &storage_cfg_digest(s)))
    })
}

fn node_storage(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.store().read(|s| {
        let Some(storages) = s.members.get("storage") else {
            return Value::Array(Vec::new());
        };
        Value::Array(
            storages
                .iter()
                .map(|(id, rec)| {
                    let mut m = gen_item(ctx, &[("storage", id.clone())]);
                    for k in ["type", "content", "shared"] {
                        if let Some(v) = rec.config.get(k) {
                            m.insert(k.into(), v.clone());
                        }
                    }
                    // storage.cfg says `shared` only for storages marked so.
                    if !rec.config.contains_key("shared") {
                        m.insert("shared".into(), json!(0));
                    }
                    m.insert("active".into(), json!(1));
                    m.insert("enabled".into(), json!(1));
                    // Only plugins that cannot allocate volumes say so (iSCSI), and the
                    // formats only come with a `format` query (PVE::API2::Storage::Status).
                    let ty = rec.config.get("type").and_then(Value::as_str).unwrap_or("");
                    if !ty.starts_with("iscsi") {
                        m.remove("select_existing");
                    }
                    if ctx.params.get("format").is_none() {
                        m.remove("formats");
                    }
                    Value::Object(m)
                })
                .collect(),
        )
    }))
}

fn content(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let node = ctx.path_param("node").unwrap_or_default();
    let storage = ctx.path_param("storage").unwrap_or_default();
    Ok(ctx
        .store()
        .read(|s| volumes::list(s, node, storage, ctx.params)))
}
