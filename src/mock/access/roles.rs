//! Roles and privileges as PVE 9 defines them, and what a user or token holds on a path:
//! PVE's `AccessControl::roles` (the most specific ACL level wins; at one level token
//! entries beat user entries, user entries beat group entries; `propagate=0` entries apply
//! only to their own path; `NoAccess` overrides all), plus the pool a guest or storage is in.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use crate::mock::store::MockState;
use crate::schema::Product;

/// Every privilege of PVE 9.
pub const PRIVILEGES: &[&str] = &[
    "Datastore.Allocate",
    "Datastore.AllocateSpace",
    "Datastore.AllocateTemplate",
    "Datastore.Audit",
    "Group.Allocate",
    "Mapping.Audit",
    "Mapping.Modify",
    "Mapping.Use",
    "Permissions.Modify",
    "Pool.Allocate",
    "Pool.Audit",
    "Realm.Allocate",
    "Realm.AllocateUser",
    "SDN.Allocate",
    "SDN.Audit",
    "SDN.Use",
    "Sys.AccessNetwork",
    "Sys.Audit",
    "Sys.Console",
    "Sys.Incoming",
    "Sys.Modify",
    "Sys.PowerMgmt",
    "Sys.Syslog",
    "User.Modify",
    "VM.Allocate",
    "VM.Audit",
    "VM.Backup",
    "VM.Clone",
    "VM.Config.CDROM",
    "VM.Config.CPU",
    "VM.Config.Cloudinit",
    "VM.Config.Disk",
    "VM.Config.HWType",
    "VM.Config.Memory",
    "VM.Config.Network",
    "VM.Config.Options",
    "VM.Console",
    "VM.GuestAgent.Audit",
    "VM.GuestAgent.FileRead",
    "VM.GuestAgent.FileSystemMgmt",
    "VM.GuestAgent.FileWrite",
    "VM.GuestAgent.Unrestricted",
    "VM.Migrate",
    "VM.PowerMgmt",
    "VM.Replicate",
    "VM.Snapshot",
    "VM.Snapshot.Rollback",
];

/// PVE's privilege groups: the `PVE<cat>Admin`, `PVE<cat>User`, `PVEAdmin` and `PVEAuditor`
/// roles are made from them (`root` privileges belong to `Administrator` only).
struct PrivGroup {
    cat: &'static str,
    root: &'static [&'static str],
    admin: &'static [&'static str],
    user: &'static [&'static str],
    audit: &'static [&'static str],
}

const GROUPS: &[PrivGroup] = &[
    PrivGroup {
        cat: "VM",
        root: &[],
        admin: &[
            "VM.Config.Disk",
            "VM.Config.CPU",
            "VM.Config.Memory",
            "VM.Config.Network",
            "VM.Config.HWType",
            "VM.Config.Options",
            "VM.Allocate",
            "VM.Clone",
            "VM.Migrate",
            "VM.Replicate",
            "VM.Snapshot",
            "VM.Snapshot.Rollback",
            "VM.GuestAgent.FileRead",
            "VM.GuestAgent.FileWrite",
            "VM.GuestAgent.FileSystemMgmt",
            "VM.GuestAgent.Unrestricted",
        ],
        user: &[
            "VM.Config.CDROM",
            "VM.Config.Cloudinit",
            "VM.Console",
            "VM.Backup",
            "VM.PowerMgmt",
        ],
        audit: &["VM.Audit", "VM.GuestAgent.Audit"],
    },
    PrivGroup {
        cat: "Sys",
        root: &[
            "Sys.PowerMgmt",
            "Sys.Modify",
            "Sys.Incoming",
            "Sys.AccessNetwork",
        ],
        admin: &["Sys.Console", "Sys.Syslog"],
        user: &[],
        audit: &["Sys.Audit"],
    },
    PrivGroup {
        cat: "Datastore",
        root: &[],
        admin: &["Datastore.Allocate", "Datastore.AllocateTemplate"],
        user: &["Datastore.AllocateSpace"],
        audit: &["Datastore.Audit"],
    },
    PrivGroup {
        cat: "SDN",
        root: &[],
        admin: &["SDN.Allocate", "SDN.Audit"],
        user: &["SDN.Use"],
        audit: &["SDN.Audit"],
    },
    PrivGroup {
        cat: "User",
        root: &["Realm.Allocate"],
        admin: &["User.Modify", "Group.Allocate", "Realm.AllocateUser"],
        user: &[],
        audit: &[],
    },
    PrivGroup {
        cat: "Pool",
        root: &[],
        admin: &["Pool.Allocate"],
        user: &[],
        audit: &["Pool.Audit"],
    },
    PrivGroup {
        cat: "Mapping",
        root: &[],
        admin: &["Mapping.Modify"],
        user: &["Mapping.Use"],
        audit: &["Mapping.Audit"],
    },
];

