//! Parameter encoding, the same for every backend: `null` dropped, booleans as 0/1, and
//! lists per PVE's conventions (joined with commas for `-list` string formats, repeated
//! keys for array parameters).

use serde_json::{Map, Value};

use crate::api::Method;
use crate::schema::{ApiSchema, SchemaType};

/// Normalizes parameters the way every backend sends them: `null` dropped, booleans as
/// 0/1, and a list given for a parameter the schema types as a string (PVE's `-list`
/// formats) joined with commas; lists for array parameters stay lists (repeated keys).
pub fn encode_params(
    schema: Option<&ApiSchema>,
    method: Method,
    path: &str,
    params: Map<String, Value>,
) -> Map<String, Value> {
    if params
        .values()
        .all(|v| matches!(v, Value::String(_) | Value::Number(_)))
    {
        // Nothing to encode: the common case costs no schema lookup.
        return params;
    }
    let op = if params.values().any(Value::is_array) {
        schema
            .and_then(|s| s.operation(method.as_str(), path).ok())
            .map(|(op, _)| op)
    } else {
        None
    };
    let mut out = Map::with_capacity(params.len());
    for (k, v) in params {
        let v = match v {
            Value::Null => continue,
            Value::Bool(b) => Value::from(u8::from(b)),
            Value::Array(items) => {
                let is_array_param = op
                    .and_then(|op| op.param(&k))
                    .is_none_or(|s| s.schema_type() == SchemaType::Array);
                let items: Vec<Value> = items
                    .into_iter()
                    .filter(|i| !i.is_null())
                    .map(|i| match i {
                        Value::Bool(b) => Value::from(u8::from(b)),
                        other => other,
                    })
                    .collect();
                if is_array_param {
                    Value::Array(items)
                } else {
                    Value::String(
                        items
                            .iter()
                            .map(|i| match i {
                                Value::String(s) => s.clone(),
                                other => other.to_string(),
                            })
                            .collect::<Vec<_>>()
                            .join(","),
                    )
                }
            }
            other => other,
        };
        out.insert(k, v);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::bundled;
    use serde_json::json;

    #[test]
    fn encoding() {
        let s = bundled::load("9.2").unwrap();
        let params = json!({"a": null, "onboot": true, "delete": ["net0", "net1"], "exclude-path": ["/a", "/b"]});
        let out = encode_params(
            Some(&s),
            Method::Put,
            "/nodes/pve1/qemu/100/config",
            params.as_object().unwrap().clone(),
        );
        assert_eq!(
            Value::Object(out),
            json!({"onboot": 1, "delete": "net0,net1", "exclude-path": ["/a", "/b"]})
        );
        let out = encode_params(
            Some(&s),
            Method::Post,
            "/cluster/backup",
            json!({"exclude-path": ["/a", true]})
                .as_object()
                .unwrap()
                .clone(),
        );
        assert_eq!(Value::Object(out), json!({"exclude-path": ["/a", 1]}));
    }
}
