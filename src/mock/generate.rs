//! Deterministic, realistic values generated from a `returns` schema: a member named like
//! a path parameter equals it, enums and defaults are honoured, formats and property strings
//! are well formed, numbers stay in range. The same schema and context always give the
//! same value, and the value validates against the schema.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::schema::model::{AdditionalProperties, Format, Schema, SchemaType};
use crate::schema::propstring::{default_key_of, render_property_string};

/// What a generated value may draw on: the request's path parameters.
#[derive(Debug, Default, Clone)]
pub struct GenContext<'a> {
    /// (name, value) of the path parameters.
    pub path_params: &'a [(&'a str, String)],
}

impl GenContext<'_> {
    fn param(&self, name: &str) -> Option<&str> {
        self.path_params
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Generates a value for `schema`; `name` is the member name it will be stored under.
pub fn generate(schema: &Schema, name: &str, ctx: &GenContext<'_>) -> Value {
    let ty = schema.schema_type();
    match ty {
        SchemaType::Null => Value::Null,
        SchemaType::Object => generate_object(schema, ctx, true),
        SchemaType::Array => match &schema.items {
            // One representative element; directory indexes are filled by the caller.
            Some(items) if schema.child_link_key().is_none() => {
                Value::Array(vec![generate(items, name, ctx)])
            }
            _ => Value::Array(Vec::new()),
        },
        SchemaType::Any => match &schema.properties {
            Some(_) => generate_object(schema, ctx, true),
            None if schema.enumeration.is_some()
                || schema.format.is_some()
                || schema.pattern.is_some() =>
            {
                scalar(schema, SchemaType::String, name, ctx)
            }
            None => schema.default.clone().unwrap_or(Value::Null),
        },
        SchemaType::Boolean | SchemaType::Integer | SchemaType::Number | SchemaType::String => {
            scalar(schema, ty, name, ctx)
        }
    }
}

/// An object with its required members, and the optional ones when `optional` is set
/// (property-string keys and nested objects always take only what they need).
pub fn generate_object(schema: &Schema, ctx: &GenContext<'_>, optional: bool) -> Value {
    let mut out = Map::new();
    if let Some(props) = &schema.properties {
        for (k, s) in props {
            if k.ends_with("[n]") || s.alias.is_some() {
                continue;
            }
            let wanted = !s.optional
                || (optional && is_scalar(s) && meaningful(s, k, ctx))
                || ctx.param(k).is_some();
            if wanted {
                out.insert(k.clone(), generate(s, k, ctx));
            }
        }
    }
    if let Some(AdditionalProperties::Schema(_)) = &schema.additional_properties {
        // Free-form maps stay empty: any key would be invented.
    }
    Value::Object(out)
}

/// Whether an optional member can get a value that means something: a number, a flag,
/// an enum, a default, a known format or a known name. Free text would be invented
/// (`"lock": "lock"` would claim the guest is locked), so it is left out.
fn meaningful(s: &Schema, name: &str, ctx: &GenContext<'_>) -> bool {
    if s.schema_type() != SchemaType::String {
        return true;
    }
    s.enumeration.is_some()
        || s.default.is_some()
        || matches!(&s.format, Some(Format::Named(f)) if sample_for_format(f, name, ctx).is_some())
        || name_sample(name, ctx).is_some()
}

fn is_scalar(s: &Schema) -> bool {
    matches!(
        s.schema_type(),
        SchemaType::Boolean | SchemaType::Integer | SchemaType::Number | SchemaType::String
    )
}

fn typed(ty: SchemaType, text: &str) -> Option<Value> {
    match ty {
        SchemaType::Integer => text.parse::<i64>().ok().map(Value::from),
        SchemaType::Number => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        SchemaType::Boolean => match text {
            "1" | "true" => Some(Value::from(1)),
            "0" | "false" => Some(Value::from(0)),
            _ => None,
        },
        _ => Some(Value::from(text)),
    }
}

fn scalar(schema: &Schema, ty: SchemaType, name: &str, ctx: &GenContext<'_>) -> Value {
    // A member named like a path parameter equals it.
    if let Some(v) = ctx.param(name).and_then(|v| typed(ty, v)) {
        if fits(schema, ty, &v) {
            return v;
        }
    }
    if let Some(values) = &schema.enumeration {
        let pick = schema
            .default
            .as_ref()
            .and_then(|d| {
                d.as_str()
                    .map(str::to_string)
                    .or_else(|| Some(d.to_string()))
            })
            .filter(|d| values.contains(d))
            .or_else(|| values.first().cloned())
            .unwrap_or_default();
        return typed(ty, &pick).unwrap_or(Value::from(pick));
    }
    if let Some(d) = &schema.default {
        let text = d.as_str().map_or_else(|| d.to_string(), str::to_string);
        if let Some(v) = typed(ty, &text) {
            if fits(schema, ty, &v) {
                return v;
            }
        }
    }
    match ty {
        SchemaType::Boolean => Value::from(boolean_for(name)),
        SchemaType::Integer => Value::from(integer_for(schema, name)),
        SchemaType::Number => {
            let n = clamp(schema, number_for(name));
            serde_json::Number::from_f64(n).map_or(Value::from(0), Value::Number)
        }
        _ => Value::from(string_for(schema, name, ctx)),
    }
}

fn fits(schema: &Schema, ty: SchemaType, v: &Value) -> bool {
    if let Some(n) = v.as_f64() {
        if schema.minimum.is_some_and(|m| n < m) || schema.maximum.is_some_and(|m| n > m) {
            return false;
        }
    }
    if ty == SchemaType::String {
        if let (Some(re), Some(s)) = (schema.pattern_regex(), v.as_str()) {
            return re.is_match(s).unwrap_or(false);
        }
    }
    true
}

fn boolean_for(name: &str) -> i64 {
    i64::from(matches!(
        name,
        "enable" | "enabled" | "active" | "online" | "quorate" | "running"
    ))
}

fn clamp(schema: &Schema, n: f64) -> f64 {
    let n = schema.minimum.map_or(n, |m| n.max(m));
    schema.maximum.map_or(n, |m| n.min(m))
}

/// Plausible magnitudes for PVE's usual counters.
fn integer_for(schema: &Schema, name: &str) -> i64 {
    let guess: i64 = match name {
        "maxmem" | "memory" | "total" => 8 * 1024 * 1024 * 1024,
        "mem" | "used" => 2 * 1024 * 1024 * 1024,
        "maxdisk" => 32 * 1024 * 1024 * 1024,
        "disk" | "size" => 4 * 1024 * 1024 * 1024,
        "avail" | "free" => 6 * 1024 * 1024 * 1024,
        "maxswap" | "swap" => 0,
        "maxcpu" | "cpus" | "cores" | "sockets" => 4,
        "uptime" => 3600,
        "pid" => 4242,
        "vmid" => 100,
        "starttime" | "ctime" | "time" | "expire" | "endtime" => 1_764_201_600,
        "netin" | "netout" | "diskread" | "diskwrite" => 1024 * 1024,
        "port" => 8006,
        "version" => 1,
        _ => 0,
    };
    let min = schema.minimum.map(|m| m.ceil() as i64);
    let max = schema.maximum.map(|m| m.floor() as i64);
    let mut n = guess;
    if let Some(min) = min {
        n = n.max(min);
    }
    if let Some(max) = max {
        n = n.min(max);
    }
    n
}

fn number_for(name: &str) -> f64 {
    match name {
        "cpu" => 0.02,
        "maxcpu" | "cpus" => 4.0,
        "wait" | "iowait" => 0.001,
        _ => 0.0,
    }
}

fn sample_for_format(format: &str, name: &str, ctx: &GenContext<'_>) -> Option<String> {
    let base = format
        .strip_suffix("-list")
        .or_else(|| format.strip_suffix("-opt"))
        .unwrap_or(format);
    Some(
        match base {
            "pve-node" => ctx.param("node").unwrap_or("pve1"),
            "pve-vmid" => ctx.param("vmid").unwrap_or("100"),
            "pve-storage-id" => ctx.param("storage").unwrap_or("local"),
            "pve-bridge-id" => "vmbr0",
            "pve-configid" => "net0",
            "pve-iface" => "eth0",
            "mac-addr" => "BC:24:11:00:00:01",
            "ipv4" | "ip" | "address" | "IPorCIDR" | "IPorCIDRorAlias" => "192.0.2.10",
            "ipv6" => "2001:db8::10",
            "CIDR" | "CIDRv4" | "pve-ipv4-config" => "192.0.2.0/24",
            "CIDRv6" | "pve-ipv6-config" => "2001:db8::/64",
            "ipv4mask" => "255.255.255.0",
            "dns-name" => "pve1.example.com",
            "email" | "email-opt" | "email-or-username" => "admin@example.com",
            "pve-userid" => ctx.param("userid").unwrap_or("root@pam"),
            "pve-tokenid" => "root@pam!automation",
            "pve-realm" => ctx.param("realm").unwrap_or("pam"),
            "pve-groupid" => ctx.param("groupid").unwrap_or("admins"),
            "pve-roleid" => ctx.param("roleid").unwrap_or("Administrator"),
            "pve-poolid" => ctx.param("poolid").unwrap_or("production"),
            "pve-volume-id" | "pve-volume-id-or-qm-path" | "pve-volume-id-or-absolute-path" => {
                "local:iso/debian-13.iso"
            }
            "pve-storage-content" => "images",
            "pve-tag" => "production",
            "pve-vlan-id-or-range" => "10",
            "pve-startup-order" => "order=1",
            "pve-day-of-week" => "mon",
            "pve-task-status-type" => "ok",
            "pve-calendar-event" => "daily",
            "disk-size" => "32G",
            "urlencoded" => "example",
            "pve-fw-protocol-spec" => "tcp",
            "pve-fw-dport-spec" | "pve-fw-sport-spec" => "22",
            "pve-fw-addr-spec" => "192.0.2.0/24",
            "pve-upid" => return Some(sample_upid(ctx)),
            _ if name == "upid" => return Some(sample_upid(ctx)),
            _ => return None,
        }
        .to_string(),
    )
}

/// A well-formed UPID for the request's node.
pub fn sample_upid(ctx: &GenContext<'_>) -> String {
    let node = ctx.param("node").unwrap_or("pve1");
    format!(
        "UPID:{node}:000003E8:00001B58:69279F80:mock:{}:root@pam:",
        ctx.param("vmid").unwrap_or("")
    )
}

fn string_for(schema: &Schema, name: &str, ctx: &GenContext<'_>) -> String {
    let candidate = match &schema.format {
        Some(Format::PropertyString(dict)) => Some(property_string(dict, ctx)),
        Some(Format::Named(f)) => sample_for_format(f, name, ctx),
        Some(Format::List(item)) => Some(string_for(item, name, ctx)),
        None => None,
    }
    .or_else(|| name_sample(name, ctx));
    let pattern = schema.pattern_regex();
    let matches = |s: &str| pattern.is_none_or(|re| re.is_match(s).unwrap_or(false));
    let mut pool: Vec<String> = candidate.into_iter().collect();
    pool.extend(
        [
            name,
            "example",
            "1",
            "a",
            "100",
            "pve1",
            "local:100",
            "1.0",
            "abcd1234",
        ]
        .iter()
        .map(std::string::ToString::to_string),
    );
    let min = schema.min_length.unwrap_or(0.0) as usize;
    let max = schema.max_length.map_or(usize::MAX, |m| m as usize);
    for s in pool {
        let len = s.chars().count();
        if len >= min && len <= max && matches(&s) && !s.is_empty() {
            return s;
        }
        if len < min && pattern.is_none() {
            return format!("{s}{}", "x".repeat(min - len));
        }
    }
    if let (Some(re), Some(raw)) = (pattern, schema.pattern.as_deref()) {
        // rand_regex refuses anchors; PVE anchors every pattern anyway.
        let translated = crate::schema::formats::translate_perl_regex(raw);
        let bare = translated.trim_start_matches('^').trim_end_matches('$');
        if let Some(s) = rand_regex_sample(bare, re) {
            return s;
        }
    }
    "x".repeat(min.max(1).min(max))
}

/// A deterministic ASCII string matching `pattern` (with its anchors removed), tried from a
/// fixed seed; `None` when the pattern uses syntax the generator does not know.
fn rand_regex_sample(pattern: &str, check: &fancy_regex::Regex) -> Option<String> {
    use rand::distr::Distribution;
    use rand::SeedableRng;
    let hir = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(pattern)
        .ok()?;
    let gen = rand_regex::Regex::with_hir(hir, 8).ok()?;
    let mut rng = rand::rngs::StdRng::seed_from_u64(0x5eed);
    for _ in 0..64 {
        let sample: Result<String, _> = gen.sample(&mut rng);
        if let Ok(s) = sample {
            if s.is_ascii()
                && !s.chars().any(char::is_control)
                && check.is_match(&s).unwrap_or(false)
            {
                return Some(s);
            }
        }
    }
    None
}

fn name_sample(name: &str, ctx: &GenContext<'_>) -> Option<String> {
    if let Some(v) = ctx.param(name) {
        return Some(v.to_string());
    }
    Some(
        match name {
            "node" => ctx.param("node").unwrap_or("pve1"),
            "name" => "example",
            "status" => "ok",
            "type" => "qemu",
            "id" => "example",
            "digest" => "0123456789abcdef0123456789abcdef01234567",
            "version" => "9.2.0",
            "release" => "9.2",
            "repoid" => "0123abcd",
            "comment" | "description" => "managed by proxmox-sdk mock",
            "content" => "images,rootdir",
            "path" => "/var/lib/vz",
            "ip" => "192.0.2.10",
            _ => return None,
        }
        .to_string(),
    )
}

/// A property string with the dictionary's required keys filled in.
fn property_string(dict: &BTreeMap<String, Schema>, ctx: &GenContext<'_>) -> String {
    let mut values = BTreeMap::new();
    let default_key = default_key_of(dict);
    for (k, s) in dict {
        if s.alias.is_some() || (s.optional && Some(k.as_str()) != default_key) {
            continue;
        }
        let v = match scalar(s, s.schema_type(), k, ctx) {
            Value::String(s) => s,
            other => other.to_string(),
        };
        values.insert(k.clone(), v);
    }
    render_property_string(dict, &values)
}
