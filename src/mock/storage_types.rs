//! The storage types of storage.cfg and what each takes, from the plugins' `options()` and
//! `plugindata()` in pve-storage (`src/PVE/Storage/*Plugin.pm`): a storage is created and
//! updated as `PVE::SectionConfig::check_config` checks it (`unexpected property 'x'`,
//! `missing value for required option 'path'`, `can't change value of fixed parameter`),
//! gets its type's default `content`, and never keeps a secret in its entry (PVE writes
//! passwords and keys to `/etc/pve/priv/`).

use serde_json::{json, Map, Value};

use crate::api::ApiError;

/// Options every file-based storage takes besides its own.
const FILE_COMMON: &str = "content-dirs nodes disable prune-backups max-protected-backups content format mkdir create-base-path create-subdirs bwlimit preallocation snapshot-as-volume-chain^";

/// Secrets a storage is given but not kept in storage.cfg.
const SECRETS: &[&str] = &["password", "keyring", "encryption-key", "master-pubkey"];

/// Whether a storage parameter is a secret PVE keeps out of storage.cfg.
pub fn is_secret(key: &str) -> bool {
    SECRETS.contains(&key)
}

/// A storage type: its options (`name` optional, `name!` required and fixed, `name^`
/// optional and fixed) and its default content.
struct StorageType {
    name: &'static str,
    options: &'static str,
    common: bool,
    default_content: &'static str,
}

const TYPES: &[StorageType] = &[
    StorageType { name: "dir", options: "path! shared is_mountpoint", common: true, default_content: "images,rootdir" },
    StorageType { name: "nfs", options: "path! server! export! options", common: true, default_content: "images" },
    StorageType {
        name: "cifs",
        options: "path! server! share! subdir username password domain smbversion options",
        common: true,
        default_content: "images",
    },
    StorageType {
        name: "cephfs",
        options: "path! monhost subdir options username fuse keyring fs-name content-dirs nodes disable content format mkdir create-base-path create-subdirs bwlimit prune-backups max-protected-backups",
        common: false,
        default_content: "backup",
    },
    StorageType {
        name: "btrfs",
        options: "path! nodes shared disable prune-backups max-protected-backups content format is_mountpoint nocow mkdir create-base-path create-subdirs preallocation",
        common: false,
        default_content: "images,rootdir",
    },
    StorageType {
        name: "lvm",
        options: "vgname! nodes shared disable saferemove on-volume-remove saferemove-stepsize saferemove_throughput content base^ tagged_only bwlimit snapshot-as-volume-chain",
        common: false,
        default_content: "images",
    },
    StorageType { name: "lvmthin", options: "thinpool! vgname! nodes disable content bwlimit", common: false, default_content: "images,rootdir" },
    StorageType {
        name: "zfspool",
        options: "pool! blocksize sparse nodes disable content bwlimit mountpoint",
        common: false,
        default_content: "images,rootdir",
    },
    StorageType {
        name: "rbd",
        options: "nodes disable monhost pool data-pool namespace username content krbd keyring bwlimit",
        common: false,
        default_content: "images",
    },
    StorageType { name: "iscsi", options: "portal! target! nodes disable content bwlimit", common: false, default_content: "images" },
    StorageType { name: "iscsidirect", options: "portal! target! nodes disable content bwlimit", common: false, default_content: "images" },
    StorageType {
        name: "zfs",
        options: "nodes disable portal! target! pool! blocksize! iscsiprovider! nowritecache sparse comstar_hg comstar_tg lio_tpg content bwlimit zfs-base-path",
        common: false,
        default_content: "images",
    },
    StorageType {
        name: "pbs",
        options: "server! datastore! namespace port nodes disable content username password encryption-key master-pubkey prune-backups max-protected-backups fingerprint",
        common: false,
        default_content: "backup",
    },
];

/// (optional, fixed) of `key` for the type, `None` if the type does not take it.
fn option(t: &StorageType, key: &str) -> Option<(bool, bool)> {
    let common = if t.common { FILE_COMMON } else { "" };
    t.options
        .split_whitespace()
        .chain(common.split_whitespace())
        .find(|o| o.trim_end_matches(['!', '^']) == key)
        .map(|o| (!o.ends_with('!'), o.ends_with('!') || o.ends_with('^')))
}

fn required(t: &StorageType) -> impl Iterator<Item = &'static str> {
    t.options
        .split_whitespace()
        .filter_map(|o| o.strip_suffix('!'))
}

fn lookup(name: &str) -> Option<&'static StorageType> {
    TYPES.iter().find(|t| t.name == name)
}

fn die(message: String) -> ApiError {
    ApiError::new(500, message)
}

