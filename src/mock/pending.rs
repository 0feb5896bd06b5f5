//! Pending configuration changes of a running VM, as PVE keeps them: options it cannot
//! change live wait in the `[PENDING]` section until the next start; `GET .../config`
//! shows them applied (unless `current=1`) and `GET .../pending` lists every option with
//! its current and pending value.

use serde_json::{json, Map, Value};

use super::store::Record;

/// Options PVE changes on a running VM at once (`$fast_plug_option` of qemu-server), and
/// what the default `hotplug` (network, disk, usb) covers.
pub fn applies_live(key: &str) -> bool {
    const FAST: &[&str] = &[
        "lock",
        "name",
        "onboot",
        "shares",
        "startup",
        "description",
        "protection",
        "vmstatestorage",
        "hookscript",
        "tags",
        "digest",
    ];
    if FAST.contains(&key) {
        return true;
    }
    let numbered = |prefix: &str| {
        key.strip_prefix(prefix)
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
    };
    ["net", "usb", "scsi", "virtio", "sata"]
        .iter()
        .any(|p| numbered(p))
}

fn pending_map(rec: &mut Record) -> &mut Map<String, Value> {
    let slot = rec
        .meta
        .entry("pending")
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    slot.as_object_mut().expect("made an object above")
}

/// Records a change of a running VM: live options now, the rest pending.
pub fn set(rec: &mut Record, key: &str, value: Value) {
    if applies_live(key) {
        rec.config.insert(key.to_string(), value);
    } else {
        pending_map(rec).insert(key.to_string(), value);
    }
}

/// Records a `delete=` of a running VM: live options now, the rest pending (`delete: 1`).
pub fn delete(rec: &mut Record, key: &str) {
    if applies_live(key) {
        rec.config.remove(key);
        pending_map(rec).remove(key);
    } else if rec.config.contains_key(key) {
        pending_map(rec).insert(key.to_string(), json!({"__delete": 1}));
    } else {
        pending_map(rec).remove(key);
    }
}

/// The config with pending changes applied.
pub fn applied(rec: &Record) -> Map<String, Value> {
    let mut config = rec.config.clone();
    if let Some(Value::Object(p)) = rec.meta.get("pending") {
        for (k, v) in p {
            if v.get("__delete").is_some() {
                config.remove(k);
            } else {
                config.insert(k.clone(), v.clone());
            }
        }
    }
    config
}

/// Applies the pending changes (what a start does).
pub fn apply(rec: &mut Record) {
    if rec.meta.contains_key("pending") {
        rec.config = applied(rec);
        rec.meta.remove("pending");
    }
}

/// A config value as the pending list carries it (PVE's schema types both as strings).
fn as_text(v: &Value) -> Value {
    match v {
        Value::String(_) => v.clone(),
        Value::Bool(b) => json!(u8::from(*b).to_string()),
        other => json!(other.to_string()),
    }
}

/// `GET .../pending`: every option with `value`, and `pending` / `delete` where changed.
pub fn list(rec: &Record) -> Value {
    let pending = match rec.meta.get("pending") {
        Some(Value::Object(p)) => p.clone(),
        _ => Map::new(),
    };
    let mut keys: Vec<&String> = rec.config.keys().chain(pending.keys()).collect();
    keys.sort();
    keys.dedup();
    Value::Array(
        keys.into_iter()
            .filter(|k| k.as_str() != "digest")
            .map(|k| {
                let mut m = Map::new();
                m.insert("key".into(), json!(k));
                if let Some(v) = rec.config.get(k) {
                    m.insert("value".into(), as_text(v));
                }
                match pending.get(k) {
                    Some(v) if v.get("__delete").is_some() => {
                        m.insert("delete".into(), json!(1));
                    }
                    Some(v) => {
                        m.insert("pending".into(), as_text(v));
                    }
                    None => {}
                }
                Value::Object(m)
            })
            .collect(),
    )
}
