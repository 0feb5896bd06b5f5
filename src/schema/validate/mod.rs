//! Coercion and validation of request parameters the way PVE's `PVE::JSONSchema` does it:
//! values arrive as strings (query, form, pvesh argv) or JSON values, every failure is
//! collected as (parameter, message) in PVE's wording, and the result holds typed values.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Number, Value};

use super::formats::check_named_format;
use super::model::{AdditionalProperties, Format, Schema, SchemaType};
use super::propstring::{parse_boolean, parse_property_string};

/// Per-parameter error messages, keyed like PVE keys them (`vmid`, `net0.model`, `ids[1]`).
pub type ErrorMap = BTreeMap<String, String>;

/// A failed parameter verification: PVE answers `400 Parameter verification failed.`
/// with these messages in `errors`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct ParamErrors {
    /// Parameter -> message.
    pub errors: ErrorMap,
}

impl fmt::Display for ParamErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Parameter verification failed.")?;
        for (k, v) in &self.errors {
            write!(f, "\n{k}: {}", v.trim_end_matches('\n'))?;
        }
        Ok(())
    }
}

/// An indexed parameter family such as `net[n]` (`net0`, `net1`, ...).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexedFamily {
    /// The name before `[n]`, for example `net`.
    pub prefix: String,
    /// The largest index, when the description states it (`n is 0 to 30`).
    pub max: Option<u32>,
    /// The schema key (`net[n]`).
    pub key: String,
}

impl IndexedFamily {
    /// Finds the families among an object's properties.
    pub fn collect(properties: Option<&BTreeMap<String, Schema>>) -> Vec<IndexedFamily> {
        let Some(props) = properties else {
            return Vec::new();
        };
        props
            .iter()
            .filter_map(|(key, schema)| {
                let prefix = key.strip_suffix("[n]")?;
                Some(IndexedFamily {
                    prefix: prefix.to_string(),
                    max: schema
                        .description
                        .as_deref()
                        .and_then(stated_max_index)
                        .or_else(|| known_max_index(prefix)),
                    key: key.clone(),
                })
            })
            .collect()
    }

    /// Whether `name` (like `net3`) belongs to this family.
    pub fn matches(&self, name: &str) -> bool {
        let Some(rest) = name.strip_prefix(self.prefix.as_str()) else {
            return false;
        };
        let Ok(index) = rest.parse::<u32>() else {
            return false;
        };
        // Only canonical spellings: `net01` is not `net1`.
        index.to_string() == rest && self.max.is_none_or(|max| index <= max)
    }
}

/// The largest index of the families whose description does not state it, as the
/// products' code has it: qemu-server's `MAX_NETS` (32, also `ipconfig`),
/// `MAX_HOSTPCI_DEVICES` (16), `MAX_NUMA` (8), `MAX_UNUSED_DISKS` (256), virtiofs (10);
/// pve-container's `MAX_LXC_NETWORKS` (32), `MAX_MOUNT_POINTS` (256), device passthrough
/// (256); corosync's links (8) and ACME's domains (`MAXDOMAINS`, 5). PVE's own schema
/// has exactly these members (`net0` to `net31`), so `net32` is not one of them.
fn known_max_index(prefix: &str) -> Option<u32> {
    Some(match prefix {
        "net" | "ipconfig" => 31,
        "hostpci" => 15,
        "numa" => 7,
        "unused" | "mp" | "dev" => 255,
        "virtiofs" => 9,
        "link" => 7,
        "acmedomain" => 4,
        _ => return None,
    })
}

/// Reads `(n is 0 to 30)` from a family's description.
fn stated_max_index(description: &str) -> Option<u32> {
    let at = description.find("n is 0 to ")?;
    let digits: String = description[at + 10..]
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// Finds the schema of a parameter, looking through indexed families.
pub fn param_schema<'s>(
    params: &'s Schema,
    families: &[IndexedFamily],
    name: &str,
) -> Option<&'s Schema> {
    let props = params.properties.as_ref()?;
    if let Some(s) = props.get(name) {
        if !name.ends_with("[n]") {
            return Some(s);
        }
    }
    families
        .iter()
        .find(|f| f.matches(name))
        .and_then(|f| props.get(&f.key))
}

/// Whether a property must be given: not optional, not an alias, and for a `oneOf` by
/// `type-property` (SDN fabrics' `redistribute`, say), not optional in every variant (PVE's
/// JSONSchema takes the optional flag of the variant the type selects).
fn must_be_present(s: &Schema) -> bool {
    let variants_optional = s
        .one_of
        .as_ref()
        .is_some_and(|v| !v.is_empty() && v.iter().all(|x| x.optional));
    !s.optional && !variants_optional && s.alias.is_none() && s.ty != Some(SchemaType::Null)
}

