//! OpenAPI 3.1 emission: one operation per PVE method, parameters in path/query/body as
//! PVE takes them, answers wrapped in PVE's `{"data": ...}` envelope, PVE specifics kept
//! in `x-pve-*` extensions. Output is deterministic (sorted maps, no timestamps).

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::{json, Map, Value};

use super::formats::{compile_pattern, translate_perl_regex};
use super::model::{map_value, number, AdditionalProperties, Format, Schema, SchemaType};
use super::{ApiSchema, Method, Operation};

/// Converts a PVE schema node into JSON Schema (draft 2020-12, as OpenAPI 3.1 uses it).
pub fn json_schema(s: &Schema) -> Value {
    let mut m = Map::new();
    let ty = s.ty.unwrap_or(SchemaType::Any);
    match ty {
        SchemaType::String | SchemaType::Integer | SchemaType::Number | SchemaType::Null => {
            m.insert("type".into(), Value::from(ty.as_str()));
        }
        // PVE sends booleans as 0/1 and accepts JSON booleans too.
        SchemaType::Boolean => {
            m.insert("type".into(), json!(["boolean", "integer"]));
            m.insert("enum".into(), json!([false, true, 0, 1]));
        }
        SchemaType::Array => {
            m.insert("type".into(), Value::from("array"));
            m.insert(
                "items".into(),
                s.items.as_deref().map_or_else(|| json!({}), json_schema),
            );
        }
        SchemaType::Object => {
            m.insert("type".into(), Value::from("object"));
        }
        SchemaType::Any => {}
    }
    if let Some(props) = &s.properties {
        object_members(&mut m, props, &BTreeSet::new());
    }
    match &s.additional_properties {
        Some(AdditionalProperties::Allowed(false)) => {
            m.insert("additionalProperties".into(), Value::Bool(false));
        }
        Some(AdditionalProperties::Schema(extra)) => {
            m.insert("additionalProperties".into(), json_schema(extra));
        }
        _ => {}
    }
    if let Some(d) = &s.description {
        m.insert("description".into(), Value::from(d.as_ref()));
    }
    if let Some(t) = &s.title {
        m.insert("title".into(), Value::from(t.as_ref()));
    }
    if let Some(d) = &s.default {
        match default_value(s, ty, d) {
            Some(v) => m.insert("default".into(), v),
            // PVE documents some defaults in words ("same as user"); JSON Schema requires a
            // default to match its own schema, so those stay PVE-only.
            None => m.insert("x-pve-default".into(), d.clone()),
        };
    }
    if let (Some(values), false) = (&s.enumeration, ty == SchemaType::Boolean) {
        let numeric = matches!(ty, SchemaType::Integer | SchemaType::Number);
        let items: Vec<Value> = values
            .iter()
            .map(|v| match (numeric, v.parse::<f64>()) {
                (true, Ok(n)) => number(n),
                _ => Value::from(v.as_str()),
            })
            .collect();
        m.insert("enum".into(), Value::Array(items));
    }
    if let Some(p) = &s.pattern {
        if compile_pattern(p).is_some() {
            m.insert(
                "pattern".into(),
                // ECMA-262 has no atomic groups; as a plain group the pattern accepts the
                // same strings (only backtracking differs).
                Value::from(format!(
                    "^(?:{})$",
                    translate_perl_regex(p).replace("(?>", "(?:")
                )),
            );
        }
        m.insert("x-pve-pattern".into(), Value::from(p.as_ref()));
    }
    let numeric = matches!(
        ty,
        SchemaType::Integer | SchemaType::Number | SchemaType::Any
    );
    for (key, v, applies) in [
        ("minimum", s.minimum, numeric),
        ("maximum", s.maximum, numeric),
        ("minLength", s.min_length, true),
        ("maxLength", s.max_length, true),
    ] {
        if let (Some(n), true) = (v, applies) {
            m.insert(key.into(), number(n));
        }
    }
    match &s.format {
        Some(Format::Named(name)) => {
            m.insert("format".into(), Value::from(name.as_str()));
        }
        Some(Format::PropertyString(dict)) => {
            m.insert("x-pve-format".into(), map_value(dict));
        }
        Some(Format::List(item)) => {
            m.insert("x-pve-format-list".into(), json_schema(item));
        }
        None => {}
    }
    for (key, v) in [
        ("x-pve-typetext", &s.typetext),
        ("x-pve-verbose-description", &s.verbose_description),
        ("x-pve-format-description", &s.format_description),
        ("x-pve-alias", &s.alias),
        ("x-pve-key-alias", &s.key_alias),
        ("x-pve-type-property", &s.type_property),
    ] {
        if let Some(v) = v {
            m.insert(key.into(), Value::from(v.as_ref()));
        }
    }
    if s.default_key {
        m.insert("x-pve-default-key".into(), Value::Bool(true));
    }
    if let Some(r) = &s.requires {
        m.insert("x-pve-requires".into(), r.clone());
    }
    if let Some(t) = &s.instance_types {
        m.insert("x-pve-instance-types".into(), Value::from(t.clone()));
    }
    if let Some(alternatives) = &s.one_of {
        // `type-property` picks the variant from a sibling; JSON Schema cannot say that, so
        // the alternatives are offered as `anyOf`.
        m.insert(
            "anyOf".into(),
            Value::Array(alternatives.iter().map(json_schema).collect()),
        );
    }
    Value::Object(m)
}

