//! Storage as a node shows it: the node's storage list (from the cluster's storage
//! configuration) and each storage's content (volumes of guests, uploads, downloads).

use serde_json::{json, Value};

use super::cluster::gen_item;
use super::computed::Computed;
use super::{volumes, Ctx};
use crate::api::{ApiError, Method};

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/nodes/{node}/storage", node_storage),
    (
        Method::Get,
        "/nodes/{node}/storage/{storage}/content",
        content,
    ),
];

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
                    m.insert("active".into(), json!(1));
                    m.insert("enabled".into(), json!(1));
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
