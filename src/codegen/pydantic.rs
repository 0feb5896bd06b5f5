//! Pydantic v2 models of every operation's parameters and answer, one Python module per
//! product version, in the original package's naming: `{Method}{Path}Request` (the
//! parameters without the path's own), `{Method}{Path}Response` (the `data` of the answer),
//! and `...Item` for the members of a list. Types follow the original's mapping (strict
//! strings, PVE's 0/1 booleans accepted, nested objects as dicts); every model allows extra
//! members, as PVE adds fields between releases. Pure: schema in, text out, byte-identical
//! for the same schema.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use serde_json::{json, Map, Value};

use crate::schema::openapi::operation_ids;
use crate::schema::{ApiSchema, Schema, SchemaType};

/// What the generator produced for one version.
#[derive(Debug)]
pub struct Models {
    /// The module's source.
    pub source: String,
    /// `operationId -> {request_model, response_model}`, as the original's
    /// `model_index.json`.
    pub index: Value,
    /// How many classes the module defines.
    pub classes: usize,
    /// The names it exports (`__all__`), sorted.
    pub names: Vec<String>,
}

/// `Get`, `Put`, ... + the operation id's words (`get_nodes_node_qemu` -> `GetNodesNodeQemu`).
pub fn pascal_case(value: &str) -> String {
    let mut out = String::new();
    for word in value.split(|c: char| !c.is_ascii_alphanumeric()) {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(chars);
        }
    }
    if out.is_empty() {
        return "GeneratedModel".into();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "Model");
    }
    out
}

const KEYWORDS: &[&str] = &[
    "False", "None", "True", "and", "as", "assert", "async", "await", "break", "class", "continue",
    "def", "del", "elif", "else", "except", "finally", "for", "from", "global", "if", "import",
    "in", "is", "lambda", "nonlocal", "not", "or", "pass", "raise", "return", "try", "while",
    "with", "yield",
];

/// Names a field may not take because `BaseModel` has them (pydantic warns, then breaks).
const BASE_MODEL_NAMES: &[&str] = &[
    "construct",
    "copy",
    "dict",
    "fields",
    "from_orm",
    "json",
    "parse_file",
    "parse_obj",
    "parse_raw",
    "schema",
    "schema_json",
    "update_forward_refs",
    "validate",
];

/// A snake_case Python identifier for a member name (the original's `slugify_identifier`,
/// plus a trailing `_` for names `BaseModel` owns).
pub fn field_name(value: &str) -> String {
    let mut spaced = String::new();
    let mut last_us = false;
    for c in value.trim().chars() {
        if c.is_ascii_alphanumeric() {
            spaced.push(c);
            last_us = false;
        } else if !last_us {
            spaced.push('_');
            last_us = true;
        }
    }
    // `fooBar` -> `foo_Bar` (then lower-cased).
    let mut out = String::new();
    let chars: Vec<char> = spaced.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if i > 0
            && c.is_ascii_uppercase()
            && (chars[i - 1].is_ascii_lowercase() || chars[i - 1].is_ascii_digit())
        {
            out.push('_');
        }
        out.push(*c);
    }
    let mut out = out.trim_matches('_').to_ascii_lowercase();
    if out.is_empty() {
        return "field".into();
    }
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "n_");
    }
    if KEYWORDS.contains(&out.as_str()) || BASE_MODEL_NAMES.contains(&out.as_str()) {
        out.push('_');
    }
    out
}

/// A Python string literal as `repr()` writes it (single quotes unless the text has one
/// and no double quote).
pub fn py_repr(text: &str) -> String {
    let quote = if text.contains('\'') && !text.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(text.len() + 2);
    out.push(quote);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// Text safe inside a `"""` docstring.
fn docstring(text: &str) -> String {
    text.replace("\"\"\"", "")
        .replace('\\', "\\\\")
        .trim()
        .to_string()
}

/// The integer or boolean a response string may carry instead (PVE answers `1` for a
/// property string whose single `default_key` is such a value): the original's rule.
fn legacy_scalar(schema: &Schema) -> Option<String> {
    let dict = schema.property_string_format()?;
    let marked: Vec<&Schema> = dict.values().filter(|s| s.default_key).collect();
    let [only] = marked.as_slice() else {
        return None;
    };
    match only.ty? {
        SchemaType::Boolean => Some("StrictBool | Annotated[StrictInt, Field(ge=0, le=1)]".into()),
        SchemaType::Integer => {
            let mut args = Vec::new();
            if let Some(min) = only.minimum.filter(|m| m.is_finite()) {
                args.push(format!("ge={}", number(min)));
            }
            if let Some(max) = only.maximum.filter(|m| m.is_finite()) {
                args.push(format!("le={}", number(max)));
            }
            Some(if args.is_empty() {
                "StrictInt".into()
            } else {
                format!("Annotated[StrictInt, Field({})]", args.join(", "))
            })
        }
        _ => None,
    }
}

fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v}")
    }
}

