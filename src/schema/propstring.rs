//! PVE property strings (`virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1`): parsing into
//! a key/value map the way `PVE::JSONSchema::parse_property_string` does, and rendering back.

use std::collections::BTreeMap;

use super::model::{Schema, SchemaType};

/// A property-string format: key -> schema of the key's value.
pub type PropertyFormat = BTreeMap<String, Schema>;

/// Parses `text` against `format`. Keys given through an `alias` are stored under the key
/// they stand for (and, with `keyAlias`, the alias itself becomes that key's value);
/// booleans are normalized to `1`/`0`. The error is PVE's message.
pub fn parse_property_string(
    format: &PropertyFormat,
    text: &str,
) -> Result<BTreeMap<String, String>, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    let mut default_key_used = false;
    for part in text.split(',') {
        if part.trim().is_empty() {
            continue;
        }
        match part.split_once('=') {
            Some((k, v)) if !k.is_empty() && !v.is_empty() => {
                if out.contains_key(k) {
                    return Err(format!(
                        "duplicate key in comma-separated list property: {k}"
                    ));
                }
                let mut key = k.to_string();
                let mut schema = format.get(k);
                if let Some(alias) = schema.and_then(|s| s.alias.as_deref()) {
                    if let Some(key_alias) = schema.and_then(|s| s.key_alias.as_deref()) {
                        if out.contains_key(key_alias) {
                            return Err(format!("key alias '{key_alias}' is already defined"));
                        }
                        out.insert(key_alias.to_string(), k.to_string());
                    }
                    key = alias.to_string();
                    schema = format.get(alias);
                }
                let Some(schema) = schema else {
                    return Err(format!(
                        "invalid key in comma-separated list property: {key}"
                    ));
                };
                let value = if schema.ty == Some(SchemaType::Boolean) {
                    parse_boolean(v).map_or_else(|| v.to_string(), |b| u8::from(b).to_string())
                } else {
                    v.to_string()
                };
                out.insert(key, value);
            }
            None => {
                let Some(default_key) = default_key_of(format) else {
                    return Err(
                        "value without key, but schema does not define a default key".into(),
                    );
                };
                if default_key_used || out.contains_key(default_key) {
                    return Err(format!(
                        "duplicate key in comma-separated list property: {default_key}"
                    ));
                }
                default_key_used = true;
                out.insert(default_key.to_string(), part.to_string());
            }
            Some(_) => return Err("missing key in comma-separated list property".into()),
        }
    }
    Ok(out)
}

/// The key that may be written without `key=`.
pub fn default_key_of(format: &PropertyFormat) -> Option<&str> {
    format
        .iter()
        .find(|(_, s)| s.default_key)
        .map(|(k, _)| k.as_str())
}

/// PVE's boolean words: `1|on|yes|true` and `0|off|no|false`, any case.
pub fn parse_boolean(v: &str) -> Option<bool> {
    const TRUE: [&str; 4] = ["1", "on", "yes", "true"];
    const FALSE: [&str; 4] = ["0", "off", "no", "false"];
    if TRUE.iter().any(|t| t.eq_ignore_ascii_case(v)) {
        Some(true)
    } else if FALSE.iter().any(|f| f.eq_ignore_ascii_case(v)) {
        Some(false)
    } else {
        None
    }
}

/// Renders a map back into a property string: a `keyAlias` pair first as `alias=value`
/// (`virtio=BC:24:...`), else the default key bare, then the other keys sorted.
pub fn render_property_string(
    format: &PropertyFormat,
    values: &BTreeMap<String, String>,
) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(values.len());
    let mut skip: Vec<&str> = Vec::new();
    // keyAlias: e.g. model=virtio + macaddr=X renders as virtio=X.
    for (alias_key, schema) in format {
        let (Some(target), Some(key_alias)) =
            (schema.alias.as_deref(), schema.key_alias.as_deref())
        else {
            continue;
        };
        if values.get(key_alias).map(String::as_str) == Some(alias_key.as_str()) {
            if let Some(v) = values.get(target) {
                parts.push(format!("{alias_key}={v}"));
                skip.extend([key_alias, target]);
                break;
            }
        }
    }
    if parts.is_empty() {
        if let Some(dk) = default_key_of(format) {
            if let Some(v) = values.get(dk) {
                parts.push(v.clone());
                skip.push(dk);
            }
        }
    }
    for (k, v) in values {
        if !skip.contains(&k.as_str()) {
            parts.push(format!("{k}={v}"));
        }
    }
    parts.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net_format() -> PropertyFormat {
        serde_json::from_value(serde_json::json!({
            "model": {"type": "string", "default_key": 1, "enum": ["virtio", "e1000"]},
            "macaddr": {"type": "string", "format": "mac-addr", "optional": 1},
            "virtio": {"alias": "macaddr", "keyAlias": "model"},
            "e1000": {"alias": "macaddr", "keyAlias": "model"},
            "bridge": {"type": "string", "optional": 1},
            "firewall": {"type": "boolean", "optional": 1},
        }))
        .unwrap()
    }

    #[test]
    fn parses_key_alias_and_booleans() {
        let f = net_format();
        let m = parse_property_string(&f, "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=yes")
            .unwrap();
        assert_eq!(m["model"], "virtio");
        assert_eq!(m["macaddr"], "BC:24:11:00:00:01");
        assert_eq!(m["firewall"], "1");
        assert_eq!(
            render_property_string(&f, &m),
            "virtio=BC:24:11:00:00:01,bridge=vmbr0,firewall=1"
        );
    }

    #[test]
    fn default_key_and_errors() {
        let f = net_format();
        let m = parse_property_string(&f, "e1000,bridge=vmbr1").unwrap();
        assert_eq!(m["model"], "e1000");
        assert_eq!(render_property_string(&f, &m), "e1000,bridge=vmbr1");
        assert_eq!(
            parse_property_string(&f, "virtio,e1000"),
            Err("duplicate key in comma-separated list property: model".into())
        );
        assert_eq!(
            parse_property_string(&f, "foo=1"),
            Err("invalid key in comma-separated list property: foo".into())
        );
        assert_eq!(
            parse_property_string(&f, "bridge=a,bridge=b"),
            Err("duplicate key in comma-separated list property: bridge".into())
        );
        assert_eq!(
            parse_property_string(&f, "=x"),
            Err("missing key in comma-separated list property".into())
        );
    }
}
