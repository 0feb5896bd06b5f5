//! The privileges and built-in roles of the products other than PVE, and PMG's role model.
//!
//! PBS: the privileges and roles of `pbs-api-types` (`Admin`, `Audit`, `Datastore*`,
//! `Remote*`, `Tape*`, `NoAccess`). PDM: the privileges its apidoc checks (`System.*`,
//! `Resource.*`, `Access.*`, `Realm.Allocate`, `Sys.Console`, `Sys.PowerManagement`) with
//! the roles PDM's ACL documentation describes (`Administrator`, `Auditor`,
//! `SystemAdministrator`, `SystemAuditor`, `ResourceAdministrator`, `ResourceAuditor`,
//! `AccessAuditor`, `NoAccess`). PMG has no ACL: each user has one role (`root`, `admin`,
//! `helpdesk`, `qmanager`, `audit`, `quser`) and an operation names the roles it admits.

use std::collections::BTreeMap;

use super::roles::Privs;

/// Every privilege of PBS.
pub const PBS_PRIVILEGES: &[&str] = &[
    "Datastore.Allocate",
    "Datastore.Audit",
    "Datastore.Backup",
    "Datastore.Modify",
    "Datastore.Prune",
    "Datastore.Read",
    "Datastore.Verify",
    "Permissions.Modify",
    "Realm.Allocate",
    "Remote.Audit",
    "Remote.DatastoreBackup",
    "Remote.DatastoreModify",
    "Remote.DatastorePrune",
    "Remote.Modify",
    "Remote.Read",
    "Sys.Audit",
    "Sys.Console",
    "Sys.Modify",
    "Sys.PowerManagement",
    "Tape.Audit",
    "Tape.Modify",
    "Tape.Read",
    "Tape.Write",
];

/// Every privilege of PDM.
pub const PDM_PRIVILEGES: &[&str] = &[
    "Access.Audit",
    "Access.Modify",
    "Realm.Allocate",
    "Resource.Audit",
    "Resource.Delete",
    "Resource.Manage",
    "Resource.Migrate",
    "Resource.Modify",
    "Sys.Console",
    "Sys.PowerManagement",
    "System.Audit",
    "System.Modify",
];

fn set(privs: &[&'static str]) -> Privs {
    privs.iter().copied().collect()
}

/// PBS's built-in roles.
pub fn pbs_roles() -> &'static BTreeMap<&'static str, Privs> {
    static ROLES: std::sync::OnceLock<BTreeMap<&'static str, Privs>> = std::sync::OnceLock::new();
    ROLES.get_or_init(|| {
        let table: &[(&'static str, &[&'static str])] = &[
            ("Admin", PBS_PRIVILEGES),
            ("Audit", &["Sys.Audit", "Datastore.Audit"]),
            ("NoAccess", &[]),
            (
                "DatastoreAdmin",
                &[
                    "Datastore.Audit",
                    "Datastore.Modify",
                    "Datastore.Read",
                    "Datastore.Verify",
                    "Datastore.Backup",
                    "Datastore.Prune",
                ],
            ),
            (
                "DatastoreReader",
                &["Datastore.Audit", "Datastore.Verify", "Datastore.Read"],
            ),
            ("DatastoreBackup", &["Datastore.Backup"]),
            (
                "DatastorePowerUser",
                &["Datastore.Prune", "Datastore.Backup"],
            ),
            ("DatastoreAudit", &["Datastore.Audit"]),
            ("RemoteAudit", &["Remote.Audit"]),
            (
                "RemoteAdmin",
                &["Remote.Audit", "Remote.Modify", "Remote.Read"],
            ),
            ("RemoteSyncOperator", &["Remote.Audit", "Remote.Read"]),
            (
                "RemoteSyncPushOperator",
                &["Remote.Audit", "Remote.DatastoreBackup"],
            ),
            (
                "RemoteDatastorePowerUser",
                &[
                    "Remote.Audit",
                    "Remote.DatastoreBackup",
                    "Remote.DatastorePrune",
                ],
            ),
            (
                "RemoteDatastoreAdmin",
                &[
                    "Remote.Audit",
                    "Remote.DatastoreBackup",
                    "Remote.DatastoreModify",
                    "Remote.DatastorePrune",
                ],
            ),
            ("TapeAudit", &["Tape.Audit"]),
            (
                "TapeAdmin",
                &["Tape.Audit", "Tape.Modify", "Tape.Read", "Tape.Write"],
            ),
            ("TapeOperator", &["Tape.Audit", "Tape.Read", "Tape.Write"]),
            ("TapeReader", &["Tape.Audit", "Tape.Read"]),
        ];
        table.iter().map(|(n, p)| (*n, set(p))).collect()
    })
}

/// PDM's built-in roles.
pub fn pdm_roles() -> &'static BTreeMap<&'static str, Privs> {
    static ROLES: std::sync::OnceLock<BTreeMap<&'static str, Privs>> = std::sync::OnceLock::new();
    ROLES.get_or_init(|| {
        let table: &[(&'static str, &[&'static str])] = &[
            ("Administrator", PDM_PRIVILEGES),
            (
                "Auditor",
                &["Access.Audit", "Resource.Audit", "System.Audit"],
            ),
            ("NoAccess", &[]),
            (
                "SystemAdministrator",
                &[
                    "System.Audit",
                    "System.Modify",
                    "Sys.Console",
                    "Sys.PowerManagement",
                ],
            ),
            ("SystemAuditor", &["System.Audit"]),
            (
                "ResourceAdministrator",
                &[
                    "Resource.Audit",
                    "Resource.Delete",
                    "Resource.Manage",
                    "Resource.Migrate",
                    "Resource.Modify",
                ],
            ),
            ("ResourceAuditor", &["Resource.Audit"]),
            ("AccessAuditor", &["Access.Audit"]),
        ];
        table.iter().map(|(n, p)| (*n, set(p))).collect()
    })
}

/// PMG's user roles, most powerful first.
pub const PMG_ROLES: &[&str] = &["root", "admin", "helpdesk", "qmanager", "audit", "quser"];

/// Whether a PMG user of `role` passes a `{"check": [roles...]}` rule: `root` always; a
/// `helpdesk` user counts as `qmanager` and `audit` too (PMG's `PMG::AccessControl`).
pub fn pmg_role_admits(role: &str, admitted: &[String]) -> bool {
    if role == "root" {
        return true;
    }
    let admits = |r: &str| admitted.iter().any(|a| a == r);
    admits(role) || (role == "helpdesk" && (admits("qmanager") || admits("audit")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_tables_use_known_privileges() {
        for (roles, privs) in [(pbs_roles(), PBS_PRIVILEGES), (pdm_roles(), PDM_PRIVILEGES)] {
            for (name, held) in roles {
                assert!(held.iter().all(|p| privs.contains(p)), "{name}");
            }
        }
        assert_eq!(pbs_roles().len(), 18);
        assert_eq!(pbs_roles()["Admin"].len(), PBS_PRIVILEGES.len());
        assert!(pmg_role_admits("root", &[]));
        assert!(pmg_role_admits("helpdesk", &["audit".into()]));
        assert!(!pmg_role_admits("audit", &["admin".into()]));
    }
}
