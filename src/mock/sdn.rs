//! SDN objects keyed by two ids: route map entries (`route-map-id` and `order`, kept as one
//! record per route map holding its entries by order), and the nodes of all fabrics.

use serde_json::{json, Map, Value};

use crate::api::{ApiError, Method};
use crate::mock::computed::Computed;
use crate::mock::messages::err500;
use crate::mock::store::MockState;
use crate::mock::Ctx;

/// The handlers of this file, by operation.
pub const HANDLERS: &[Computed] = &[
    (Method::Get, "/cluster/sdn/route-maps", route_maps),
    (Method::Get, "/cluster/sdn/route-maps/entries", all_entries),
    (
        Method::Post,
        "/cluster/sdn/route-maps/entries",
        create_entry,
    ),
    (
        Method::Get,
        "/cluster/sdn/route-maps/entries/{route-map-id}",
        map_entries,
    ),
    (
        Method::Get,
        "/cluster/sdn/route-maps/entries/{route-map-id}/entry/{order}",
        read_entry,
    ),
    (
        Method::Put,
        "/cluster/sdn/route-maps/entries/{route-map-id}/entry/{order}",
        update_entry,
    ),
    (
        Method::Delete,
        "/cluster/sdn/route-maps/entries/{route-map-id}/entry/{order}",
        delete_entry,
    ),
    (Method::Get, "/cluster/sdn/fabrics/node", all_fabric_nodes),
];

const MAPS: &str = "cluster/sdn/route-maps/entries";
/// What a request carries besides the entry itself.
const NOT_STORED: &[&str] = &["route-map-id", "order", "digest", "lock-token", "delete"];

fn entry_value(map: &str, order: &str, entry: &Value) -> Value {
    let mut out = entry.as_object().cloned().unwrap_or_default();
    out.insert("route-map-id".into(), json!(map));
    out.insert(
        "order".into(),
        order
            .parse::<u64>()
            .map_or_else(|_| json!(order), Value::from),
    );
    Value::Object(out)
}

/// The entries of one map in order (`order` is a number).
fn entries_of(s: &MockState, map: &str) -> Vec<Value> {
    let Some(rec) = s.members.get(MAPS).and_then(|m| m.get(map)) else {
        return Vec::new();
    };
    let mut entries: Vec<(&String, &Value)> = rec.config.iter().collect();
    entries.sort_by_key(|(order, _)| order.parse::<u64>().unwrap_or(u64::MAX));
    entries
        .into_iter()
        .map(|(order, e)| entry_value(map, order, e))
        .collect()
}

/// `GET /cluster/sdn/route-maps`: the maps that have entries.
fn route_maps(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.mock.store().read(|s| {
        Value::Array(
            s.members
                .get(MAPS)
                .into_iter()
                .flatten()
                .map(|(id, _)| json!({ "id": id }))
                .collect(),
        )
    }))
}

/// `GET /cluster/sdn/route-maps/entries`: every entry of every map.
fn all_entries(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.mock.store().read(|s| {
        let maps: Vec<&String> = s
            .members
            .get(MAPS)
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
            .collect();
        Value::Array(maps.into_iter().flat_map(|m| entries_of(s, m)).collect())
    }))
}

/// `GET /cluster/sdn/route-maps/entries/{route-map-id}`.
fn map_entries(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let map = ctx.path_param("route-map-id").unwrap_or_default();
    Ok(ctx.mock.store().read(|s| Value::Array(entries_of(s, map))))
}