/// The Python type of a value of `schema` (`response`: as answers carry it).
fn py_type(schema: &Schema, response: bool) -> String {
    let schema = schema
        .one_of
        .as_ref()
        .and_then(|alternatives| alternatives.first())
        .filter(|_| schema.ty.is_none())
        .unwrap_or(schema);
    match schema.ty {
        Some(SchemaType::Null) => "None".into(),
        Some(SchemaType::String) => match legacy_scalar(schema).filter(|_| response) {
            Some(scalar) => format!("{scalar} | StrictStr"),
            None => "StrictStr".into(),
        },
        Some(SchemaType::Integer) => "int".into(),
        Some(SchemaType::Number) => "float".into(),
        Some(SchemaType::Boolean) => "bool".into(),
        Some(SchemaType::Array) => format!(
            "list[{}]",
            schema
                .items
                .as_deref()
                .map_or_else(|| "object".into(), |i| py_type(i, response))
        ),
        Some(SchemaType::Object) => "dict[str, object]".into(),
        Some(SchemaType::Any) | None => "object".into(),
    }
}

struct Emitter {
    out: String,
    classes: usize,
}

impl Emitter {
    /// `class NAME(ProxmoxBaseModel)` with one field per property, or a root model when
    /// there are none.
    fn object(&mut self, name: &str, props: &BTreeMap<String, Schema>, doc: &str, response: bool) {
        if props.is_empty() {
            self.root(name, "dict[str, object]", doc);
            return;
        }
        let _ = writeln!(self.out, "class {name}(ProxmoxBaseModel):");
        let _ = writeln!(self.out, "    \"\"\"Model for {}.\"\"\"", docstring(doc));
        let mut used = BTreeSet::new();
        for (prop, schema) in props {
            let mut field = field_name(prop);
            while !used.insert(field.clone()) {
                field.push('_');
            }
            let ty = py_type(schema, response);
            let required = !schema.optional;
            let mut args = vec![if required { "..." } else { "None" }.to_string()];
            if field != *prop {
                args.push(format!("alias={}", py_repr(prop)));
            }
            if let Some(d) = schema.description.as_deref().filter(|d| !d.is_empty()) {
                args.push(format!("description={}", py_repr(d)));
            }
            let optional = if required { "" } else { " | None" };
            let _ = writeln!(
                self.out,
                "    {field}: {ty}{optional} = Field({})",
                args.join(", ")
            );
        }
        self.out.push('\n');
        self.classes += 1;
    }

    fn root(&mut self, name: &str, ty: &str, doc: &str) {
        let _ = writeln!(self.out, "class {name}(RootModel[{ty}]):");
        let _ = writeln!(self.out, "    \"\"\"Model for {}.\"\"\"", docstring(doc));
        let _ = writeln!(self.out, "    root: {ty} = Field(...)");
        self.out.push('\n');
        self.classes += 1;
    }

    /// The models of one schema: a list of objects gets an `...Item` model.
    fn model(&mut self, name: &str, schema: &Schema, doc: &str, response: bool) {
        match schema.ty {
            Some(SchemaType::Array) => match schema.items.as_deref() {
                Some(item)
                    if item.ty == Some(SchemaType::Object)
                        && item.properties.as_ref().is_some_and(|p| !p.is_empty()) =>
                {
                    let item_name = format!("{name}Item");
                    self.object(
                        &item_name,
                        item.properties.as_ref().expect("checked"),
                        doc,
                        response,
                    );
                    let ty = format!("list[{item_name}]");
                    let _ = writeln!(self.out, "class {name}(RootModel[{ty}]):");
                    let _ = writeln!(
                        self.out,
                        "    \"\"\"List of items. {}.\"\"\"",
                        docstring(doc)
                    );
                    let _ = writeln!(self.out, "    root: {ty} = Field(...)");
                    self.out.push('\n');
                    self.classes += 1;
                }
                _ => self.root(name, &py_type(schema, response), doc),
            },
            Some(SchemaType::Object) => {
                let empty = BTreeMap::new();
                self.object(
                    name,
                    schema.properties.as_ref().unwrap_or(&empty),
                    doc,
                    response,
                );
            }
            _ => self.root(name, &py_type(schema, response), doc),
        }
    }
}

