//! The Proxmox products whose APIs the schema layer reads. Each has its own apidoc (under
//! `generated/<dir>/<version>/`) and its own dialect of the permission rules in it.

use std::fmt;
use std::str::FromStr;

/// A Proxmox product.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    serde::Serialize,
    serde::Deserialize,
)]
pub enum Product {
    /// Proxmox VE.
    #[default]
    Pve,
    /// Proxmox Backup Server.
    Pbs,
    /// Proxmox Mail Gateway.
    Pmg,
    /// Proxmox Datacenter Manager.
    Pdm,
}

/// How a product writes the `permissions` of its operations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PermissionDialect {
    /// PVE's Perl form: `{"check": ["perm", "/vms/{vmid}", ["VM.Audit"], "any", 1]}`.
    PerlPrivileges,
    /// PMG's role list: `{"check": ["admin", "audit"]}`.
    PerlRoles,
    /// The Rust products' form: `{"check": {"path": ["datastore", "{store}"], "privs": [...],
    /// "partial": false}}`, with `and`/`or` lists and `userParam`.
    RustPrivileges,
}

impl Product {
    /// Every product, PVE first.
    pub const ALL: [Product; 4] = [Product::Pve, Product::Pbs, Product::Pmg, Product::Pdm];

    /// The name the original package uses: `PVE`, `PBS`, `PMG`, `PDM`.
    pub fn name(self) -> &'static str {
        match self {
            Product::Pve => "PVE",
            Product::Pbs => "PBS",
            Product::Pmg => "PMG",
            Product::Pdm => "PDM",
        }
    }

    /// The folder under `generated/` (`proxmox` for PVE, as the original package has it).
    pub fn dir(self) -> &'static str {
        match self {
            Product::Pve => "proxmox",
            Product::Pbs => "pbs",
            Product::Pmg => "pmg",
            Product::Pdm => "pdm",
        }
    }

    /// The product's full name.
    pub fn title(self) -> &'static str {
        match self {
            Product::Pve => "Proxmox VE",
            Product::Pbs => "Proxmox Backup Server",
            Product::Pmg => "Proxmox Mail Gateway",
            Product::Pdm => "Proxmox Datacenter Manager",
        }
    }

    /// The product whose `generated/` folder is `dir`.
    pub fn from_dir(dir: &str) -> Option<Product> {
        Product::ALL.into_iter().find(|p| p.dir() == dir)
    }

    /// How its apidoc writes permissions.
    pub fn permission_dialect(self) -> PermissionDialect {
        match self {
            Product::Pve => PermissionDialect::PerlPrivileges,
            Product::Pmg => PermissionDialect::PerlRoles,
            Product::Pbs | Product::Pdm => PermissionDialect::RustPrivileges,
        }
    }

    /// Whether the product is written in Rust (JSON booleans on the wire, `/.../` regexes).
    pub fn is_rust(self) -> bool {
        matches!(self, Product::Pbs | Product::Pdm)
    }

    /// The ticket's prefix (`PVE:root@pam:...`).
    pub fn ticket_prefix(self) -> &'static str {
        self.name()
    }

    /// The cookie that carries the ticket.
    pub fn auth_cookie(self) -> &'static str {
        match self {
            Product::Pve => "PVEAuthCookie",
            Product::Pbs => "PBSAuthCookie",
            Product::Pmg => "PMGAuthCookie",
            Product::Pdm => "PDMAuthCookie",
        }
    }

    /// The `Authorization` scheme of API tokens and what separates the token id from the
    /// secret (`PVEAPIToken=u@r!n=SECRET`, `PBSAPIToken=u@r!n:SECRET`); PMG has no tokens.
    pub fn token_scheme(self) -> Option<(&'static str, char)> {
        match self {
            Product::Pve => Some(("PVEAPIToken", '=')),
            Product::Pbs => Some(("PBSAPIToken", ':')),
            Product::Pdm => Some(("PDMAPIToken", ':')),
            Product::Pmg => None,
        }
    }

    /// The HTTPS port the product listens on.
    pub fn default_port(self) -> u16 {
        match self {
            Product::Pve | Product::Pmg => 8006,
            Product::Pbs => 8007,
            Product::Pdm => 8443,
        }
    }
}

impl fmt::Display for Product {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A product name that is none of PVE, PBS, PMG, PDM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown service '{0}' (expected one of PVE, PBS, PMG, PDM)")]
pub struct UnknownProduct(pub String);

impl FromStr for Product {
    type Err = UnknownProduct;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        Product::ALL
            .into_iter()
            .find(|p| p.name().eq_ignore_ascii_case(s) || p.dir().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownProduct(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for p in Product::ALL {
            assert_eq!(p.name().parse::<Product>().unwrap(), p);
            assert_eq!(p.name().to_lowercase().parse::<Product>().unwrap(), p);
            assert_eq!(Product::from_dir(p.dir()), Some(p));
        }
        assert_eq!("proxmox".parse::<Product>().unwrap(), Product::Pve);
        assert_eq!(
            "PXE".parse::<Product>().unwrap_err().to_string(),
            "unknown service 'PXE' (expected one of PVE, PBS, PMG, PDM)"
        );
    }
}