fn stored_fields(ctx: &Ctx<'_>) -> Map<String, Value> {
    ctx.params
        .iter()
        .filter(|(k, _)| !NOT_STORED.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect()
}

fn order_param(ctx: &Ctx<'_>) -> String {
    match ctx.path_param("order") {
        Some(o) => o.to_string(),
        None => match ctx.params.get("order") {
            Some(Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
            None => String::new(),
        },
    }
}

fn missing(map: &str, order: &str) -> ApiError {
    err500(format!(
        "route map entry '{map}' with order '{order}' does not exist"
    ))
}

/// A write to an entry that is not there: refused, or done (lenient mode refuses nothing).
fn lenient_or_missing(ctx: &Ctx<'_>, map: &str, order: &str) -> Result<Value, ApiError> {
    if ctx.mock.lenient() {
        Ok(Value::Null)
    } else {
        Err(missing(map, order))
    }
}

/// `POST /cluster/sdn/route-maps/entries`: a new entry (map and order not yet taken).
fn create_entry(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let map = ctx.text("route-map-id").unwrap_or_default();
    let order = order_param(ctx);
    let entry = Value::Object(stored_fields(ctx));
    ctx.mock.store().write(|s| {
        let rec = s
            .members
            .entry(MAPS.into())
            .or_default()
            .entry(map.clone())
            .or_default();
        if rec.config.contains_key(&order) {
            return Err(err500(format!(
                "route map entry '{map}' with order '{order}' already exists"
            )));
        }
        rec.config.insert(order, entry);
        Ok(Value::Null)
    })
}

/// `GET .../entries/{route-map-id}/entry/{order}`.
fn read_entry(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let map = ctx.path_param("route-map-id").unwrap_or_default();
    let order = order_param(ctx);
    let found = ctx.mock.store().read(|s| {
        s.members
            .get(MAPS)
            .and_then(|m| m.get(map))
            .and_then(|r| r.config.get(&order))
            .map(|e| entry_value(map, &order, e))
    });
    match found {
        Some(v) => Ok(v),
        // Lenient mode (the original mock's) refuses nothing: an answer by the schema.
        None if ctx.mock.lenient() => Ok(ctx.mock.answer(ctx)),
        None => Err(missing(map, &order)),
    }
}

/// `PUT .../entries/{route-map-id}/entry/{order}`: set fields, `delete` removes some.
fn update_entry(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let map = ctx
        .path_param("route-map-id")
        .unwrap_or_default()
        .to_string();
    let order = order_param(ctx);
    let fields = stored_fields(ctx);
    let delete = ctx.list("delete");
    ctx.mock.store().write(|s| {
        let Some(Value::Object(entry)) = s
            .members
            .get_mut(MAPS)
            .and_then(|m| m.get_mut(&map))
            .and_then(|r| r.config.get_mut(&order))
        else {
            return lenient_or_missing(ctx, &map, &order);
        };
        for k in &delete {
            entry.remove(k.as_str());
        }
        entry.extend(fields);
        Ok(Value::Null)
    })
}

/// `DELETE .../entries/{route-map-id}/entry/{order}`: a map without entries is gone.
fn delete_entry(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    let map = ctx
        .path_param("route-map-id")
        .unwrap_or_default()
        .to_string();
    let order = order_param(ctx);
    ctx.mock.store().write(|s| {
        let maps = s.members.get_mut(MAPS);
        let Some(rec) = maps.and_then(|m| m.get_mut(&map)) else {
            return lenient_or_missing(ctx, &map, &order);
        };
        if rec.config.remove(&order).is_none() {
            return lenient_or_missing(ctx, &map, &order);
        }
        if rec.config.is_empty() {
            if let Some(m) = s.members.get_mut(MAPS) {
                m.remove(&map);
            }
        }
        Ok(Value::Null)
    })
}

/// `GET /cluster/sdn/fabrics/node`: the nodes of every fabric.
fn all_fabric_nodes(ctx: &Ctx<'_>) -> Result<Value, ApiError> {
    Ok(ctx.mock.store().read(|s| {
        let mut out = Vec::new();
        for (list, members) in &s.members {
            let Some(fabric) = list.strip_prefix("cluster/sdn/fabrics/node/") else {
                continue;
            };
            for (node, rec) in members {
                let mut item = rec.config.clone();
                item.insert("fabric_id".into(), json!(fabric));
                item.insert("node_id".into(), json!(node));
                out.push(Value::Object(item));
            }
        }
        Value::Array(out)
    }))
}
