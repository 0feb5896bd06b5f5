//! Shell completion: the scripts for bash, zsh and fish, and the candidates they ask for
//! (commands, API paths from the schema, parameter names).

use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use serde_json::{Map, Value};

use super::super::globals::{split_globals, Globals, GLOBAL_OPTIONS, SUBCOMMANDS};
use super::super::output::FORMAT_NAMES;
use super::super::params::api_path;
use super::super::{connect, usage, Failure};
use super::ls::children;
use crate::api::Method;
use crate::schema::ApiSchema;

/// How long live candidates (node names, vmids) are reused before asking again.
const CACHE_TTL: Duration = Duration::from_secs(60);

/// `__complete WORDS...`: candidates for the last word, with the global options found in
/// the others (they choose the schema and the connection). Live candidates (node names,
/// vmids, storage ids: the members of the list a `{placeholder}` stands for) come from
/// the connection the line would use, cached for a minute; never with a password prompt.
pub fn run_complete(words: &[String]) -> Vec<String> {
    let (current, before) = match words.split_last() {
        Some((c, b)) => (c.as_str(), b),
        None => ("", &[][..]),
    };
    if let Some(prev) = before.last() {
        if matches!(prev.as_str(), "-o" | "--output" | "--output-format") {
            return FORMAT_NAMES
                .iter()
                .filter(|f| f.starts_with(current))
                .map(ToString::to_string)
                .collect();
        }
    }
    let (globals, mut rest) = split_globals(before).unwrap_or_default();
    let version = globals.schema_version.as_deref().unwrap_or("latest");
    let product = globals
        .service
        .as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or(crate::schema::Product::Pve);
    let Ok(schema) = crate::schema::bundled::load_of(product, version) else {
        return Vec::new();
    };
    rest.push(current.to_string());
    let mut out = complete(&schema, &rest);
    if let Some((parent, partial)) = current.rsplit_once('/') {
        // What the parent offers with nothing typed yet: a `{placeholder}` stands for the
        // members of the list at the parent.
        let last = rest.len() - 1;
        rest[last] = format!("{parent}/");
        let at_parent = complete(&schema, &rest);
        if let Some(placeholder) = at_parent.into_iter().find(|c| c.ends_with('}')) {
            out.retain(|c| *c != placeholder);
            let seg = placeholder.rsplit_once('/').map_or("", |(_, s)| s);
            let field = seg.trim_start_matches('{').trim_end_matches('}');
            let live: Vec<String> = members(&globals, &schema, parent, field)
                .into_iter()
                .filter(|m| m.starts_with(partial))
                .map(|m| format!("{parent}/{m}"))
                .collect();
            if live.is_empty() && partial.is_empty() {
                out.push(placeholder);
            }
            out.extend(live);
        }
    }
    if current.starts_with("--") {
        let globals: Vec<String> = GLOBAL_OPTIONS
            .iter()
            .map(|(long, _, _)| format!("--{long}"))
            .filter(|o| o.starts_with(current) && !out.contains(o))
            .collect();
        out.extend(globals);
    }
    out
}

/// The `field` of each member of the list at `parent` (`node` of `/nodes`, `vmid` of
/// `/nodes/pve1/qemu`), from the cache or the connection.
fn members(globals: &Globals, schema: &ApiSchema, parent: &str, field: &str) -> Vec<String> {
    if globals.password.as_deref() == Some("") {
        return Vec::new(); // it would prompt
    }
    let path = api_path(parent);
    if schema.operation(Method::Get.as_str(), &path).is_err() {
        return Vec::new();
    }
    let key = cache_key(globals, &path);
    if let Some(hit) = cache_read(&key) {
        return hit;
    }
    let Ok(mut options) = connect::options(globals, schema.version()) else {
        return Vec::new();
    };
    options.timeout = Some(crate::backend::options::Seconds::new(3.0));
    options.connect_timeout = Some(crate::backend::options::Seconds::new(2.0));
    let Ok(client) = crate::client::Client::connect(&options) else {
        return Vec::new();
    };
    let Ok(Value::Array(items)) = client.call(Method::Get, &path, Map::new()) else {
        return Vec::new();
    };
    let mut found: Vec<String> = items
        .iter()
        .filter_map(|i| match i.get(field)? {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect();
    found.sort();
    found.dedup();
    cache_write(&key, &found);
    found
}

/// Which connection and path a cached answer is for (no secret is part of the key).
fn cache_key(g: &Globals, path: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (
        &g.backend,
        &g.host,
        &g.port,
        &g.user,
        &g.token_name,
        &g.service,
        &g.profile,
        &g.schema_version,
        std::env::var("PROXMOX_MOCK_DATA_PATH").ok(),
        &g.state_file,
        path,
    )
        .hash(&mut h);
    format!("{:016x}", h.finish())
}

fn cache_dir() -> Option<PathBuf> {
    super::super::profiles::xdg_dir("XDG_CACHE_HOME", ".cache")
        .map(|b| b.join("proxmox-sdk").join("completion"))
}

fn cache_read(key: &str) -> Option<Vec<String>> {
    let file = cache_dir()?.join(key);
    let age = file.metadata().ok()?.modified().ok()?;
    if SystemTime::now().duration_since(age).ok()? > CACHE_TTL {
        return None;
    }
    serde_json::from_slice(&std::fs::read(file).ok()?).ok()
}

fn cache_write(key: &str, members: &[String]) {
    let Some(dir) = cache_dir() else { return };
    if std::fs::create_dir_all(&dir).is_ok() {
        let _ = std::fs::write(
            dir.join(key),
            serde_json::to_vec(members).unwrap_or_default(),
        );
    }
}

const PATH_COMMANDS: &[&str] = &["ls", "get", "create", "set", "delete", "usage"];

/// Completion candidates for a partial command line (`words` after the program name, the
/// last one being completed).
pub fn complete(schema: &ApiSchema, words: &[String]) -> Vec<String> {
    let current = words.last().map_or("", String::as_str);
    let before = &words[..words.len().saturating_sub(1)];
    let cmd_pos = before
        .iter()
        .position(|w| SUBCOMMANDS.contains(&w.as_str()));
    let Some(cmd_pos) = cmd_pos else {
        return SUBCOMMANDS
            .iter()
            .filter(|c| c.starts_with(current))
            .map(std::string::ToString::to_string)
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

/// The completion script of `shell` for program `prog`.
pub fn completion_script(shell: &str, prog: &str) -> Result<String, Failure> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(std::string::ToString::to_string).collect()
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
}
