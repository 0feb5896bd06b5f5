//! Which connection a command uses. A profile applies as a whole or not at all, so that
//! no saved secret is ever sent to a host it was not saved for:
//! - no connection option given (flags or `PROXMOX_CLI_*`): the named profile, else the
//!   default profile, else the in-memory mock;
//! - `--profile NAME` with options: they refine the profile only when it is for the same
//!   host (`-H` absent or equal to the profile's host); otherwise a usage error;
//! - options without `--profile`: those options alone (no profile's secrets), unless no
//!   host is given and a default profile exists, which is a usage error rather than a
//!   silent mix.

use std::io::{IsTerminal, Write};

use serde_json::{Map, Value};

use super::globals::Globals;
use super::profiles::Profiles;
use super::{usage, Failure};
use crate::backend::options::ClientOptions;
use crate::client::Client;

/// The connection options given explicitly (flags or environment), as profile keys.
fn explicit(g: &Globals) -> Map<String, Value> {
    let mut m = Map::new();
    let mut put = |k: &str, v: &Option<String>| {
        if let Some(v) = v {
            m.insert(k.to_string(), Value::String(v.clone()));
        }
    };
    put("backend", &g.backend);
    put("host", &g.host);
    put("port", &g.port);
    put("user", &g.user);
    put("password", &g.password);
    put("token_name", &g.token_name);
    put("token_value", &g.token_value);
    put("service", &g.service);
    put("fingerprint", &g.fingerprint);
    if g.insecure {
        m.insert("verify_ssl".into(), Value::Bool(false));
    }
    m
}

/// The names of explicit options, for messages (`-H/--host, -U/--user`).
fn flag_names(m: &Map<String, Value>) -> String {
    m.keys()
        .map(|k| match k.as_str() {
            "host" => "-H/--host".to_string(),
            "user" => "-U/--user".to_string(),
            "password" => "-P/--password".to_string(),
            "backend" => "-b/--backend".to_string(),
            "service" => "-S/--service".to_string(),
            "verify_ssl" => "--insecure".to_string(),
            other => format!("--{}", other.replace('_', "-")),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The options a command connects with (see the module's rules).
pub fn options(g: &Globals, schema_version: &str) -> Result<ClientOptions, Failure> {
    let given = explicit(g);
    let store = Profiles::load().map_err(usage)?;
    let named = g.profile.is_some();
    let profile = store.get(g.profile.as_deref()).map_err(usage)?;
    let profile_name = g
        .profile
        .clone()
        .or_else(|| store.default.clone())
        .unwrap_or_default();
    let mut merged: Map<String, Value> = match (profile, given.is_empty()) {
        (Some(p), true) => p.clone(),
        (Some(p), false) if named => {
            let p = p.clone();
            let theirs = p.get("host").and_then(Value::as_str);
            if let (Some(mine), Some(theirs)) = (g.host.as_deref(), theirs) {
                if mine != theirs {
                    return Err(usage(format!(
                        "--profile {profile_name} is for host '{theirs}', not '{mine}': give the \
                         options for '{mine}' without the profile, or drop -H/--host"
                    )));
                }
            }
            let mut p = p;
            p.extend(given.clone());
            p
        }
        (Some(_), false) if g.host.is_none() => {
            return Err(usage(format!(
                "{} given without a host while the default profile '{profile_name}' is set: \
                 name it (--profile {profile_name}) to combine them, or give -H/--host",
                flag_names(&given)
            )));
        }
        _ => given.clone(),
    };
    if merged.get("password").and_then(Value::as_str) == Some("") {
        merged.insert("password".into(), Value::String(prompt_password()?));
    }
    let no_host = merged.get("host").is_none_or(|h| h == "");
    if no_host && !merged.contains_key("backend") {
        // Without a host there is nothing to reach but the mock.
        merged.insert("backend".into(), Value::String("mock".into()));
    }
    merged.insert(
        "schema_version".into(),
        Value::String(schema_version.to_string()),
    );
    merged
        .entry("mock_namespace")
        .or_insert_with(|| Value::String("cli".into()));
    ClientOptions::from_json(Value::Object(merged)).map_err(usage)
}

/// The client a command uses.
pub fn client(g: &Globals, schema_version: &str) -> Result<Client, Failure> {
    Client::connect(&options(g, schema_version)?).map_err(usage)
}

fn prompt_password() -> Result<String, Failure> {
    read_secret("Password: ").map_err(|e| usage(format!("--password: cannot read it: {e}")))
}

/// Reads a line from the terminal without echo (stty), or from stdin when not a terminal.
fn read_secret(prompt: &str) -> std::io::Result<String> {
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
