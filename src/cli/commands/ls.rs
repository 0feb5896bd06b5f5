//! `ls PATH`: the children of a path with the methods each supports (pvesh's flags), the
//! members of a collection listed from the backend.

use serde_json::{json, Map, Value};

use super::super::output::Format;
use super::super::params::{api_failure, api_path, display_path};
use super::super::{print_value, usage, Ctx, Failure};
use crate::api::Method;
use crate::schema::ApiSchema;

/// The children of `template` in the schema: `(segment, methods)`.
pub fn children<'s>(schema: &'s ApiSchema, template: &str) -> Vec<(&'s str, Vec<Method>)> {
    let prefix = crate::schema::index::strip_api_prefix(template).trim_end_matches('/');
    let mut out: Vec<(&str, Vec<Method>)> = schema
        .endpoints()
        .iter()
        .filter_map(|e| {
            let rel = crate::schema::index::strip_api_prefix(&e.template);
            let rest = if prefix.is_empty() {
                rel
            } else {
                rel.strip_prefix(prefix)?.strip_prefix('/')?
            };
            (!rest.is_empty() && !rest.contains('/'))
                .then(|| (rest, e.operations.iter().map(|o| o.method).collect()))
        })
        .collect();
    out.sort_by(|a, b| a.0.cmp(b.0));
    out
}

fn flags(methods: &[Method], dir: bool) -> String {
    let f = |m: Method, c: char| if methods.contains(&m) { c } else { '-' };
    format!(
        "{}{}{}{}{}",
        if dir { 'D' } else { '-' },
        f(Method::Get, 'r'),
        f(Method::Put, 'w'),
        f(Method::Post, 'c'),
        f(Method::Delete, 'd')
    )
}

/// `ls PATH`.
pub fn cmd_ls(ctx: &Ctx, path: Option<String>) -> Result<(), Failure> {
    let path = api_path(path.as_deref().unwrap_or("/"));
    let template = if path == "/api2/json" {
        "/".to_string()
    } else {
        ctx.schema
            .resolve(&path)
            .map(|(e, _)| e.template.clone())
            .ok_or_else(|| usage(format!("no such path: {}", display_path(&path))))?
    };
    let kids = children(&ctx.schema, &template);
    let mut rows = Vec::new();
    for (seg, methods) in &kids {
        if seg.starts_with('{') {
            // A parameter: list the actual members.
            let client = ctx.client()?;
            let listing = client
                .call(Method::Get, &path, Map::new())
                .map_err(api_failure)?;
            let key = seg.trim_matches(['{', '}']);
            let sub = format!(
                "{}/{seg}",
                crate::schema::index::strip_api_prefix(&template)
            );
            let has_kids = !children(&ctx.schema, &sub).is_empty();
            for item in listing.as_array().into_iter().flatten() {
                let name = item.get(key).map(|v| match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                });
                if let Some(name) = name {
                    rows.push(json!({"flags": flags(methods, has_kids), "name": name}));
                }
            }
        } else {
            let sub = format!(
                "{}/{seg}",
                crate::schema::index::strip_api_prefix(&template)
            );
            let has_kids = !children(&ctx.schema, &sub).is_empty();
            rows.push(json!({"flags": flags(methods, has_kids), "name": seg}));
        }
    }
    if matches!(ctx.format, Format::Table(_) | Format::Text) {
        for r in &rows {
            println!(
                "{} {}",
                r["flags"].as_str().unwrap_or(""),
                r["name"].as_str().unwrap_or("")
            );
        }
    } else {
        print_value(&Value::Array(rows), ctx.format);
    }
    Ok(())
}
