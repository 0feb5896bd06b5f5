//! `config add|list|show|remove|set-default`: named connection profiles (0600 file).

use serde_json::{json, Map, Value};

use super::super::args::ConfigAction;
use super::super::params::parse_params;
use super::super::{print_value, profiles, usage, Ctx, Failure};
use crate::backend::options::ClientOptions;

/// `config ACTION`.
pub fn cmd_config(ctx: &Ctx, action: ConfigAction) -> Result<(), Failure> {
    let mut store = profiles::Profiles::load().map_err(usage)?;
    match action {
        ConfigAction::Add { name, settings } => {
            let params = parse_params(&settings)?.params;
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
                p.insert(k.replace('-', "_"), v);
            }
            // The same options the SDK takes: an unknown or malformed one is refused now,
            // not when the profile is used.
            ClientOptions::from_json(Value::Object(p.clone()))
                .map_err(|e| usage(format!("config add: {e}")))?;
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