/// Adds `properties`, `patternProperties` (for `net[n]` families) and `required`.
fn object_members(
    m: &mut Map<String, Value>,
    props: &BTreeMap<String, Schema>,
    skip: &BTreeSet<&str>,
) {
    let mut properties = Map::new();
    let mut patterns = Map::new();
    let mut required = Vec::new();
    for (name, schema) in props {
        if skip.contains(name.as_str()) {
            continue;
        }
        if let Some(prefix) = name.strip_suffix("[n]") {
            let mut converted = json_schema(schema);
            if let Value::Object(c) = &mut converted {
                c.insert("x-pve-indexed".into(), Value::from(name.as_str()));
            }
            patterns.insert(
                format!("^{}(0|[1-9][0-9]*)$", escape_regex(prefix)),
                converted,
            );
            continue;
        }
        if !schema.optional && schema.alias.is_none() {
            required.push(Value::from(name.as_str()));
        }
        properties.insert(name.clone(), json_schema(schema));
    }
    if !properties.is_empty() {
        m.insert("properties".into(), Value::Object(properties));
    }
    if !patterns.is_empty() {
        m.insert("patternProperties".into(), Value::Object(patterns));
    }
    if !required.is_empty() {
        m.insert("required".into(), Value::Array(required));
    }
}

fn escape_regex(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            let special = "\\.+*?()|[]{}^$-".contains(c);
            special
                .then_some('\\')
                .into_iter()
                .chain(std::iter::once(c))
        })
        .collect()
}

/// A stable, unique-per-path operationId: `get_nodes_node_qemu_vmid_config`.
fn base_operation_id(method: Method, template: &str) -> String {
    let mut id = method.as_str().to_ascii_lowercase();
    for seg in template.split('/').filter(|s| !s.is_empty()) {
        id.push('_');
        for c in seg.chars() {
            match c {
                '{' | '}' => {}
                c if c.is_ascii_alphanumeric() => id.push(c.to_ascii_lowercase()),
                _ => id.push('_'),
            }
        }
    }
    id
}

/// operationIds for every operation, made unique deterministically (sorted by template).
pub fn operation_ids(schema: &ApiSchema) -> HashMap<(Method, String), String> {
    let mut ops: Vec<(Method, &str)> = schema
        .operations()
        .map(|o| (o.method, o.template.as_str()))
        .collect();
    ops.sort_by(|a, b| a.1.cmp(b.1).then(a.0.cmp(&b.0)));
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut out = HashMap::new();
    for (method, template) in ops {
        let base = base_operation_id(method, template);
        let n = seen.entry(base.clone()).or_insert(0);
        *n += 1;
        let id = if *n == 1 { base } else { format!("{base}_{n}") };
        out.insert((method, template.to_string()), id);
    }
    out
}

fn summary(description: &str) -> String {
    let first = description.lines().next().unwrap_or("").trim();
    if first.chars().count() <= 120 {
        first.to_string()
    } else {
        let cut: String = first.chars().take(117).collect();
        format!("{cut}...")
    }
}

fn is_public(op: &Operation) -> bool {
    op.info
        .permissions
        .as_ref()
        .and_then(|p| p.get("user"))
        .and_then(Value::as_str)
        == Some("world")
}