/// A set of privileges.
pub type Privs = BTreeSet<&'static str>;

/// The built-in roles with their privileges, by name (PVE calls them special).
pub fn builtin_roles() -> &'static BTreeMap<&'static str, Privs> {
    static ROLES: std::sync::OnceLock<BTreeMap<&'static str, Privs>> = std::sync::OnceLock::new();
    ROLES.get_or_init(|| {
        let mut roles: BTreeMap<&'static str, Privs> = BTreeMap::new();
        roles.insert("Administrator", PRIVILEGES.iter().copied().collect());
        roles.insert("NoAccess", Privs::new());
        let names: &'static [(&str, &str, &str)] = &[
            ("VM", "PVEVMAdmin", "PVEVMUser"),
            ("Sys", "PVESysAdmin", ""),
            ("Datastore", "PVEDatastoreAdmin", "PVEDatastoreUser"),
            ("SDN", "PVESDNAdmin", "PVESDNUser"),
            ("User", "PVEUserAdmin", ""),
            ("Pool", "PVEPoolAdmin", ""),
            ("Mapping", "PVEMappingAdmin", "PVEMappingUser"),
        ];
        for g in GROUPS {
            let (_, admin_name, user_name) = names
                .iter()
                .find(|(c, _, _)| *c == g.cat)
                .copied()
                .unwrap_or_default();
            let below_root = g.admin.iter().chain(g.user).chain(g.audit).copied();
            roles
                .entry(admin_name)
                .or_default()
                .extend(below_root.clone());
            roles.entry("PVEAdmin").or_default().extend(below_root);
            if !g.user.is_empty() && !user_name.is_empty() {
                roles
                    .entry(user_name)
                    .or_default()
                    .extend(g.user.iter().chain(g.audit).copied());
            }
            roles
                .entry("PVEAuditor")
                .or_default()
                .extend(g.audit.iter().copied());
            debug_assert!(g.root.iter().all(|p| PRIVILEGES.contains(p)));
        }
        roles.insert(
            "PVETemplateUser",
            ["VM.Audit", "VM.Clone"].into_iter().collect(),
        );
        roles.insert("PVEPoolUser", ["Pool.Audit"].into_iter().collect());
        roles
    })
}

/// Every privilege of `product`.
pub fn privileges_of(product: Product) -> &'static [&'static str] {
    match product {
        Product::Pve => PRIVILEGES,
        Product::Pbs => super::products::PBS_PRIVILEGES,
        Product::Pdm => super::products::PDM_PRIVILEGES,
        Product::Pmg => &[],
    }
}

/// The built-in roles of `product` (PMG has none: its users carry a role each).
pub fn builtin_roles_of(product: Product) -> &'static BTreeMap<&'static str, Privs> {
    static NONE: BTreeMap<&'static str, Privs> = BTreeMap::new();
    match product {
        Product::Pve => builtin_roles(),
        Product::Pbs => super::products::pbs_roles(),
        Product::Pdm => super::products::pdm_roles(),
        Product::Pmg => &NONE,
    }
}

/// A PMG user's role (`root@pam` is `root`; others as created, `audit` when unset).
pub fn pmg_role(s: &MockState, user: &str) -> String {
    if user == "root@pam" {
        return "root".into();
    }
    s.members
        .get("access/users")
        .and_then(|m| m.get(user))
        .and_then(|r| r.config.get("role"))
        .and_then(Value::as_str)
        .unwrap_or("audit")
        .to_string()
}

