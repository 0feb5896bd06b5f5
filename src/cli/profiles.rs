//! CLI profiles: named connection settings in a user config file written with mode 0600
//! (`$PROXMOX_CLI_CONFIG`, else `~/.config/proxmox-sdk/cli.json`). The original package's
//! `~/.proxmox-cli/config.json` is read when ours does not exist yet.

use std::io::Write;
use std::path::PathBuf;

use serde_json::{json, Map, Value};

/// Keys a profile may hold (the connection options of the CLI).
pub const KEYS: &[&str] = &[
    "backend",
    "host",
    "port",
    "user",
    "password",
    "token_name",
    "token_value",
    "service",
    "verify_ssl",
    "fingerprint",
    "private_key_file",
    "known_hosts_file",
    "host_key_fingerprint",
    "schema_version",
    "timeout",
];

/// Keys whose values are never printed.
pub const SECRETS: &[&str] = &["password", "token_value"];

fn home() -> Option<PathBuf> {
    std::env::var_os("HOME").map(PathBuf::from)
}

/// An XDG base directory: `$var`, else `$HOME/<fallback>` (`.config`, `.cache`).
pub fn xdg_dir(var: &str, fallback: &str) -> Option<PathBuf> {
    std::env::var_os(var)
        .map(PathBuf::from)
        .or_else(|| home().map(|h| h.join(fallback)))
}

/// Where profiles are written.
pub fn path() -> PathBuf {
    if let Some(p) = std::env::var_os("PROXMOX_CLI_CONFIG") {
        return PathBuf::from(p);
    }
    let base = xdg_dir("XDG_CONFIG_HOME", ".config").unwrap_or_else(|| PathBuf::from("."));
    base.join("proxmox-sdk").join("cli.json")
}

/// The original package's file.
fn legacy_path() -> Option<PathBuf> {
    home().map(|h| h.join(".proxmox-cli").join("config.json"))
}

/// The profiles file: `{"default": name, "profiles": {name: {...}}}`.
#[derive(Debug, Clone, Default)]
pub struct Profiles {
    /// The default profile's name.
    pub default: Option<String>,
    /// Profiles by name.
    pub profiles: Map<String, Value>,
}

impl Profiles {
    /// Reads ours, else the original's, else nothing.
    pub fn load() -> Result<Profiles, String> {
        let ours = path();
        let file = if ours.exists() {
            ours
        } else if let Some(legacy) = legacy_path().filter(|p| p.exists()) {
            legacy
        } else {
            return Ok(Profiles::default());
        };
        let text =
            std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display()))?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| format!("{}: invalid JSON: {e}", file.display()))?;
        let Value::Object(mut top) = v else {
            return Err(format!("{}: expected a JSON object", file.display()));
        };
        let default = top
            .remove("default")
            .or_else(|| top.remove("default_profile"))
            .and_then(|d| d.as_str().map(str::to_string));
        let profiles = match top.remove("profiles") {
            Some(Value::Object(p)) => p,
            // The original kept profiles at the top level.
            _ => top.into_iter().filter(|(_, v)| v.is_object()).collect(),
        };
        Ok(Profiles { default, profiles })
    }

    /// Writes our file with mode 0600 (created so; never world-readable in between).
    pub fn save(&self) -> Result<PathBuf, String> {
        let file = path();
        if let Some(dir) = file.parent() {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let body = json!({"default": self.default, "profiles": self.profiles});
        let tmp = file.with_extension("json.tmp");
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let mut f = opts
            .open(&tmp)
            .map_err(|e| format!("{}: {e}", tmp.display()))?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let _ = f.set_permissions(std::fs::Permissions::from_mode(0o600));
        }
        f.write_all(
            serde_json::to_string_pretty(&body)
                .unwrap_or_default()
                .as_bytes(),
        )
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
        std::fs::rename(&tmp, &file).map_err(|e| format!("{}: {e}", file.display()))?;
        Ok(file)
    }

    /// The profile `name` (or the default one when `name` is `None`).
    pub fn get(&self, name: Option<&str>) -> Result<Option<&Map<String, Value>>, String> {
        let Some(name) = name.or(self.default.as_deref()) else {
            return Ok(None);
        };
        match self.profiles.get(name) {
            Some(Value::Object(p)) => Ok(Some(p)),
            _ => Err(format!(
                "--profile: no profile '{name}'; known: {}",
                if self.profiles.is_empty() {
                    "(none; add one with `proxmox config add NAME ...`)".to_string()
                } else {
                    self.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
                }
            )),
        }
    }
}

/// A profile with its secrets replaced.
pub fn redacted(p: &Map<String, Value>) -> Value {
    Value::Object(
        p.iter()
            .map(|(k, v)| {
                if SECRETS.contains(&k.as_str()) && !v.is_null() {
                    (k.clone(), json!("********"))
                } else {
                    (k.clone(), v.clone())
                }
            })
            .collect(),
    )
}
