//! Building a [`Client`] from the options a user gives (the SDK's constructor arguments,
//! the CLI's flags and profiles): one place that knows the services, the backends and
//! what each needs.

use std::sync::Arc;
use std::time::Duration;

use super::{Backend, Client};
use crate::transport::https::{base_url, HttpsAuth, HttpsConfig, HttpsTransport};
use crate::transport::pvesh::{OpenSshConfig, PveshTransport, Runner};
use crate::transport::ssh::{HostKeyPolicy, SshAuth, SshConfig, SshSession};

/// A Proxmox product: its default port, backends and wire details.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Service {
    /// `PVE`, `PMG`, `PBS`, `PDM`.
    pub name: &'static str,
    /// HTTPS port.
    pub default_port: u16,
    /// Backends it supports.
    pub backends: &'static [&'static str],
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

const ALL_BACKENDS: &[&str] = &["https", "ssh_paramiko", "openssh", "local", "mock"];
const HTTPS_ONLY: &[&str] = &["https", "mock"];

/// The services, as the original package names them.
pub const SERVICES: &[Service] = &[
    Service {
        name: "PVE",
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

/// Everything a client can be built from; `None` means the default.
#[derive(Debug, Clone, Default)]
pub struct ClientOptions {
    /// `https`, `ssh_paramiko`, `openssh`, `local` or `mock` (default `https`).
    pub backend: Option<String>,
    /// Service name (default `PVE`).
    pub service: Option<String>,
    /// Host (HTTPS forms of [`base_url`], or the SSH host).
    pub host: Option<String>,
    /// Port (HTTPS default per service; SSH default 22).
    pub port: Option<u16>,
    /// `user@realm` (HTTPS) or the SSH login (a realm is dropped).
    pub user: Option<String>,
    /// Password (HTTPS ticket login or SSH password).
    pub password: Option<String>,
    /// API token name.
    pub token_name: Option<String>,
    /// API token secret.
    pub token_value: Option<String>,
    /// One-time password for TFA.
    pub otp: Option<String>,
    /// `totp`, `recovery`, ...
    pub otptype: Option<String>,
    /// Reverse-proxy prefix.
    pub path_prefix: Option<String>,
    /// Verify certificates (default true).
    pub verify_ssl: Option<bool>,
    /// CA bundle or client certificate PEM.
    pub cert: Option<String>,
    /// Pinned certificate fingerprint (SHA-256).
    pub fingerprint: Option<String>,
    /// Total timeout in seconds (HTTPS default 5 s; pvesh commands none).
    pub timeout: Option<f64>,
    /// Connect timeout in seconds.
    pub connect_timeout: Option<f64>,
    /// Proxies by scheme (`http`, `https`, `all`).
    pub proxies: Vec<(String, String)>,
    /// Retries of reads.
    pub max_retries: Option<u32>,
    /// First retry delay in seconds.
    pub retry_backoff: Option<f64>,
    /// Run pvesh through `sudo -n`.
    pub sudo: bool,
    /// SSH private key (russh) or identity file (openssh).
    pub private_key_file: Option<String>,
    /// Its passphrase.
    pub private_key_passphrase: Option<String>,
    /// Use the ssh-agent (russh).
    pub use_agent: bool,
    /// `-F` for openssh.
    pub config_file: Option<String>,
    /// `-A` for openssh.
    pub forward_ssh_agent: bool,
    /// known_hosts file (default `~/.ssh/known_hosts`).
    pub known_hosts_file: Option<String>,
    /// Pinned SSH host key (`SHA256:...`).
    pub host_key_fingerprint: Option<String>,
    /// Record unknown host keys.
    pub accept_new_host_key: bool,
    /// Extra `-o` options for openssh.
    pub ssh_options: Vec<String>,
    /// Schema version for encoding, validation and the mock (default `latest`).
    pub schema_version: Option<String>,
    /// Validate requests before sending (the mock always does).
    pub validate: bool,
    /// Mock namespace (default `default`).
    pub mock_namespace: Option<String>,
    /// JSON/YAML seed file of a new mock store.
    pub mock_data_path: Option<String>,
    /// Mock: store writes to paths PVE lacks instead of answering 501.
    pub lenient: bool,
}

use crate::limits::duration as seconds;

impl ClientOptions {
    /// The backend name, lower case.
    pub fn backend_name(&self) -> String {
        self.backend
            .as_deref()
            .unwrap_or("https")
            .to_ascii_lowercase()
    }

    /// Builds the client; errors name the option and what was expected.
    pub fn build(&self) -> Result<Client, String> {
        let svc = service(self.service.as_deref().unwrap_or("PVE"))?;
        let backend = self.backend_name();
        if !svc.backends.contains(&backend.as_str()) {
            return Err(format!(
                "backend: '{backend}' is not supported for {}; supported: {}",
                svc.name,
                svc.backends.join(", ")
            ));
        }
        let version = self.schema_version.as_deref().unwrap_or("latest");
        let schema =
            crate::schema::bundled::load(version).map_err(|e| format!("schema_version: {e}"))?;
        // An empty string is no value at all (`user=""` is no user).
        let given = |o: &Option<String>| o.clone().filter(|v| !v.is_empty());
        let host =
            || given(&self.host).ok_or_else(|| format!("host: required for the {backend} backend"));
        let client = match backend.as_str() {
            "mock" => {
                let ns = self.mock_namespace.as_deref().unwrap_or("default");
                let data = self.mock_data_path.as_deref().map(std::path::Path::new);
                let mock = crate::mock::MockPve::shared(version, ns, data, self.lenient)
                    .map_err(|e| e.to_string())?;
                return Ok(Client::new(Backend::Mock(mock)));
            }
            "https" => {
                let user = given(&self.user)
                    .ok_or("https backend needs credentials: user and password, or user, token_name and token_value")?;
                let auth = match (
                    &given(&self.token_name),
                    &given(&self.token_value),
                    &given(&self.password),
                ) {
                    (Some(name), Some(secret), _) => HttpsAuth::token(
                        svc.token_prefix,
                        &user,
                        name,
                        svc.token_separator,
                        secret,
                    ),
                    (_, _, Some(password)) => HttpsAuth::Password {
                        user,
                        password: password.clone(),
                        otp: self.otp.clone(),
                        otptype: self.otptype.clone().unwrap_or_else(|| "totp".into()),
                        cookie: svc.auth_cookie.to_string(),
                    },
                    _ => return Err("https backend needs credentials: user and password, or user, token_name and token_value".into()),
                };
                let mut cfg =
                    HttpsConfig::new(base_url(&host()?, self.port, svc.default_port)?, auth);
                cfg.path_prefix = self.path_prefix.clone().unwrap_or_default();
                cfg.verify_ssl = self.verify_ssl.unwrap_or(true);
                cfg.cert = self.cert.clone().map(Into::into);
                cfg.fingerprint = self
                    .fingerprint
                    .as_deref()
                    .map(crate::tls::Fingerprint::parse)
                    .transpose()
                    .map_err(|e| format!("fingerprint: {e}"))?;
                // 0 is no timeout at all (what aiohttp's `ClientTimeout(total=0)` meant).
                cfg.timeout = match self.timeout {
                    Some(t) => Some(seconds("timeout", t, true)?).filter(|d| !d.is_zero()),
                    None => Some(Duration::from_secs(5)),
                };
                cfg.connect_timeout = self
                    .connect_timeout
                    .map(|t| seconds("connect_timeout", t, false))
                    .transpose()?;
                cfg.proxies = self.proxies.clone();
                cfg.max_retries = self.max_retries.unwrap_or(0);
                cfg.retry_backoff =
                    seconds("retry_backoff", self.retry_backoff.unwrap_or(0.5), true)?;
                Client::new(Backend::Https(Arc::new(HttpsTransport::new(cfg)?)))
            }
            pvesh_backend => {
                let connect = seconds(
                    "connect_timeout",
                    self.connect_timeout.unwrap_or(10.0),
                    false,
                )?;
                let login = self
                    .user
                    .as_deref()
                    .map(|u| u.split('@').next().unwrap_or_default().to_string());
                let runner = match pvesh_backend {
                    "local" => Runner::Local,
                    "openssh" => {
                        let mut options = self.ssh_options.clone();
                        if let Some(k) = &self.known_hosts_file {
                            options.push(format!("UserKnownHostsFile={k}"));
                        }
                        if self.accept_new_host_key {
                            options.push("StrictHostKeyChecking=accept-new".into());
                        }
                        Runner::OpenSsh(OpenSshConfig {
                            host: host()?,
                            port: self.port,
                            user: login,
                            identity_file: self.private_key_file.clone().map(Into::into),
                            config_file: self.config_file.clone().map(Into::into),
                            forward_agent: self.forward_ssh_agent,
                            options,
                            connect_timeout: Some(connect),
                            ssh_binary: None,
                            scp_binary: None,
                        })
                    }
                    _ => Runner::Russh(Arc::new(SshSession::new(self.ssh_config(
                        host()?,
                        login,
                        connect,
                    )?))),
                };
                let timeout = self
                    .timeout
                    .map(|t| seconds("timeout", t, true))
                    .transpose()?
                    .filter(|d| !d.is_zero());
                Client::new(Backend::Pvesh(Arc::new(PveshTransport {
                    cli: svc.cli.unwrap_or("pvesh").to_string(),
                    sudo: self.sudo,
                    timeout,
                    runner,
                })))
            }
        };
        Ok(if self.validate {
            client.with_validation(schema)
        } else {
            client.with_schema(schema)
        })
    }

    /// The russh configuration.
    pub fn ssh_config(
        &self,
        host: String,
        login: Option<String>,
        connect_timeout: Duration,
    ) -> Result<SshConfig, String> {
        let mut auth = Vec::new();
        if let Some(path) = &self.private_key_file {
            auth.push(SshAuth::KeyFile {
                path: path.into(),
                passphrase: self.private_key_passphrase.clone(),
            });
        }
        if self.use_agent {
            auth.push(SshAuth::Agent);
        }
        if let Some(p) = &self.password {
            auth.push(SshAuth::Password(p.clone()));
        }
        if auth.is_empty() {
            if std::env::var_os("SSH_AUTH_SOCK").is_some() {
                auth.push(SshAuth::Agent);
            } else {
                return Err(
                    "ssh login: give password=, private_key_file= or run an ssh-agent (SSH_AUTH_SOCK)"
                        .into(),
                );
            }
        }
        let host_key = match &self.host_key_fingerprint {
            Some(fp) => HostKeyPolicy::Fingerprint(fp.clone()),
            None => HostKeyPolicy::KnownHosts {
                path: self.known_hosts_file.clone().map(Into::into),
                accept_new: self.accept_new_host_key,
            },
        };
        Ok(SshConfig {
            host,
            port: self.port.unwrap_or(22),
            user: login
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "root".into()),
            auth,
            host_key,
            connect_timeout,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_and_errors() {
        assert_eq!(service("pbs").unwrap().default_port, 8007);
        assert!(service("xyz").unwrap_err().contains("PVE, PMG, PBS, PDM"));
        let o = ClientOptions {
            backend: Some("local".into()),
            service: Some("PBS".into()),
            ..ClientOptions::default()
        };
        assert!(o.build().unwrap_err().contains("supported: https, mock"));
        let o = ClientOptions {
            backend: Some("https".into()),
            host: Some("pve1".into()),
            user: Some("root@pam".into()),
            ..ClientOptions::default()
        };
        assert!(o.build().unwrap_err().contains("needs credentials"));
        let o = ClientOptions {
            backend: Some("openssh".into()),
            ..ClientOptions::default()
        };
        assert!(o.build().unwrap_err().starts_with("host: required"));
        let o = ClientOptions {
            backend: Some("mock".into()),
            ..ClientOptions::default()
        };
        assert!(o.build().unwrap().mock().is_some());
    }
}