/// The privileges of role `name`: built-in, or a custom one from the store.
pub fn role_privs(s: &MockState, name: &str) -> Option<Privs> {
    if let Some(p) = builtin_roles_of(s.product).get(name) {
        return Some(p.clone());
    }
    let known = privileges_of(s.product);
    let rec = s.members.get("access/roles")?.get(name)?;
    let text = match rec.config.get("privs") {
        Some(Value::String(t)) => t.clone(),
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(Value::as_str)
            .collect::<Vec<_>>()
            .join(","),
        _ => String::new(),
    };
    Some(
        crate::schema::formats::split_list(&text)
            .into_iter()
            .filter_map(|p| known.iter().find(|k| **k == p).copied())
            .collect(),
    )
}

/// Who holds privileges: a user, or an API token (`user@realm!name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject<'a> {
    /// A user.
    User(&'a str),
    /// A privilege-separated token (its own ACL entries, within its user's privileges).
    Token {
        /// `user@realm`.
        user: &'a str,
        /// `user@realm!name`.
        full: String,
    },
}

/// One ACL entry as stored (`PUT /access/acl`).
#[derive(Debug, Clone)]
pub struct AclEntry {
    /// The path (`/vms/100`).
    pub path: String,
    /// `user`, `group` or `token`.
    pub kind: String,
    /// The user, group or token id.
    pub ugid: String,
    /// The role.
    pub role: String,
    /// Whether it applies below its path.
    pub propagate: bool,
}

/// Every ACL entry in the store.
pub fn acl_entries(s: &MockState) -> Vec<AclEntry> {
    let Some(acl) = s.members.get("access/acl") else {
        return Vec::new();
    };
    acl.values()
        .map(|r| {
            let get = |k: &str| {
                r.config
                    .get(k)
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_string()
            };
            AclEntry {
                path: get("path"),
                kind: get("type"),
                ugid: get("ugid"),
                role: get("roleid"),
                propagate: !matches!(r.config.get("propagate"), Some(v) if v == 0 || v == "0"),
            }
        })
        .collect()
}

