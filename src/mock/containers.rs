//! A new container as pve-container's `create_vm` makes it from an OS template: the checks
//! of `ostemplate` before the worker forks, the default root disk (`<storage>:4`), the
//! defaults it writes (`hostname`, `memory`, `swap`), and the OS type and architecture
//! detected from the template.

use serde_json::{json, Map, Value};

use super::store::MockState;
use super::volumes;
use crate::api::ApiError;

/// Template file name prefixes and the `ostype` PVE detects for them.
const OSTYPES: &[(&str, &str)] = &[
    ("debian", "debian"),
    ("devuan", "devuan"),
    ("ubuntu", "ubuntu"),
    ("centos", "centos"),
    ("rockylinux", "centos"),
    ("almalinux", "centos"),
    ("fedora", "fedora"),
    ("opensuse", "opensuse"),
    ("archlinux", "archlinux"),
    ("alpine", "alpine"),
    ("gentoo", "gentoo"),
    ("nixos", "nixos"),
];

/// The `ostype` of a template, from its file name (`unmanaged` for an unknown OS).
fn ostype_of(ostemplate: &str) -> &'static str {
    let name = ostemplate
        .rsplit('/')
        .next()
        .unwrap_or(ostemplate)
        .to_ascii_lowercase();
    OSTYPES
        .iter()
        .find(|(prefix, _)| name.starts_with(prefix))
        .map_or("unmanaged", |(_, t)| t)
}

/// The architecture a template is built for (`_amd64`, `_arm64`, ...; amd64 else).
fn arch_of(ostemplate: &str) -> &'static str {
    ["amd64", "arm64", "armhf", "riscv64", "i386"]
        .into_iter()
        .find(|a| ostemplate.contains(&format!("_{a}")) || ostemplate.contains(&format!("-{a}")))
        .unwrap_or("amd64")
}

/// The checks and defaults of a container create on `config` (the request's parameters):
/// `ostemplate` and `storage` are consumed, the root disk defaulted, the defaults written.
/// `Ok(Some(message))` is a create whose task fails (the template is not on its storage).
pub fn prepare_create(
    s: &MockState,
    vmid: &str,
    config: &mut Map<String, Value>,
) -> Result<Option<String>, ApiError> {
    let text = |v: Option<Value>| match v {
        Some(Value::String(s)) => Some(s),
        Some(Value::Null) | None => None,
        Some(other) => Some(other.to_string()),
    };
    let ostemplate = text(config.remove("ostemplate")).unwrap_or_default();
    let storage = text(config.remove("storage")).unwrap_or_else(|| "local".into());
    let restore = config.remove("restore").is_some_and(|v| super::is_set(&v));
    // A root disk given as a size goes on `storage`; none at all is 4 GiB there.
    for key in config
        .keys()
        .filter(|k| *k == "rootfs" || volumes::is_disk_key("lxc", k))
        .cloned()
        .collect::<Vec<_>>()
    {
        if let Some(v) = config.get(&key).and_then(Value::as_str) {
            let first = v.split(',').next().unwrap_or(v);
            if first.parse::<f64>().is_ok() {
                let value = format!("{storage}:{v}");
                config.insert(key, json!(value));
            }
        }
    }
    if !config.contains_key("rootfs") {
        if config
            .keys()
            .any(|k| k.starts_with("mp") && volumes::is_disk_key("lxc", k))
        {
            return Err(ApiError::new(
                500,
                "mount points configured, but 'rootfs' not set - aborting",
            ));
        }
        config.insert("rootfs".into(), json!(format!("{storage}:4")));
    }
    let missing = check_template(s, &ostemplate, restore)?;
    config
        .entry("hostname")
        .or_insert_with(|| json!(format!("CT{vmid}")));
    config.entry("memory").or_insert(json!(512));
    config.entry("swap").or_insert(json!(512));
    // "For creation, the default is 1" (the schema's `unprivileged`).
    if !restore {
        config.entry("unprivileged").or_insert(json!(1));
    }
    config
        .entry("ostype")
        .or_insert_with(|| json!(ostype_of(&ostemplate)));
    config
        .entry("arch")
        .or_insert_with(|| json!(arch_of(&ostemplate)));
    Ok(missing.map(|m| format!("unable to create CT {vmid} - {m}")))
}

/// PVE's checks of the OS template (or, with `restore`, the backup) before the worker forks;
/// `Ok(Some(message))` when the volume is not on its storage (the task then fails).
///
/// A storage that lists no volume of that content type at all is taken at its word that the
/// file is there (as fakepve does): tests that create containers from templates they never
/// uploaded keep working, and a mock that knows its templates refuses a missing one.
fn check_template(
    s: &MockState,
    ostemplate: &str,
    restore: bool,
) -> Result<Option<String>, ApiError> {
    let Some((storage, name)) = ostemplate.split_once(':') else {
        return Ok(None); // a path on the node (root only, which the access model checks)
    };
    let want = if restore { "backup" } else { "vztmpl" };
    if !s
        .members
        .get("storage")
        .is_some_and(|m| m.contains_key(storage))
    {
        return Err(ApiError::new(
            500,
            format!("storage '{storage}' does not exist"),
        ));
    }
    let kind = name.split('/').next().unwrap_or("");
    let known = [
        "iso", "vztmpl", "backup", "snippets", "import", "images", "rootdir",
    ];
    if !name.contains('/') || !known.contains(&kind) {
        return Err(ApiError::new(
            500,
            format!("unable to parse directory volume name '{name}'"),
        ));
    }
    if kind != want {
        return Err(ApiError::new(
            500,
            format!("unable to use volume {ostemplate} - content type needs to be '{want}'"),
        ));
    }
    let on_storage: Vec<&String> = s
        .members
        .iter()
        .filter(|(k, _)| {
            k.starts_with("nodes/") && k.ends_with(&format!("/storage/{storage}/content"))
        })
        .flat_map(|(_, m)| m.keys())
        .collect();
    let listed = on_storage.iter().any(|v| v.as_str() == ostemplate);
    let knows_kind = on_storage.iter().any(|v| {
        v.split_once(':')
            .is_some_and(|(_, n)| n.starts_with(&format!("{kind}/")))
    });
    Ok((!listed && knows_kind).then(|| format!("volume '{ostemplate}' does not exist")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_type_and_architecture_come_from_the_template_name() {
        assert_eq!(
            ostype_of("local:vztmpl/debian-12-standard_12.12-1_amd64.tar.zst"),
            "debian"
        );
        assert_eq!(
            ostype_of("local:vztmpl/rockylinux-9-default_20240912_amd64.tar.xz"),
            "centos"
        );
        assert_eq!(ostype_of("local:vztmpl/mything.tar.gz"), "unmanaged");
        assert_eq!(
            arch_of("local:vztmpl/alpine-3.22-default_20250617_arm64.tar.xz"),
            "arm64"
        );
        assert_eq!(arch_of("local:vztmpl/mything.tar.gz"), "amd64");
    }
}
