//! The Proxmox products the SDK speaks to: their default ports, the backends each
//! supports and the wire details that differ (token header, cookie, node shell tool).

use super::BackendKind;
use crate::schema::Product;

/// A Proxmox product: its default port, backends and wire details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// `PVE`, `PMG`, `PBS`, `PDM`.
    pub name: &'static str,
    /// The product (its schema and the mock of it).
    pub product: Product,
    /// HTTPS port.
    pub default_port: u16,
    /// Backends it supports.
    pub backends: &'static [BackendKind],
    /// HTTPS authentications it supports (`password`, `token`).
    pub https_auths: &'static [&'static str],
    /// API token header prefix.
    pub token_prefix: &'static str,
    /// Between token id and secret.
    pub token_separator: &'static str,
    /// Ticket cookie name.
    pub auth_cookie: &'static str,
    /// The node's shell tool (`pvesh`, `pmgsh`), if any.
    pub cli: Option<&'static str>,
}

const ALL_BACKENDS: &[BackendKind] = &[
    BackendKind::Https,
    BackendKind::SshParamiko,
    BackendKind::OpenSsh,
    BackendKind::Local,
    BackendKind::Mock,
];
const HTTPS_ONLY: &[BackendKind] = &[BackendKind::Https, BackendKind::Mock];

/// The services, as the original package names them.
pub const SERVICES: &[Service] = &[
    Service {
        name: "PVE",
        product: Product::Pve,
        https_auths: &["password", "token"],
        default_port: 8006,
        backends: ALL_BACKENDS,
        token_prefix: "PVEAPIToken=",
        token_separator: "=",
        auth_cookie: "PVEAuthCookie",
        cli: Some("pvesh"),
    },
    Service {
        name: "PMG",
        product: Product::Pmg,
        https_auths: &["password"],
        default_port: 8006,
        backends: ALL_BACKENDS,
        token_prefix: "PMGAPIToken=",
        token_separator: "=",
        auth_cookie: "PMGAuthCookie",
        cli: Some("pmgsh"),
    },
    Service {
        name: "PBS",
        product: Product::Pbs,
        https_auths: &["password", "token"],
        default_port: 8007,
        backends: HTTPS_ONLY,
        token_prefix: "PBSAPIToken=",
        token_separator: ":",
        auth_cookie: "PBSAuthCookie",
        cli: None,
    },
    Service {
        name: "PDM",
        product: Product::Pdm,
        https_auths: &["password", "token"],
        default_port: 8443,
        backends: HTTPS_ONLY,
        token_prefix: "PDMAPIToken=",
        token_separator: ":",
        auth_cookie: "PDMAuthCookie",
        cli: None,
    },
];

/// The service called `name` (any case), or an error naming the known ones.
pub fn service(name: &str) -> Result<&'static Service, String> {
    SERVICES
        .iter()
        .find(|s| s.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            let known: Vec<&str> = SERVICES.iter().map(|s| s.name).collect();
            format!(
                "service: unknown service '{name}'; supported: {}",
                known.join(", ")
            )
        })
}

impl Service {
    /// The names of the backends it supports (`https, mock`), for messages.
    pub fn backend_names(&self) -> String {
        self.backends
            .iter()
            .map(|b| b.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_agrees_with_the_products() {
        for svc in SERVICES {
            let p = svc.product;
            assert_eq!(svc.name, p.name());
            assert_eq!(svc.default_port, p.default_port());
            assert_eq!(svc.auth_cookie, p.auth_cookie());
            match p.token_scheme() {
                Some((scheme, sep)) => {
                    assert_eq!(svc.token_prefix, format!("{scheme}="));
                    assert_eq!(svc.token_separator, sep.to_string());
                    assert!(svc.https_auths.contains(&"token"));
                }
                None => assert!(!svc.https_auths.contains(&"token")),
            }
        }
    }

    #[test]
    fn services_by_name() {
        assert_eq!(service("pbs").unwrap().default_port, 8007);
        assert!(service("xyz").unwrap_err().contains("PVE, PMG, PBS, PDM"));
        assert_eq!(service("PDM").unwrap().backend_names(), "https, mock");
    }
}
