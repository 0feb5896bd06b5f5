//! The global options: anywhere on the line (`--output json` after the path works), or
//! from `PROXMOX_CLI_*` environment variables.

use super::{usage, Failure};

/// Global options (anywhere on the line; `PROXMOX_CLI_*` environment variables too).
#[derive(Debug, Default, Clone)]
pub struct Globals {
    /// `-b/--backend`.
    pub backend: Option<String>,
    /// `-H/--host`.
    pub host: Option<String>,
    /// `-U/--user`.
    pub user: Option<String>,
    /// `-P/--password`; `Some("")` asks for it on the terminal.
    pub password: Option<String>,
    /// `--token-name`.
    pub token_name: Option<String>,
    /// `--token-value`.
    pub token_value: Option<String>,
    /// `--port`.
    pub port: Option<String>,
    /// `-S/--service`.
    pub service: Option<String>,
    /// `--profile`.
    pub profile: Option<String>,
    /// `--insecure`.
    pub insecure: bool,
    /// `--fingerprint`.
    pub fingerprint: Option<String>,
    /// `-o/--output` (`--output-format` as pvesh spells it; `--json`, `--yaml`).
    pub output: Option<String>,
    /// `--schema-version`.
    pub schema_version: Option<String>,
    /// `--noborder`: tables without the rule under the header (pvesh's flag).
    pub noborder: bool,
    /// `--noheader`: tables without the header row (pvesh's flag).
    pub noheader: bool,
    /// `-v/--verbose`: each request and its timing on stderr.
    pub verbose: bool,
    /// `-q/--quiet`: no task log or progress on stderr.
    pub quiet: bool,
    /// `--state-file`: the no-host mock's state, loaded before and saved after a command.
    pub state_file: Option<String>,
}

/// `(long, short, takes a value)` of each global option.
pub const GLOBAL_OPTIONS: &[(&str, Option<char>, bool)] = &[
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
    ("output-format", None, true),
    ("json", None, false),
    ("yaml", None, false),
    ("noborder", None, false),
    ("noheader", None, false),
    ("verbose", Some('v'), false),
    ("quiet", Some('q'), false),
    ("schema-version", None, true),
    ("state-file", None, true),
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
            "output" | "output-format" => self.output = v,
            "json" => self.output = Some("json-pretty".into()),
            "yaml" => self.output = Some("yaml".into()),
            "noborder" => self.noborder = true,
            "noheader" => self.noheader = true,
            "verbose" => self.verbose = true,
            "quiet" => self.quiet = true,
            "schema-version" => self.schema_version = v,
            "state-file" => self.state_file = v,
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
            state_file: env("STATE_FILE").or_else(|| {
                std::env::var("PROXMOX_MOCK_STATE_FILE")
                    .ok()
                    .filter(|v| !v.is_empty())
            }),
            ..Globals::default()
        }
    }
}

/// Takes the global options out of `args` wherever they are (`--long v`, `--long=v`,
/// `-X v`); everything else stays in order. `--` ends option scanning.
#[allow(clippy::many_single_char_names)] // g(lobals), i, a(rg), n(ame), v(alue): a scanner
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
                    let value = args
                        .get(i)
                        .filter(|v| !is_option(v))
                        .cloned()
                        .ok_or_else(|| usage(format!("--{name}: expected a value")))?;
                    Some(value)
                };
                g.set(name, value);
            }
            None => rest.push(a.clone()),
        }
        i += 1;
    }
    Ok((g, rest))
}

/// Whether `arg` looks like an option (`-x`, `--name`) rather than a value; negative
/// numbers are values.
pub fn is_option(arg: &str) -> bool {
    arg.len() > 1 && arg.starts_with('-') && arg != "--" && arg.parse::<f64>().is_err()
}

/// Every command name.
pub const SUBCOMMANDS: &[&str] = &[
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
    "tui",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(std::string::ToString::to_string).collect()
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
}