/// The module of `schema`'s models (and the operation index).
pub fn render_models(schema: &ApiSchema) -> Models {
    let ids = operation_ids(schema);
    let product = schema.product();
    let mut e = Emitter {
        out: String::new(),
        classes: 0,
    };
    let _ = write!(
        e.out,
        "\"\"\"Pydantic v2 models of the {title} {version} API: each operation's parameters\n\
         (`...Request`, without the path's own) and answer (`...Response`, the `data` member).\n\
         \n\
         Generated by proxmox-sdk-codegen from the apidoc; do not edit.\n\
         \"\"\"\n\
         \n\
         from __future__ import annotations\n\
         \n\
         from typing import Annotated\n\
         \n\
         from pydantic import BaseModel, ConfigDict, Field, RootModel, StrictBool, StrictInt, StrictStr\n\
         \n\
         GENERATED_FOR_PROXMOX_VERSION = {version_lit}\n\
         GENERATED_FOR_SERVICE = {service_lit}\n\
         \n\
         \n\
         class ProxmoxBaseModel(BaseModel):\n\
         \x20   model_config = ConfigDict(populate_by_name=True, extra='allow', protected_namespaces=())\n\
         \n\
         \n",
        title = product.title(),
        version = schema.version(),
        version_lit = py_repr(schema.version()),
        service_lit = py_repr(product.name()),
    );
    let mut endpoints: Vec<_> = schema
        .endpoints()
        .iter()
        .filter(|ep| !ep.operations.is_empty())
        .collect();
    endpoints.sort_by(|a, b| a.template.cmp(&b.template));
    let mut operations = Map::new();
    let mut names = Vec::new();
    for ep in endpoints {
        let mut ops: Vec<_> = ep.operations.iter().collect();
        ops.sort_by_key(|o| o.method.as_str().to_ascii_lowercase());
        for op in ops {
            let id = ids
                .get(&(op.method, op.template.clone()))
                .cloned()
                .unwrap_or_default();
            let base = pascal_case(&id);
            let info = &op.info;
            let doc = match (info.name.as_str(), info.description.as_str()) {
                ("", "") => String::new(),
                (n, d) => format!("{n}. {d}"),
            };
            let request: BTreeMap<String, Schema> = info
                .parameters
                .properties
                .iter()
                .flatten()
                .filter(|(k, _)| !ep.path_params.contains(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            let request_model = if request.is_empty() {
                None
            } else {
                let name = format!("{base}Request");
                e.object(&name, &request, &format!("{doc} request"), false);
                names.push(name.clone());
                Some(name)
            };
            let response_model = format!("{base}Response");
            let before = e.classes;
            e.model(
                &response_model,
                &info.returns,
                &format!("{doc} response"),
                true,
            );
            if e.classes - before == 2 {
                names.push(format!("{response_model}Item"));
            }
            names.push(response_model.clone());
            operations.insert(
                id,
                json!({
                    "method": op.method.as_str(),
                    "path": op.template,
                    "request_model": request_model,
                    "response_model": response_model,
                }),
            );
        }
    }
    names.push("ProxmoxBaseModel".into());
    names.sort();
    let _ = writeln!(e.out, "__all__ = [");
    for n in &names {
        let _ = writeln!(e.out, "    {},", py_repr(n));
    }
    let _ = writeln!(e.out, "]");
    Models {
        source: e.out,
        index: json!({
            "service": product.name(),
            "version": schema.version(),
            "operations": operations,
        }),
        classes: e.classes + 1,
        names,
    }
}

/// The importable folder name of a version tag (`9.1.11` -> `v9_1_11`): a Python module
/// name cannot hold dots.
pub fn module_dir(tag: &str) -> String {
    let mut out = String::from("v");
    out.extend(
        tag.chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_as_the_original() {
        assert_eq!(pascal_case("get_nodes_node_qemu"), "GetNodesNodeQemu");
        assert_eq!(pascal_case("9x"), "Model9x");
        assert_eq!(field_name("acr-values"), "acr_values");
        assert_eq!(field_name("net[n]"), "net_n");
        assert_eq!(field_name("fooBar"), "foo_bar");
        assert_eq!(field_name("class"), "class_");
        assert_eq!(field_name("json"), "json_");
        assert_eq!(field_name("2fa"), "n_2fa");
        assert_eq!(field_name("--"), "field");
        assert_eq!(py_repr("it's"), "\"it's\"");
        assert_eq!(py_repr("a'\"b\\\n"), "'a\\'\"b\\\\\\n'");
        assert_eq!(module_dir("9.1.11"), "v9_1_11");
    }

    #[test]
    fn every_operation_has_its_models() {
        let schema = crate::schema::bundled::load("9.2").unwrap();
        let m = render_models(&schema);
        let ops = m.index["operations"].as_object().unwrap();
        assert_eq!(ops.len(), schema.operation_count());
        assert_eq!(
            ops["get_nodes_node_qemu"]["response_model"],
            "GetNodesNodeQemuResponse"
        );
        assert!(m
            .source
            .contains("class GetNodesNodeQemuResponseItem(ProxmoxBaseModel):"));
        assert!(m.source.contains(
            "class GetNodesNodeQemuResponse(RootModel[list[GetNodesNodeQemuResponseItem]]):"
        ));
        assert!(m.source.contains(
            "    acr_values: StrictStr | None = Field(None, alias='acr-values', description="
        ));
        // `vmid` is the path's own: not a parameter of the request model.
        let req = m
            .source
            .split("class PostNodesNodeQemuVmidStatusStartRequest(ProxmoxBaseModel):")
            .nth(1)
            .unwrap();
        let req = req.split("\n\n").next().unwrap();
        assert!(
            !req.contains("    vmid:") && !req.contains("    node:"),
            "{req}"
        );
        assert!(m.classes > 1000);
    }
}
