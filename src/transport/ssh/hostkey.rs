//! Whether to trust the server: its host key against `known_hosts` (unknown keys refused
//! unless `accept_new`, which records them; a changed key always refused), or against a
//! pinned fingerprint (`SHA256:<base64>` as `ssh-keygen -l` prints it, or hex).

use std::path::PathBuf;
use std::sync::Arc;

use parking_lot::Mutex;
use russh::client;
use russh::keys::{self, HashAlg, PublicKey};

/// How the server's host key is trusted.
#[derive(Debug, Clone)]
pub enum HostKeyPolicy {
    /// Checked against a known_hosts file (`None`: `~/.ssh/known_hosts`); an unknown key is
    /// refused unless `accept_new`, which records it; a changed key is always refused.
    KnownHosts {
        /// The file.
        path: Option<PathBuf>,
        /// Trust on first use (recorded in the file).
        accept_new: bool,
    },
    /// Exactly this key: `SHA256:<base64>` as `ssh-keygen -l` prints it (or its 32 bytes
    /// in hex).
    Fingerprint(String),
}

/// The OpenSSH form of a key's fingerprint (`SHA256:...`).
pub fn fingerprint_of(key: &PublicKey) -> String {
    key.fingerprint(HashAlg::Sha256).to_string()
}

fn fingerprint_matches(pin: &str, key: &PublicKey) -> bool {
    let actual = key.fingerprint(HashAlg::Sha256);
    let pin = pin.trim();
    if let Some(b64) = pin.strip_prefix("SHA256:") {
        return actual.to_string().trim_end_matches('=')
            == format!("SHA256:{}", b64.trim_end_matches('='));
    }
    let hex: String = pin
        .chars()
        .filter(|c| *c != ':')
        .collect::<String>()
        .to_ascii_lowercase();
    let actual_hex: String = actual
        .as_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    hex == actual_hex
}

/// russh's callbacks: the host key decision, with the reason kept for the error.
pub(super) struct Checker {
    pub(super) host: String,
    pub(super) port: u16,
    pub(super) policy: HostKeyPolicy,
    pub(super) refusal: Arc<Mutex<Option<String>>>,
}

impl client::Handler for Checker {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let key = match key {
            keys::PublicKeyOrCertificate::PublicKey { key, .. } => key.clone(),
            keys::PublicKeyOrCertificate::Certificate(c) => {
                PublicKey::new(c.public_key().clone(), "")
            }
        };
        let fp = fingerprint_of(&key);
        let where_ = format!("{}:{}", self.host, self.port);
        let refuse = |why: String| {
            *self.refusal.lock() = Some(why);
            Ok(false)
        };
        match &self.policy {
            HostKeyPolicy::Fingerprint(pin) => {
                if fingerprint_matches(pin, &key) {
                    Ok(true)
                } else {
                    refuse(format!(
                        "host key mismatch for {where_}: the server offers {fp}, the pinned fingerprint is {pin}"
                    ))
                }
            }
            HostKeyPolicy::KnownHosts { path, accept_new } => {
                let Some(file) = path
                    .clone()
                    .or_else(|| std::env::home_dir().map(|h| h.join(".ssh/known_hosts")))
                else {
                    return refuse(
                        "no known_hosts file (no home directory); pin a host key fingerprint"
                            .into(),
                    );
                };
                let known = if file.exists() {
                    keys::check_known_hosts_path(&self.host, self.port, &key, &file)
                } else {
                    Ok(false)
                };
                match known {
                    Ok(true) => Ok(true),
                    Ok(false) if *accept_new => {
                        if let Some(dir) = file.parent() {
                            let _ = std::fs::create_dir_all(dir);
                        }
                        match keys::known_hosts::learn_known_hosts_path(&self.host, self.port, &key, &file) {
                            Ok(()) => Ok(true),
                            Err(e) => refuse(format!("cannot record the host key of {where_} in {}: {e}", file.display())),
                        }
                    }
                    Ok(false) => refuse(format!(
                        "unknown host key {fp} for {where_} (not in {}); add it to known_hosts, pin it with a fingerprint, or allow accept-new",
                        file.display()
                    )),
                    Err(keys::Error::KeyChanged { line }) => refuse(format!(
                        "host key mismatch for {where_}: the server offers {fp}, {} line {line} records another key (possible man-in-the-middle)",
                        file.display()
                    )),
                    Err(e) => refuse(format!("cannot read {}: {e}", file.display())),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints() {
        // `ssh-keygen -lf` of this key prints SHA256:T8fFqxH6NVeUhhcqi20FeY0VNHnEzTA88Jnwsu3QrfM.
        let public = PublicKey::from_openssh(
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBIwzURePMYwoAVaNxvAGae9wg/YSnuvoX3e6N829Xaj test",
        )
        .unwrap();
        let fp = fingerprint_of(&public);
        assert_eq!(fp, "SHA256:T8fFqxH6NVeUhhcqi20FeY0VNHnEzTA88Jnwsu3QrfM");
        assert!(fingerprint_matches(&fp, &public));
        let hex: String = public
            .fingerprint(HashAlg::Sha256)
            .as_bytes()
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        assert!(fingerprint_matches(&hex, &public));
        assert!(!fingerprint_matches("SHA256:AAAA", &public));
    }
}