/// The groups `user` belongs to (its `groups` setting).
pub fn user_groups(s: &MockState, user: &str) -> BTreeSet<String> {
    s.members
        .get("access/users")
        .and_then(|m| m.get(user))
        .and_then(|r| r.config.get("groups"))
        .and_then(Value::as_str)
        .map(|g| {
            crate::schema::formats::split_list(g)
                .into_iter()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// Normalizes an ACL path as PVE does: one leading `/`, no trailing or doubled slashes.
pub fn normalize_path(path: &str) -> String {
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    format!("/{}", parts.join("/"))
}

/// The roles `who` has on `path` (PVE's `AccessControl::roles`): role -> propagate.
fn roles_on(
    s: &MockState,
    entries: &[AclEntry],
    who: &Subject<'_>,
    path: &str,
) -> BTreeMap<String, bool> {
    let path = normalize_path(path);
    let (kind, id, groups) = match who {
        Subject::User(u) => ("user", *u, user_groups(s, u)),
        Subject::Token { full, .. } => ("token", full.as_str(), BTreeSet::new()),
    };
    let mut roles: BTreeMap<String, bool> = BTreeMap::new();
    let mut prefix = String::new();
    let parts: Vec<&str> = path.split('/').filter(|p| !p.is_empty()).collect();
    for depth in 0..=parts.len() {
        let level = if depth == 0 {
            "/".to_string()
        } else {
            prefix.push('/');
            prefix.push_str(parts[depth - 1]);
            prefix.clone()
        };
        let last = depth == parts.len();
        let applies = |e: &&AclEntry| normalize_path(&e.path) == level && (last || e.propagate);
        let collect = |pred: &dyn Fn(&AclEntry) -> bool| -> BTreeMap<String, bool> {
            entries
                .iter()
                .filter(applies)
                .filter(|e| pred(e))
                .map(|e| (e.role.clone(), e.propagate))
                .collect()
        };
        let own = collect(&|e| e.kind == kind && e.ugid == id);
        if !own.is_empty() {
            roles = own;
            continue;
        }
        if kind == "user" {
            let from_groups = collect(&|e| e.kind == "group" && groups.contains(&e.ugid));
            if !from_groups.is_empty() {
                roles = from_groups;
            }
        }
    }
    if let Some(p) = roles.get("NoAccess").copied() {
        return BTreeMap::from([("NoAccess".to_string(), p)]);
    }
    roles
}

/// The privileges `who` holds on `path`: from its roles there and, for a guest or storage
/// in a pool, on `/pool/<pool>` too. A privilege-separated token holds only what both its
/// own entries and its user's grant.
pub fn privileges(s: &MockState, who: &Subject<'_>, path: &str) -> Privs {
    let entries = acl_entries(s);
    let path = normalize_path(path);
    let mut paths = vec![path.clone()];
    if let Some(pool) = pool_of_path(s, &path) {
        paths.push(format!("/pool/{pool}"));
    }
    let held = |who: &Subject<'_>| -> Privs {
        let mut out = Privs::new();
        for p in &paths {
            for role in roles_on(s, &entries, who, p).keys() {
                out.extend(role_privs(s, role).unwrap_or_default());
            }
        }
        out
    };
    match who {
        Subject::User("root@pam") => privileges_of(s.product).iter().copied().collect(),
        Subject::User(_) => held(who),
        Subject::Token { user, .. } => {
            let user_privs = privileges(s, &Subject::User(user), &path);
            held(who).intersection(&user_privs).copied().collect()
        }
    }
}

/// The pool a `/vms/<id>` or `/storage/<id>` path's object belongs to.
fn pool_of_path(s: &MockState, path: &str) -> Option<String> {
    let (kind, id) = if let Some(id) = path.strip_prefix("/vms/") {
        ("vmid", id)
    } else if let Some(id) = path.strip_prefix("/storage/") {
        ("storage", id)
    } else {
        return None;
    };
    if id.contains('/') {
        return None;
    }
    s.members.get("pools")?.iter().find_map(|(pool, rec)| {
        let members = rec.meta.get("members")?.as_array()?;
        members
            .iter()
            .any(|m| match kind {
                "vmid" => m.get("vmid").and_then(Value::as_u64) == id.parse::<u64>().ok(),
                _ => m.get("storage").and_then(Value::as_str) == Some(id),
            })
            .then(|| pool.clone())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_roles_are_pves() {
        let r = builtin_roles();
        assert_eq!(r.len(), 17, "{:?}", r.keys().collect::<Vec<_>>());
        assert_eq!(r["Administrator"].len(), PRIVILEGES.len());
        assert!(r["NoAccess"].is_empty());
        let auditor: Vec<&str> = r["PVEAuditor"].iter().copied().collect();
        assert_eq!(
            auditor,
            [
                "Datastore.Audit",
                "Mapping.Audit",
                "Pool.Audit",
                "SDN.Audit",
                "Sys.Audit",
                "VM.Audit",
                "VM.GuestAgent.Audit"
            ]
        );
        for p in [
            "Sys.Modify",
            "Sys.PowerMgmt",
            "Realm.Allocate",
            "Permissions.Modify",
        ] {
            assert!(!r["PVEAdmin"].contains(p), "{p}");
        }
        assert!(r["PVEAdmin"].contains("VM.Allocate"));
        assert!(r["PVEVMUser"].contains("VM.PowerMgmt") && !r["PVEVMUser"].contains("VM.Allocate"));
        assert_eq!(r["PVETemplateUser"].len(), 2);
        for privs in r.values() {
            assert!(privs.iter().all(|p| PRIVILEGES.contains(p)));
        }
    }

    #[test]
    fn paths_normalize() {
        assert_eq!(normalize_path("vms//100/"), "/vms/100");
        assert_eq!(normalize_path(""), "/");
    }
}
