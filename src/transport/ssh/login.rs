//! Logging in: the methods given, tried in order (password, key file with its
//! passphrase, the ssh-agent, the user's default keys as OpenSSH tries them), and which
//! one worked.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use parking_lot::Mutex;
use russh::client::{self, Handle};
use russh::keys::{self, HashAlg, PrivateKeyWithHashAlg};

use super::hostkey::Checker;
use super::{SshFailure, SshSession};

/// One way to log in; they are tried in order.
#[derive(Clone)]
pub enum SshAuth {
    /// A password.
    Password(String),
    /// A private key file (OpenSSH or PEM), with its passphrase if encrypted.
    KeyFile {
        /// The file.
        path: PathBuf,
        /// Its passphrase.
        passphrase: Option<String>,
    },
    /// A private key given as text (OpenSSH or PEM), with its passphrase if encrypted:
    /// it is never written anywhere.
    KeyText {
        /// The key.
        pem: String,
        /// Its passphrase.
        passphrase: Option<String>,
    },
    /// The keys of the ssh-agent at `$SSH_AUTH_SOCK`.
    Agent,
    /// The user's default keys that exist (`~/.ssh/id_ed25519`, `id_ecdsa`, `id_rsa`), as
    /// OpenSSH tries them; encrypted ones need the passphrase.
    DefaultKeys {
        /// The passphrase of encrypted ones.
        passphrase: Option<String>,
    },
}

/// The user's default key files that exist, in OpenSSH's order.
pub fn default_key_files() -> Vec<PathBuf> {
    let Some(home) = std::env::var_os("HOME").map(PathBuf::from) else {
        return Vec::new();
    };
    ["id_ed25519", "id_ecdsa", "id_rsa"]
        .iter()
        .map(|n| home.join(".ssh").join(n))
        .filter(|p| p.is_file())
        .collect()
}

impl std::fmt::Debug for SshAuth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SshAuth::Password(_) => f.write_str("Password(<redacted>)"),
            SshAuth::KeyFile { path, passphrase } => f
                .debug_struct("KeyFile")
                .field("path", path)
                .field("passphrase", &passphrase.as_ref().map(|_| "<redacted>"))
                .finish(),
            SshAuth::KeyText { .. } => f.write_str("KeyText(<redacted>)"),
            SshAuth::Agent => f.write_str("Agent"),
            SshAuth::DefaultKeys { passphrase } => f
                .debug_struct("DefaultKeys")
                .field("passphrase", &passphrase.as_ref().map(|_| "<redacted>"))
                .finish(),
        }
    }
}

