//! Shell completion: the scripts for bash, zsh and fish, and the candidates they ask for
//! (commands, API paths from the schema, parameter names).

use super::super::globals::SUBCOMMANDS;
use super::super::params::api_path;
use super::super::{usage, Failure};
use super::ls::children;
use crate::schema::ApiSchema;

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