/// `config` of a new storage `id` checked as `check_config($storeid, $param, 1)` checks it,
/// with the type's defaults filled in and secrets taken out. A type this table does not
/// know (one only a newer PVE has) is left as it is.
pub fn check_create(id: &str, config: &mut Map<String, Value>) -> Result<(), ApiError> {
    let Some(t) = config.get("type").and_then(Value::as_str).and_then(lookup) else {
        return Ok(());
    };
    for secret in SECRETS {
        config.remove(*secret);
    }
    if matches!(t.name, "nfs" | "cifs" | "cephfs") && !config.contains_key("path") {
        config.insert("path".into(), json!(format!("/mnt/pve/{id}")));
    }
    if let Some(key) = config
        .keys()
        .find(|k| *k != "type" && option(t, k).is_none())
    {
        return Err(die(format!("unexpected property '{key}'")));
    }
    if let Some(key) = required(t).find(|k| !config.contains_key(*k)) {
        return Err(die(format!("missing value for required option '{key}'")));
    }
    if t.name == "dir" {
        let path = config
            .get("path")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        let legal = path.starts_with('/')
            && path.len() > 1
            && path
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-/_.@".contains(&b));
        if !legal {
            return Err(die(format!("illegal path for directory storage: {path}")));
        }
    }
    config
        .entry("content")
        .or_insert_with(|| json!(t.default_content));
    Ok(())
}

/// A change of storage `stored` (its entry) checked as `check_config($storeid, $param, 0)`
/// and the `delete` rules check it; secrets are taken out. Messages without the
/// `update storage failed: ` prefix (the caller adds it).
pub fn check_update(
    stored: &Map<String, Value>,
    params: &mut Map<String, Value>,
    deletes: &[String],
) -> Result<(), String> {
    let Some(t) = stored.get("type").and_then(Value::as_str).and_then(lookup) else {
        return Ok(());
    };
    for secret in SECRETS {
        params.remove(*secret);
    }
    for key in params.keys() {
        match option(t, key) {
            None => return Err(format!("unexpected property '{key}'")),
            Some((_, true)) => {
                return Err(format!("can't change value of fixed parameter '{key}'"))
            }
            Some(_) => {}
        }
    }
    for key in deletes {
        match option(t, key) {
            None => return Err(format!("no such option '{key}'")),
            Some((false, _)) => return Err(format!("unable to delete required option '{key}'")),
            Some((true, true)) => return Err(format!("unable to delete fixed option '{key}'")),
            Some(_) if params.contains_key(key) => {
                return Err(format!(
                    "cannot set and delete property '{key}' at the same time!"
                ))
            }
            Some(_) => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn a_new_storage_is_checked_and_defaulted_by_its_type() {
        let mut c = map(json!({"type": "dir", "path": "/srv/x"}));
        check_create("x", &mut c).unwrap();
        assert_eq!(c["content"], "images,rootdir");
        let mut c = map(json!({"type": "dir"}));
        assert_eq!(
            check_create("x", &mut c).unwrap_err().message,
            "missing value for required option 'path'"
        );
        let mut c =
            map(json!({"type": "lvmthin", "vgname": "pve", "thinpool": "data", "path": "/x"}));
        assert_eq!(
            check_create("x", &mut c).unwrap_err().message,
            "unexpected property 'path'"
        );
        let mut c = map(json!({"type": "nfs", "server": "10.0.0.1", "export": "/e"}));
        check_create("n1", &mut c).unwrap();
        assert_eq!(c["path"], "/mnt/pve/n1");
        let mut c =
            map(json!({"type": "pbs", "server": "b", "datastore": "d", "password": "secret"}));
        check_create("b", &mut c).unwrap();
        assert!(!c.contains_key("password"));
        let mut c = map(json!({"type": "dir", "path": "relative"}));
        assert_eq!(
            check_create("x", &mut c).unwrap_err().message,
            "illegal path for directory storage: relative"
        );
    }

    #[test]
    fn an_update_keeps_to_what_the_type_allows() {
        let stored = map(json!({"type": "lvmthin", "vgname": "pve", "thinpool": "data"}));
        let mut p = map(json!({"vgname": "other"}));
        assert_eq!(
            check_update(&stored, &mut p, &[]).unwrap_err(),
            "can't change value of fixed parameter 'vgname'"
        );
        let mut p = Map::new();
        assert_eq!(
            check_update(&stored, &mut p, &["thinpool".into()]).unwrap_err(),
            "unable to delete required option 'thinpool'"
        );
        let mut p = map(json!({"bwlimit": "default=10"}));
        assert_eq!(
            check_update(&stored, &mut p, &["bwlimit".into()]).unwrap_err(),
            "cannot set and delete property 'bwlimit' at the same time!"
        );
        let mut p = map(json!({"disable": 1}));
        check_update(&stored, &mut p, &["nodes".into()]).unwrap();
    }
}
