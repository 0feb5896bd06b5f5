//! API paths and parameters as the command line gives them: `-name value`, `--name value`
//! or `name=value`; checked against the bundled schema before anything is sent, with what
//! each parameter allows; and API errors turned into exit codes.

use serde_json::{Map, Value};

use super::globals::is_option;
use super::{usage, Failure, EXIT_API};
use crate::api::{ApiError, ApiPath, Error, Method};
use crate::schema::{ApiSchema, RequestError, Schema};

/// A parameter given as an option (`-name` or `--name`), as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashed {
    /// `-name` or `--name`, as on the line.
    pub typed: String,
    /// `name`.
    pub name: String,
    /// Given without a value (only booleans may be: they mean 1, as in pvesh).
    pub bare: bool,
}

/// What [`parse_params`] found.
#[derive(Debug, Default)]
pub struct Parsed {
    /// The parameters, values as strings (lists when repeated).
    pub params: Map<String, Value>,
    /// `--wait` was given.
    pub wait: bool,
    /// The parameters given as options, for [`check_options`].
    pub dashed: Vec<Dashed>,
}

/// Parsed `-name value` / `--name value` / `name=value` parameters; `--wait` is taken out.
pub fn parse_params(args: &[String]) -> Result<Parsed, Failure> {
    let mut out = Map::new();
    let mut dashed = Vec::new();
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
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--wait" {
            wait = true;
        } else if is_option(a) {
            let name = a.trim_start_matches('-');
            let dashes = &a[..a.len() - name.len()];
            if let Some((k, v)) = name.split_once('=') {
                add(k, v.to_string());
                dashed.push(Dashed {
                    typed: format!("{dashes}{k}"),
                    name: k.to_string(),
                    bare: false,
                });
            } else {
                let next = args.get(i + 1);
                let bare = match next {
                    Some(n) if !is_option(n) && n != "--" => {
                        add(name, n.clone());
                        i += 1;
                        false
                    }
                    // A bare flag: a boolean switched on (checked by `check_options`).
                    _ => {
                        add(name, "1".to_string());
                        true
                    }
                };
                dashed.push(Dashed {
                    typed: a.clone(),
                    name: name.to_string(),
                    bare,
                });
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
    Ok(Parsed {
        params: out,
        wait,
        dashed,
    })
}

/// The options given to an operation of the schema: a name it does not take is
/// `unknown option '--x'` (with the nearest parameter or global option), and only a
/// boolean may go without a value. Paths the schema does not know are left to the API.
pub fn check_options(
    schema: &ApiSchema,
    method: Method,
    path: &str,
    dashed: &[Dashed],
) -> Result<(), Failure> {
    let Ok((op, _)) = schema.operation(method.as_str(), path) else {
        return Ok(());
    };
    let props = op.info.parameters.properties.as_ref();
    let open = !op.info.parameters.forbids_additional_properties()
        && op.info.parameters.additional_properties.is_some();
    for d in dashed {
        match op.param(&d.name) {
            None if open => {}
            None => {
                let dashes = if d.typed.starts_with("--") { "--" } else { "-" };
                let candidates = props
                    .into_iter()
                    .flat_map(|m| m.keys().map(|k| format!("{dashes}{k}")))
                    .chain(
                        super::globals::GLOBAL_OPTIONS
                            .iter()
                            .map(|(long, _, _)| format!("--{long}")),
                    )
                    .chain(["--wait".to_string()]);
                let mut message = format!("unknown option '{}'", d.typed);
                if let Some(best) = nearest(&d.typed, candidates) {
                    message.push_str(&format!(" (did you mean '{best}'?)"));
                }
                message.push_str(&format!(
                    "; see `proxmox usage {} --command {}`",
                    display_path(path),
                    verb_of(method)
                ));
                return Err(usage(message));
            }
            Some(s) if d.bare && s.ty != Some(crate::schema::SchemaType::Boolean) => {
                return Err(usage(format!(
                    "{}: expected a value ({})",
                    d.typed,
                    allowed(s)
                )));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// The candidate closest to `typed`, if any is close enough to be a typo of it.
pub fn nearest(typed: &str, candidates: impl IntoIterator<Item = String>) -> Option<String> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(typed, &c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
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
        let Parsed {
            params: p,
            wait,
            dashed,
        } = parse_params(&s(&[
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
        let bare: Vec<&str> = dashed
            .iter()
            .filter(|d| d.bare)
            .map(|d| d.typed.as_str())
            .collect();
        assert_eq!(bare, ["--onboot"]);
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
    fn options_are_checked_against_the_operation() {
        let schema = crate::schema::bundled::load("9.2").unwrap();
        let path = api_path("/nodes/pve1/qemu");
        let check = |args: &[&str]| {
            let parsed = parse_params(&s(args)).unwrap();
            check_options(&schema, Method::Post, &path, &parsed.dashed)
        };
        let e = check(&["--vmid", "100", "--memroy", "2048"]).unwrap_err();
        assert!(
            e.message
                .starts_with("unknown option '--memroy' (did you mean '--memory'?)"),
            "{}",
            e.message
        );
        let e = check(&["--vmid", "100", "--name"]).unwrap_err();
        assert!(
            e.message.starts_with("--name: expected a value"),
            "{}",
            e.message
        );
        check(&["--vmid", "100", "--onboot", "-net0", "virtio"]).unwrap();
        let e = check(&["--zzzzzzzz", "1"]).unwrap_err();
        assert!(!e.message.contains("did you mean"), "{}", e.message);
    }

    #[test]
    fn paths() {
        assert_eq!(api_path("nodes/pve1/"), "/api2/json/nodes/pve1");
        assert_eq!(api_path("/api2/json/nodes"), "/api2/json/nodes");
        assert_eq!(api_path("/"), "/api2/json");
    }
}