/// What checking an operation's parameters needs beyond the schema, computed once per
/// operation so a request costs what it carries, not what the schema could carry.
#[derive(Debug, Clone, Default)]
pub struct ParamRules {
    /// Indexed families (`net[n]`, ...).
    pub families: Vec<IndexedFamily>,
    /// Parameters that must be present.
    required: Vec<String>,
    /// (parameter, parameter it requires).
    requires: Vec<(String, String)>,
}

impl ParamRules {
    /// Derives the rules from a method's parameter schema.
    pub fn of(params: &Schema) -> ParamRules {
        let props = params.properties.as_ref();
        let mut rules = ParamRules {
            families: IndexedFamily::collect(props),
            ..ParamRules::default()
        };
        for (k, s) in props.into_iter().flatten() {
            if k.ends_with("[n]") {
                continue;
            }
            if must_be_present(s) {
                rules.required.push(k.clone());
            }
            if let Some(Value::String(req)) = &s.requires {
                rules.requires.push((k.clone(), req.clone()));
            }
        }
        rules
    }
}

/// Validates and coerces `input` plus the path parameters (which win over a same-named
/// input) against a method's parameter schema.
pub fn check_params(
    params: &Schema,
    rules: &ParamRules,
    input: &Map<String, Value>,
    path_params: &[(&str, String)],
) -> Result<Map<String, Value>, ParamErrors> {
    let mut errors = ErrorMap::new();
    let mut out = Map::new();
    let forbid_extra = params.forbids_additional_properties();
    let from_path: Vec<(&str, Value)> = path_params
        .iter()
        .map(|(k, v)| (*k, Value::String(v.clone())))
        .collect();
    let entries = from_path.iter().map(|(k, v)| (*k, v)).chain(
        input
            .iter()
            .filter(|(k, _)| !path_params.iter().any(|(p, _)| p == k))
            .map(|(k, v)| (k.as_str(), v)),
    );
    for (name, value) in entries {
        if value.is_null() {
            continue;
        }
        match param_schema(params, &rules.families, name) {
            Some(schema) => {
                if let Some(v) = check_prop(name, schema, value, &mut errors) {
                    out.insert(name.to_string(), v);
                }
            }
            None => match &params.additional_properties {
                Some(AdditionalProperties::Schema(extra)) => {
                    if let Some(v) = check_prop(name, extra, value, &mut errors) {
                        out.insert(name.to_string(), v);
                    }
                }
                _ if forbid_extra => add_error(
                    &mut errors,
                    name,
                    "property is not defined in schema and the schema does not allow additional properties",
                ),
                _ => {
                    out.insert(name.to_string(), value.clone());
                }
            },
        }
    }
    let present = |k: &str| {
        path_params.iter().any(|(p, _)| *p == k) || input.get(k).is_some_and(|v| !v.is_null())
    };
    for k in &rules.required {
        if !present(k) {
            add_error(&mut errors, k, "property is missing and it is not optional");
        }
    }
    for (k, req) in &rules.requires {
        if present(k) && !present(req) {
            add_error(
                &mut errors,
                req,
                &format!("missing property - '{k}' requires this property"),
            );
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(ParamErrors { errors })
    }
}

/// The `property is missing` and `requires` checks of `check_object`.
fn check_missing_and_requires(
    path: &str,
    props: &BTreeMap<String, Schema>,
    present: impl Fn(&str) -> bool,
    errors: &mut ErrorMap,
) {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    for (k, s) in props {
        if k.ends_with("[n]") {
            continue;
        }
        if !present(k) {
            if must_be_present(s) {
                add_error(
                    errors,
                    &join(k),
                    "property is missing and it is not optional",
                );
            }
            continue;
        }
        if let Some(Value::String(req)) = &s.requires {
            if !present(req) {
                add_error(
                    errors,
                    &join(req),
                    &format!("missing property - '{}' requires this property", join(k)),
                );
            }
        }
    }
}

fn add_error(errors: &mut ErrorMap, path: &str, msg: &str) {
    let path = if path.is_empty() { "_root" } else { path };
    errors
        .entry(path.to_string())
        .and_modify(|e| {
            e.push('\n');
            e.push_str(msg);
        })
        .or_insert_with(|| msg.to_string());
}

/// The text PVE sees for a scalar value; `Err` names the Perl reference type PVE reports.
fn scalar_text(value: &Value) -> Result<Cow<'_, str>, &'static str> {
    match value {
        Value::String(s) => Ok(Cow::Borrowed(s)),
        Value::Number(n) => Ok(Cow::Owned(n.to_string())),
        Value::Bool(_) => Err("JSON::PP::Boolean"),
        Value::Array(_) => Err("ARRAY"),
        Value::Object(_) => Err("HASH"),
        Value::Null => Ok(Cow::Borrowed("")),
    }
}

fn is_integer(s: &str) -> bool {
    let digits = s.strip_prefix(['+', '-']).unwrap_or(s);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// Perl's `is_number` from PVE::JSONSchema.
fn is_number(s: &str) -> bool {
    let s = s.strip_prefix(['+', '-']).unwrap_or(s);
    let (mantissa, exp) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let mantissa_ok = match mantissa.split_once('.') {
        Some((a, b)) => {
            (!a.is_empty() || !b.is_empty())
                && a.bytes().all(|c| c.is_ascii_digit())
                && b.bytes().all(|c| c.is_ascii_digit())
        }
        None => !mantissa.is_empty() && mantissa.bytes().all(|c| c.is_ascii_digit()),
    };
    let exp_ok = exp.is_none_or(is_integer);
    mantissa_ok && exp_ok
}

/// Formats a limit the way Perl prints numbers (`100`, `0.5`).
pub fn perl_number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn number_value(text: &str) -> Option<Value> {
    let t = text.strip_prefix('+').unwrap_or(text);
    if let Ok(i) = t.parse::<i64>() {
        return Some(Value::Number(i.into()));
    }
    t.parse::<f64>()
        .ok()
        .and_then(Number::from_f64)
        .map(Value::Number)
}

/// Checks one value against its schema; returns the coerced value, or `None` after
/// recording the error under `path`.
pub fn check_prop(
    path: &str,
    schema: &Schema,
    value: &Value,
    errors: &mut ErrorMap,
) -> Option<Value> {
    let ty = schema.schema_type();
    let type_error = |errors: &mut ErrorMap, got: &str| {
        add_error(
            errors,
            path,
            &format!("type check ('{ty}') failed - got {got}"),
        );
    };
    match ty {
        SchemaType::Any => return Some(value.clone()),
        SchemaType::Null => {
            if value.is_null() {
                return Some(Value::Null);
            }
            add_error(
                errors,
                path,
                "type check ('null') failed - value is not null",
            );
            return None;
        }
        SchemaType::Array => {
            let items: Vec<&Value> = match value {
                Value::Array(items) => items.iter().collect(),
                Value::Object(_) => {
                    add_error(errors, path, "type check ('array') failed");
                    return None;
                }
                // One value of a repeated query key.
                other => vec![other],
            };
            let mut out = Vec::with_capacity(items.len());
            let mut ok = true;
            for (i, item) in items.into_iter().enumerate() {
                let item_path = format!("{path}[{i}]");
                match &schema.items {
                    Some(item_schema) => match check_prop(&item_path, item_schema, item, errors) {
                        Some(v) => out.push(v),
                        None => ok = false,
                    },
                    None => out.push(item.clone()),
                }
            }
            return ok.then_some(Value::Array(out));
        }
        SchemaType::Object => {
            let Value::Object(map) = value else {
                add_error(errors, path, "type check ('object') failed");
                return None;
            };
            let Some(props) = &schema.properties else {
                return Some(value.clone());
            };
            let before = errors.len();
            let mut out = Map::new();
            for (k, v) in map {
                let sub = format!("{path}.{k}");
                match props.get(k) {
                    Some(s) => {
                        if let Some(v) = check_prop(&sub, s, v, errors) {
                            out.insert(k.clone(), v);
                        }
                    }
                    None if schema.forbids_additional_properties() => add_error(
                        errors,
                        &sub,
                        "property is not defined in schema and the schema does not allow additional properties",
                    ),
                    None => {
                        out.insert(k.clone(), v.clone());
                    }
                }
            }
            check_missing_and_requires(path, props, |k| map.contains_key(k), errors);
            return (errors.len() == before).then_some(Value::Object(out));
        }
        _ => {}
    }

    let text = match (ty, value) {
        (SchemaType::Boolean, Value::Bool(b)) => Cow::Owned(u8::from(*b).to_string()),
        _ => match scalar_text(value) {
            Ok(t) => t,
            Err(got) => {
                type_error(errors, got);
                return None;
            }
        },
    };
    let coerced = match ty {
        SchemaType::Boolean => {
            if let Some(b) = parse_boolean(&text) {
                Value::Number(u8::from(b).into())
            } else {
                type_error(errors, &format!("'{text}'"));
                return None;
            }
        }
        SchemaType::Integer => {
            if let Some(v) = is_integer(&text).then(|| number_value(&text)).flatten() {
                v
            } else {
                type_error(errors, &format!("'{text}'"));
                return None;
            }
        }
        SchemaType::Number => {
            if let Some(v) = is_number(&text).then(|| number_value(&text)).flatten() {
                v
            } else {
                type_error(errors, &format!("'{text}'"));
                return None;
            }
        }
        _ => Value::String(text.clone().into_owned()),
    };

    if let Some(format) = &schema.format {
        let result = match format {
            Format::Named(name) => check_named_format(name, &text).map_err(|e| format!("{e}\n")),
            Format::PropertyString(dict) => check_property_string(path, dict, &text),
            Format::List(item) => check_list(path, item, &text),
        };
        if let Err(e) = result {
            add_error(errors, path, &format!("invalid format - {e}"));
            return None;
        }
    }
    if schema.pattern.is_some() {
        if let Some(re) = schema.pattern_regex() {
            if !re.is_match(text.as_ref()).unwrap_or(true) {
                add_error(errors, path, "value does not match the regex pattern");
                return None;
            }
        }
    }
    let len = text.chars().count() as f64;
    if let Some(max) = schema.max_length {
        if len > max {
            add_error(
                errors,
                path,
                &format!("value may only be {} characters long", perl_number(max)),
            );
            return None;
        }
    }
    if let Some(min) = schema.min_length {
        if len < min {
            add_error(
                errors,
                path,
                &format!(
                    "value must be at least {} characters long",
                    perl_number(min)
                ),
            );
            return None;
        }
    }
    if is_number(&text) {
        if let Ok(n) = text.parse::<f64>() {
            if let Some(max) = schema.maximum {
                if n > max {
                    add_error(
                        errors,
                        path,
                        &format!("value must have a maximum value of {}", perl_number(max)),
                    );
                    return None;
                }
            }
            if let Some(min) = schema.minimum {
                if n < min {
                    add_error(
                        errors,
                        path,
                        &format!("value must have a minimum value of {}", perl_number(min)),
                    );
                    return None;
                }
            }
        }
    }
    if let Some(allowed) = &schema.enumeration {
        if !allowed.iter().any(|a| a == text.as_ref()) {
            add_error(
                errors,
                path,
                &format!(
                    "value '{text}' does not have a value in the enumeration '{}'",
                    allowed.join(", ")
                ),
            );
            return None;
        }
    }
    Some(coerced)
}

/// Validates a property string; the error is PVE's exception text (`format error` followed
/// by one `key.sub: message` line per failing sub-key).
fn check_property_string(
    path: &str,
    dict: &BTreeMap<String, Schema>,
    text: &str,
) -> Result<(), String> {
    let parsed = parse_property_string(dict, text).map_err(|e| format!("{e}\n"))?;
    let mut sub_errors = ErrorMap::new();
    for (k, v) in &parsed {
        if let Some(s) = dict.get(k) {
            let sub = if path.is_empty() {
                k.clone()
            } else {
                format!("{path}.{k}")
            };
            check_prop(&sub, s, &Value::String(v.clone()), &mut sub_errors);
        }
    }
    check_missing_and_requires(path, dict, |k| parsed.contains_key(k), &mut sub_errors);
    if sub_errors.is_empty() {
        return Ok(());
    }
    let mut msg = String::from("format error\n");
    for (k, v) in sub_errors {
        msg.push_str(&k);
        msg.push_str(": ");
        // PVE::Exception appends "$key: $msg\n" even when $msg ends in a newline already.
        msg.push_str(&v);
        msg.push('\n');
    }
    Err(msg)
}

/// Validates a list in one string (the Rust products' array formats): every item, split at
/// commas, semicolons and white space, against `item`.
fn check_list(path: &str, item: &Schema, text: &str) -> Result<(), String> {
    let mut sub_errors = ErrorMap::new();
    for (i, part) in text
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|p| !p.is_empty())
        .enumerate()
    {
        check_prop(
            &format!("{path}[{i}]"),
            item,
            &Value::String(part.to_string()),
            &mut sub_errors,
        );
    }
    match sub_errors.into_iter().next() {
        None => Ok(()),
        Some((k, v)) => Err(format!("{k}: {v}")),
    }
}

#[cfg(test)]
mod tests;