/// The `{"data": ...}` envelope schema of an operation's answer.
pub fn envelope_schema(op: &Operation) -> Value {
    json!({
        "type": "object",
        "properties": {"data": json_schema(&op.info.returns)},
        "required": ["data"],
    })
}

fn operation_object(op: &Operation, path_params: &[String], operation_id: String) -> Value {
    let info = &op.info;
    let props = info.parameters.properties.clone().unwrap_or_default();
    let mut parameters = Vec::new();
    for name in path_params {
        let mut schema = props
            .get(name)
            .map_or_else(|| json!({"type": "string"}), json_schema);
        let description = schema
            .as_object_mut()
            .and_then(|o| o.remove("description"))
            .unwrap_or_else(|| Value::from(name.as_str()));
        parameters.push(json!({
            "name": name, "in": "path", "required": true,
            "description": description, "schema": schema,
        }));
    }
    let path_set: BTreeSet<&str> = path_params.iter().map(String::as_str).collect();
    let mut request_body = Value::Null;
    match op.method {
        Method::Get | Method::Delete => {
            for (name, s) in &props {
                if path_set.contains(name.as_str()) || name.ends_with("[n]") {
                    continue;
                }
                let mut schema = json_schema(s);
                let description = schema.as_object_mut().and_then(|o| o.remove("description"));
                let mut p = json!({
                    "name": name, "in": "query", "required": !s.optional, "schema": schema,
                });
                if let (Some(d), Some(o)) = (description, p.as_object_mut()) {
                    o.insert("description".into(), d);
                }
                parameters.push(p);
            }
        }
        Method::Post | Method::Put => {
            let mut body = Map::new();
            body.insert("type".into(), Value::from("object"));
            object_members(&mut body, &props, &path_set);
            if info.parameters.forbids_additional_properties() {
                body.insert("additionalProperties".into(), Value::Bool(false));
            }
            let has_members =
                body.contains_key("properties") || body.contains_key("patternProperties");
            if has_members {
                let required = body.get("required").is_some();
                let body = Value::Object(body);
                request_body = json!({
                    "required": required,
                    "content": {
                        "application/x-www-form-urlencoded": {"schema": body},
                        "application/json": {"schema": body},
                    }
                });
            }
        }
    }
    let mut o = Map::new();
    o.insert("operationId".into(), Value::from(operation_id));
    o.insert("summary".into(), Value::from(summary(&info.description)));
    o.insert("description".into(), Value::from(info.description.as_str()));
    let tag = path_params_free_first_segment(&op.template);
    o.insert("tags".into(), json!([tag]));
    if !parameters.is_empty() {
        o.insert("parameters".into(), Value::Array(parameters));
    }
    if !request_body.is_null() {
        o.insert("requestBody".into(), request_body);
    }
    o.insert(
        "responses".into(),
        json!({
            "200": {
                "description": "Success: the result in PVE's `data` envelope.",
                "content": {"application/json": {"schema": envelope_schema(op)}},
            },
            "400": {"$ref": "#/components/responses/ParameterError"},
            "default": {"$ref": "#/components/responses/Error"},
        }),
    );
    if is_public(op) {
        o.insert("security".into(), json!([]));
    }
    o.insert("x-pve-name".into(), Value::from(info.name.as_str()));
    o.insert("x-pve-protected".into(), Value::Bool(info.protected));
    o.insert("x-pve-allowtoken".into(), Value::Bool(info.allowtoken));
    if let Some(p) = &info.permissions {
        o.insert("x-pve-permissions".into(), p.clone());
    }
    if info.download {
        o.insert("x-pve-download".into(), Value::Bool(true));
    }
    o.insert("x-pve-returns".into(), info.returns.to_pve_value());
    Value::Object(o)
}

fn path_params_free_first_segment(template: &str) -> String {
    template
        .split('/')
        .find(|s| !s.is_empty())
        .unwrap_or("root")
        .to_string()
}

