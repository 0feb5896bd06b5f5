//! `usage PATH` (parameters and answers from the bundled schema, as `pvesh usage` shows
//! them) and `help WORDS` (search paths and descriptions).

use super::super::output::{self, Format};
use super::super::params::{api_path, display_path, method_of, verb_of};
use super::super::{usage, Ctx, Failure};
use crate::schema::Schema;

fn schema_type_text(s: &Schema) -> String {
    s.typetext.as_deref().map_or_else(
        || {
            format!(
                "<{}>",
                s.ty.map_or_else(
                    || "string".into(),
                    |t| format!("{t:?}").to_ascii_lowercase()
                )
            )
        },
        str::to_string,
    )
}

/// `usage PATH [--verbose] [--returns] [--command M]`.
pub fn cmd_usage(
    ctx: &Ctx,
    path: &str,
    verbose: bool,
    returns: bool,
    command: Option<String>,
) -> Result<(), Failure> {
    let p = api_path(path);
    let endpoint = ctx
        .schema
        .resolve(&p)
        .map(|(e, _)| e)
        .or_else(|| ctx.schema.endpoint_by_template(path))
        .ok_or_else(|| usage(format!("no such path: {}", display_path(&p))))?;
    let only = match command.as_deref() {
        Some(c) => Some(method_of(c).ok_or_else(|| {
            usage(format!(
                "--command: expected GET, POST, PUT or DELETE, got '{c}'"
            ))
        })?),
        None => None,
    };
    let mut out = String::new();
    let mut any = false;
    for op in endpoint
        .operations
        .iter()
        .filter(|o| only.is_none_or(|m| m == o.method))
    {
        any = true;
        let params = &op.info.parameters;
        let mut props: Vec<(&String, &Schema)> = params
            .properties
            .iter()
            .flat_map(|m| m.iter())
            .filter(|(k, _)| !endpoint.path_params.contains(k))
            .collect();
        props.sort_by_key(|(k, s)| (s.optional, (*k).clone()));
        let line: Vec<String> = props
            .iter()
            .map(|(k, s)| {
                let t = format!("-{k} {}", schema_type_text(s));
                if s.optional {
                    format!("[{t}]")
                } else {
                    t
                }
            })
            .collect();
        out.push_str(&format!(
            "USAGE: pvesh {} {} {}\n",
            verb_of(op.method),
            crate::schema::index::strip_api_prefix(&endpoint.template)
                .split('/')
                .fold(String::new(), |acc, s| format!("{acc}/{s}")),
            line.join(" ")
        ));
        if !op.info.description.trim().is_empty() {
            out.push_str(&format!("\n  {}\n", op.info.description.trim()));
        }
        if verbose {
            for (k, s) in &props {
                out.push_str(&format!("\n  -{k} {}\n", schema_type_text(s)));
                if let Some(d) = &s.description {
                    out.push_str(&format!("      {}\n", d.trim()));
                }
                if let Some(e) = &s.enumeration {
                    out.push_str(&format!("      allowed: {}\n", e.join(", ")));
                }
                if let Some(d) = &s.default {
                    out.push_str(&format!(
                        "      default: {}\n",
                        output::render(d, Format::Text).trim_end()
                    ));
                }
                if !s.optional {
                    out.push_str("      required\n");
                }
            }
        }
        if returns {
            let r = crate::schema::openapi::json_schema(&op.info.returns);
            out.push_str(&format!(
                "\nRETURNS:\n{}",
                output::render(&r, Format::JsonPretty)
            ));
        }
        out.push('\n');
    }
    if !any {
        return Err(usage(format!(
            "{} has no {} method",
            display_path(&p),
            command.unwrap_or_default().to_ascii_uppercase()
        )));
    }
    print!("{out}");
    Ok(())
}

/// `help WORDS`.
pub fn cmd_help(ctx: &Ctx, pattern: &[String]) {
    let words: Vec<String> = pattern.iter().map(|w| w.to_lowercase()).collect();
    for e in ctx.schema.endpoints() {
        for op in &e.operations {
            let desc = op.info.description.as_str();
            let hay = format!("{} {}", e.template, desc).to_lowercase();
            if words.iter().all(|w| hay.contains(w.as_str())) {
                let first = desc.lines().next().unwrap_or("").trim();
                println!(
                    "{:<6} /{}  {}",
                    format!("{:?}", op.method).to_uppercase(),
                    crate::schema::index::strip_api_prefix(&e.template),
                    first
                );
            }
        }
    }
}
