//! API paths and parameters as the command line gives them: `-name value`, `--name value`
//! or `name=value`; checked against the bundled schema before anything is sent, with what
//! each parameter allows; and API errors turned into exit codes.

use serde_json::{Map, Value};

use super::{usage, Failure, EXIT_API};
use crate::api::{ApiError, ApiPath, Error, Method};
use crate::schema::{ApiSchema, RequestError, Schema};

/// Parsed `-name value` / `--name value` / `name=value` parameters; `--wait` is taken out.
pub fn parse_params(args: &[String]) -> Result<(Map<String, Value>, bool), Failure> {
    let mut out = Map::new();
    let mut wait = false;
    let mut add = |k: &str, v: String| {
        let v = Value::String(v);
        match out.get_mut(k) {
            Some(Value::Array(items)) => items.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, v]);
            }
            None => {
                out.insert(k.to_string(), v);
            }
        }
    };
    let is_number = |s: &str| s.parse::<f64>().is_ok();
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--wait" {
            wait = true;
        } else if a.starts_with('-') && a.len() > 1 && !is_number(a) && a != "--" {
            let name = a.trim_start_matches('-');
            if let Some((k, v)) = name.split_once('=') {
                add(k, v.to_string());
            } else {
                let next = args.get(i + 1);
                match next {
                    Some(n) if !(n.starts_with('-') && n.len() > 1 && !is_number(n)) => {
                        add(name, n.clone());
                        i += 1;
                    }
                    // A bare flag: a boolean switched on.
                    _ => add(name, "1".to_string()),
                }
            }
        } else if let Some((k, v)) = a.split_once('=') {
            add(k, v.to_string());
        } else if a != "--" {
            return Err(usage(format!(
                "unexpected argument '{a}': give parameters as -name value, --name value or name=value"
            )));
        }
        i += 1;
    }
    Ok((out, wait))
}

/// `/nodes/pve1` from `nodes/pve1`, `/api2/json/nodes/pve1` or `/nodes/pve1/`.
pub fn api_path(path: &str) -> String {
    let rel = crate::schema::index::strip_api_prefix(path.trim());
    let mut out = ApiPath::root();
    for seg in rel.split('/').filter(|s| !s.is_empty()) {
        out.push(&percent_encoding::percent_decode_str(seg).decode_utf8_lossy());
    }
    out.into_string()
}

/// `/nodes/pve 1` of an encoded API path.
pub fn display_path(path: &str) -> String {
    let rel = crate::schema::index::strip_api_prefix(path);
    format!(
        "/{}",
        percent_encoding::percent_decode_str(rel).decode_utf8_lossy()
    )
}

/// An API failure as the CLI reports it: PVE's status and message (and each parameter's
/// error) with exit code 1; an unusable argument is a usage error (2).
pub fn api_failure(e: Error) -> Failure {
    match e {
        Error::Api(ApiError {
            status,
            message,
            errors,
            ..
        }) => {
            let mut m = format!("{status} {message}");
            for (k, v) in errors.unwrap_or_default() {
                m.push_str(&format!("\n{k}: {}", v.trim_end()));
            }
            Failure {
                code: EXIT_API,
                message: m,
            }
        }
        Error::Invalid(m) => usage(m),
        other => Failure {
            code: EXIT_API,
            message: other.to_string(),
        },
    }
}

/// What a parameter allows, for error messages (`<integer> (100 - 999999999)`, an enum).
fn allowed(schema: &Schema) -> String {
    if let Some(e) = &schema.enumeration {
        return format!("one of: {}", e.join(", "));
    }
    if let Some(t) = &schema.typetext {
        return t.to_string();
    }
    let ty = schema.ty.map_or_else(
        || "string".into(),
        |t| format!("{t:?}").to_ascii_lowercase(),
    );
    match (schema.minimum, schema.maximum) {
        (Some(a), Some(b)) => format!("<{ty}> ({a} - {b})"),
        _ => format!("<{ty}>"),
    }
}

/// Validates against the schema before anything is sent; errors list what is allowed.
pub fn check(
    schema: &ApiSchema,
    method: Method,
    path: &str,
    params: &Map<String, Value>,
) -> Result<(), Failure> {
    match schema.validate_request(method.as_str(), path, params) {
        Ok(_) => Ok(()),
        Err(RequestError::Params(p)) => {
            let op = schema
                .operation(method.as_str(), path)
                .ok()
                .map(|(op, _)| op);
            let mut m = String::from("400 Parameter verification failed.");
            for (k, v) in &p.errors {
                m.push_str(&format!("\n{k}: {}", v.trim_end()));
                if let Some(s) = op.and_then(|o| o.param(k)) {
                    m.push_str(&format!(" (allowed: {})", allowed(s)));
                }
            }
            Err(usage(m))
        }
        Err(e) => Err(usage(format!(
            "{e} (see `proxmox help` and `proxmox usage PATH`)"
        ))),
    }
}

/// `get`/`create`/`set`/`delete` or an HTTP method name (any case).
pub fn method_of(text: &str) -> Option<Method> {
    match text.to_ascii_lowercase().as_str() {
        "get" => Some(Method::Get),
        "post" | "create" => Some(Method::Post),
        "put" | "set" => Some(Method::Put),
        "delete" => Some(Method::Delete),
        _ => None,
    }
}

/// The pvesh verb of a method.
pub fn verb_of(m: Method) -> &'static str {
    match m {
        Method::Get => "get",
        Method::Post => "create",
        Method::Put => "set",
        Method::Delete => "delete",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(std::string::ToString::to_string).collect()
    }

    #[test]
    fn parameters() {
        let (p, wait) = parse_params(&s(&[
            "-memory",
            "2048",
            "--cores=2",
            "name=web",
            "-net0",
            "virtio",
            "-net0",
            "e1000",
            "--onboot",
            "--wait",
            "-balloon",
            "-1",
        ]))
        .unwrap();
        assert!(wait);
        assert_eq!(
            Value::Object(p),
            json!({"memory": "2048", "cores": "2", "name": "web", "net0": ["virtio", "e1000"], "onboot": "1", "balloon": "-1"})
        );
        assert!(parse_params(&s(&["oops"]))
            .unwrap_err()
            .message
            .contains("-name value"));
    }

    #[test]
    fn paths() {
        assert_eq!(api_path("nodes/pve1/"), "/api2/json/nodes/pve1");
        assert_eq!(api_path("/api2/json/nodes"), "/api2/json/nodes");
        assert_eq!(api_path("/"), "/api2/json");
    }
}