/// The whole OpenAPI 3.1 document of one schema version.
pub fn openapi_document(schema: &ApiSchema) -> Value {
    let ids = operation_ids(schema);
    let mut paths = Map::new();
    let mut tags = BTreeSet::new();
    let mut endpoints: Vec<_> = schema
        .endpoints()
        .iter()
        .filter(|e| !e.operations.is_empty())
        .collect();
    endpoints.sort_by(|a, b| a.template.cmp(&b.template));
    for e in endpoints {
        let mut item = Map::new();
        for op in &e.operations {
            let id = ids
                .get(&(op.method, op.template.clone()))
                .cloned()
                .unwrap_or_else(|| base_operation_id(op.method, &op.template));
            item.insert(
                op.method.as_str().to_ascii_lowercase(),
                operation_object(op, &e.path_params, id),
            );
            tags.insert(path_params_free_first_segment(&op.template));
        }
        paths.insert(e.template.clone(), Value::Object(item));
    }
    let version = schema.version();
    let product = schema.product();
    let title = product.title();
    let short = product.name();
    let cookie = product.auth_cookie();
    let booleans = if product.is_rust() {
        "Booleans travel as JSON booleans"
    } else {
        "Booleans travel as 0/1"
    };
    let mut security = vec![json!({ cookie: [] })];
    let mut schemes = Map::new();
    schemes.insert(
        cookie.into(),
        json!({
            "type": "apiKey", "in": "cookie", "name": cookie,
            "description": "Ticket from POST /access/ticket; writes also need the CSRFPreventionToken header.",
        }),
    );
    if let Some((scheme, sep)) = product.token_scheme() {
        security.push(json!({ scheme: [] }));
        schemes.insert(
            scheme.into(),
            json!({
                "type": "apiKey", "in": "header", "name": "Authorization",
                "description": format!("`{scheme}=USER@REALM!TOKENID{sep}SECRET`"),
            }),
        );
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": format!("{title} API"),
            "version": version,
            "summary": format!("{title} {version} REST API"),
            "description": format!(
                "The {title} {version} API, generated by proxmox-sdk-codegen from the apidoc a {short} node serves. \
                 {booleans}; errors carry {short}'s message in the HTTP reason phrase. \
                 The schema data is derived from {title} (AGPL-3.0)."
            ),
            "license": {"name": "AGPL-3.0-or-later", "identifier": "AGPL-3.0-or-later"},
        },
        "servers": [{"url": "/api2/json", "description": format!("{short}'s JSON API root")}],
        "security": security,
        "tags": tags.into_iter().map(|t| json!({"name": t})).collect::<Vec<_>>(),
        "paths": paths,
        "components": {
            "securitySchemes": schemes,
            "responses": {
                "ParameterError": {
                    "description": "Parameter verification failed.",
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {
                            "data": {"type": "null"},
                            "errors": {"type": "object", "additionalProperties": {"type": "string"}},
                        },
                        "required": ["errors"],
                    }}},
                },
                "Error": {
                    "description": format!("Failure; {short}'s message is in the HTTP reason phrase and in `message`."),
                    "content": {"application/json": {"schema": {
                        "type": "object",
                        "properties": {
                            "data": {"type": "null"},
                            "message": {"type": "string"},
                        },
                    }}},
                },
            },
        },
        "x-pve-version": version,
    })
}

/// `default` as a value of the schema's own type, or `None` when it is not one.
fn default_value(s: &Schema, ty: SchemaType, d: &Value) -> Option<Value> {
    let text = match d {
        Value::String(t) => t.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => u8::from(*b).to_string(),
        _ => {
            return (ty == SchemaType::Any || ty == SchemaType::Object || ty == SchemaType::Array)
                .then(|| d.clone())
        }
    };
    let value = match ty {
        SchemaType::Integer => Value::from(text.parse::<i64>().ok()?),
        SchemaType::Number => number(text.parse::<f64>().ok()?),
        SchemaType::Boolean => match text.as_str() {
            "0" | "1" => Value::from(text.parse::<u8>().ok()?),
            _ => return None,
        },
        SchemaType::String => Value::from(text.clone()),
        SchemaType::Null => return None,
        _ => d.clone(),
    };
    if let Some(n) = value.as_f64() {
        if s.minimum.is_some_and(|min| n < min) || s.maximum.is_some_and(|max| n > max) {
            return None;
        }
    }
    if let Some(values) = &s.enumeration {
        if ty != SchemaType::Boolean && !values.contains(&text) {
            return None;
        }
    }
    if ty == SchemaType::String {
        let len = text.chars().count() as f64;
        if s.min_length.is_some_and(|min| len < min) || s.max_length.is_some_and(|max| len > max) {
            return None;
        }
        if let Some(re) = s.pattern.as_deref().and_then(compile_pattern) {
            if !re.is_match(&text).unwrap_or(false) {
                return None;
            }
        }
    }
    Some(value)
}