impl SshSession {
    /// A logged-in connection and the login method that worked.
    pub(super) async fn open(&self) -> Result<(Handle<Checker>, &'static str), SshFailure> {
        let c = &self.config;
        let refusal = Arc::new(Mutex::new(None));
        let checker = Checker {
            host: c.host.clone(),
            port: c.port,
            policy: c.host_key.clone(),
            refusal: refusal.clone(),
        };
        let config = Arc::new(client::Config {
            keepalive_interval: Some(Duration::from_secs(30)),
            nodelay: true,
            ..client::Config::default()
        });
        let mut handle = match client::connect(config, (c.host.as_str(), c.port), checker).await {
            Ok(h) => h,
            Err(e) => {
                if let Some(why) = refusal.lock().take() {
                    return Err(SshFailure::HostKey(why));
                }
                return Err(SshFailure::Other(format!(
                    "cannot connect to {}:{}: {e}",
                    c.host, c.port
                )));
            }
        };
        if c.auth.is_empty() {
            return Err(SshFailure::Auth(
                "no login method: give a password, a private key file or use the ssh-agent".into(),
            ));
        }
        let mut tried = Vec::new();
        for method in &c.auth {
            let ok = match method {
                SshAuth::Password(p) => {
                    tried.push("password");
                    handle
                        .authenticate_password(&c.user, p)
                        .await
                        .map_err(|e| SshFailure::Other(format!("password login: {e}")))?
                        .success()
                }
                SshAuth::KeyFile { path, passphrase } => {
                    tried.push("private key");
                    let key = keys::load_secret_key(path, passphrase.as_deref()).map_err(|e| {
                        SshFailure::Auth(format!(
                            "private key {}: {e}{}",
                            path.display(),
                            if passphrase.is_none() {
                                " (encrypted keys need a passphrase)"
                            } else {
                                ""
                            }
                        ))
                    })?;
                    let hash = rsa_hash(&handle).await;
                    handle
                        .authenticate_publickey(
                            &c.user,
                            PrivateKeyWithHashAlg::new(Arc::new(key), hash),
                        )
                        .await
                        .map_err(|e| SshFailure::Other(format!("key login: {e}")))?
                        .success()
                }
                SshAuth::KeyText { pem, passphrase } => {
                    tried.push("private key");
                    let key = keys::decode_secret_key(pem, passphrase.as_deref()).map_err(|e| {
                        SshFailure::Auth(format!(
                            "could not parse the supplied private key: {e}{}",
                            if passphrase.is_none() {
                                " (encrypted keys need a passphrase)"
                            } else {
                                ""
                            }
                        ))
                    })?;
                    let hash = rsa_hash(&handle).await;
                    handle
                        .authenticate_publickey(
                            &c.user,
                            PrivateKeyWithHashAlg::new(Arc::new(key), hash),
                        )
                        .await
                        .map_err(|e| SshFailure::Other(format!("key login: {e}")))?
                        .success()
                }
                SshAuth::Agent => {
                    tried.push("ssh-agent");
                    agent_login(&mut handle, &c.user).await?
                }
                SshAuth::DefaultKeys { passphrase } => {
                    tried.push("default keys");
                    let mut ok = false;
                    for path in default_key_files() {
                        // One that cannot be read (encrypted, no passphrase) is skipped.
                        let Ok(key) = keys::load_secret_key(&path, passphrase.as_deref()) else {
                            continue;
                        };
                        let hash = rsa_hash(&handle).await;
                        ok = handle
                            .authenticate_publickey(
                                &c.user,
                                PrivateKeyWithHashAlg::new(Arc::new(key), hash),
                            )
                            .await
                            .map_err(|e| SshFailure::Other(format!("key login: {e}")))?
                            .success();
                        if ok {
                            break;
                        }
                    }
                    ok
                }
            };
            if ok {
                return Ok((handle, tried.last().copied().unwrap_or_default()));
            }
        }
        Err(SshFailure::Auth(format!(
            "login as {} on {}:{} refused (tried: {})",
            c.user,
            c.host,
            c.port,
            tried.join(", ")
        )))
    }
}

/// The best RSA signature hash the server accepts (`None` for the legacy SHA-1 or when
/// it does not say).
async fn rsa_hash(handle: &Handle<Checker>) -> Option<HashAlg> {
    handle
        .best_supported_rsa_hash()
        .await
        .ok()
        .flatten()
        .flatten()
}

async fn agent_login(handle: &mut Handle<Checker>, user: &str) -> Result<bool, SshFailure> {
    let mut agent = keys::agent::client::AgentClient::connect_env()
        .await
        .map_err(|e| SshFailure::Auth(format!("ssh-agent: {e} (is SSH_AUTH_SOCK set?)")))?;
    let identities = agent
        .request_identities()
        .await
        .map_err(|e| SshFailure::Auth(format!("ssh-agent: {e}")))?;
    for id in identities {
        let keys::agent::AgentIdentity::PublicKey { key, .. } = id else {
            continue;
        };
        let hash = rsa_hash(handle).await;
        if let Ok(r) = handle
            .authenticate_publickey_with(user, key, hash, &mut agent)
            .await
        {
            if r.success() {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_stay_out_of_debug() {
        let a = SshAuth::Password("hunter2".into());
        let k = SshAuth::KeyFile {
            path: "/k".into(),
            passphrase: Some("pass-phrase".into()),
        };
        let text = format!("{a:?} {k:?}");
        assert!(
            !text.contains("hunter2") && !text.contains("pass-phrase"),
            "{text}"
        );
    }
}
