//! `batch FILE`: the operations of a JSON file, `[{"method": "get", "path": "...",
//! "params": {...}}]`, each checked and run, with one result per operation.

use serde_json::{json, Value};

use super::super::output::Format;
use super::super::params::{api_failure, api_path, check, display_path, method_of};
use super::super::{print_value, usage, Ctx, Failure, EXIT_API};

/// `batch FILE [--stop-on-error]`.
pub fn cmd_batch(ctx: &Ctx, file: &str, stop_on_error: bool) -> Result<(), Failure> {
    let text = if file == "-" {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
            .map_err(|e| usage(format!("batch: reading stdin: {e}")))?;
        s
    } else {
        std::fs::read_to_string(file).map_err(|e| usage(format!("batch: {file}: {e}")))?
    };
    let doc: Value = serde_json::from_str(&text)
        .map_err(|e| usage(format!("batch: {file}: invalid JSON: {e}")))?;
    let ops = match doc {
        Value::Array(a) => a,
        Value::Object(mut o) => match o.remove("operations").or_else(|| o.remove("commands")) {
            Some(Value::Array(a)) => a,
            _ => {
                return Err(usage(
                    "batch: expected a list of operations (or {\"operations\": [...]})",
                ))
            }
        },
        _ => return Err(usage("batch: expected a list of operations")),
    };
    let client = ctx.client()?;
    let mut results = Vec::new();
    let mut failed = false;
    for (i, op) in ops.iter().enumerate() {
        let method_text = op
            .get("method")
            .or_else(|| op.get("command"))
            .or_else(|| op.get("action"))
            .and_then(Value::as_str)
            .unwrap_or("get");
        let Some(method) = method_of(method_text) else {
            return Err(usage(format!(
                "batch: operation {i}: unknown method '{method_text}'"
            )));
        };
        let Some(path) = op.get("path").and_then(Value::as_str) else {
            return Err(usage(format!("batch: operation {i}: 'path' is missing")));
        };
        let params = op
            .get("params")
            .or_else(|| op.get("data"))
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let m = method.as_str();
        let p = api_path(path);
        let r = check(&ctx.schema, method, &p, &params)
            .and_then(|()| client.call(method, &p, params).map_err(api_failure));
        match r {
            Ok(v) => {
                results.push(json!({"path": display_path(&p), "method": m, "ok": true, "data": v}));
            }
            Err(f) => {
                failed = true;
                results.push(
                    json!({"path": display_path(&p), "method": m, "ok": false, "error": f.message}),
                );
                if stop_on_error {
                    break;
                }
            }
        }
    }
    print_value(
        &Value::Array(results),
        if matches!(ctx.format, Format::Table(_)) {
            Format::JsonPretty
        } else {
            ctx.format
        },
    );
    if failed {
        Err(Failure {
            code: EXIT_API,
            message: "batch: some operations failed".into(),
        })
    } else {
        Ok(())
    }
}
