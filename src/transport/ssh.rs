//! SSH over russh: one connection reused for many commands, host keys checked against
//! `known_hosts` (or a pinned SHA-256 fingerprint), password, key-file and agent login,
//! per-command timeouts and output caps, and SFTP uploads. The `ssh_paramiko` backend and
//! `proxmox_sdk.ssh.RemoteSSHClient` both sit on [`SshSession`].

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use parking_lot::Mutex;
use russh::client::{self, Handle};
use russh::keys::{self, HashAlg, PrivateKeyWithHashAlg, PublicKey};
use russh::ChannelMsg;
use tokio::io::AsyncWriteExt;

use crate::api::Error;
use crate::api::UploadSource;

/// The logger of SSH connections (Python's `proxmox_sdk.ssh`).
const LOG: &str = "proxmox_sdk::ssh";

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
            SshAuth::Agent => f.write_str("Agent"),
            SshAuth::DefaultKeys { passphrase } => f
                .debug_struct("DefaultKeys")
                .field("passphrase", &passphrase.as_ref().map(|_| "<redacted>"))
                .finish(),
        }
    }
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct SshConfig {
    /// Host name or address.
    pub host: String,
    /// Port.
    pub port: u16,
    /// Login user.
    pub user: String,
    /// Login methods, tried in order.
    pub auth: Vec<SshAuth>,
    /// Host key trust.
    pub host_key: HostKeyPolicy,
    /// Time to connect and log in.
    pub connect_timeout: Duration,
}

/// Why an SSH operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SshFailure {
    /// The host key is unknown, changed, or not the pinned one.
    HostKey(String),
    /// Every login method was refused.
    Auth(String),
    /// Connecting or a command ran out of time.
    Timeout(String),
    /// A command printed more than allowed.
    TooLarge {
        /// The cap in bytes.
        limit: usize,
    },
    /// Anything else (connection refused, channel errors, SFTP errors).
    Other(String),
}

impl std::fmt::Display for SshFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SshFailure::HostKey(m)
            | SshFailure::Auth(m)
            | SshFailure::Timeout(m)
            | SshFailure::Other(m) => f.write_str(m),
            SshFailure::TooLarge { limit } => {
                write!(f, "command output exceeds the cap of {limit} bytes")
            }
        }
    }
}

impl From<SshFailure> for Error {
    fn from(e: SshFailure) -> Error {
        match e {
            SshFailure::HostKey(m) => Error::HostKey(format!("ssh: {m}")),
            SshFailure::Auth(m) => Error::Auth(format!("ssh: {m}")),
            SshFailure::Timeout(m) => Error::Timeout(format!("ssh: {m}")),
            SshFailure::TooLarge { limit } => Error::TooLarge {
                limit,
                size: limit + 1,
            },
            SshFailure::Other(m) => Error::Connection(format!("ssh: {m}")),
        }
    }
}

/// What a command printed and how it ended.
#[derive(Debug, Clone, Default)]
pub struct ExecResult {
    /// Standard output (up to the cap).
    pub stdout: Vec<u8>,
    /// Standard error (up to the cap).
    pub stderr: Vec<u8>,
    /// Exit status (`None` if the server sent none, e.g. killed by a signal).
    pub exit_code: Option<i32>,
    /// Wall time.
    pub duration: Duration,
    /// Whether output beyond the cap was dropped.
    pub truncated: bool,
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
struct Checker {
    host: String,
    port: u16,
    policy: HostKeyPolicy,
    refusal: Arc<Mutex<Option<String>>>,
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
                let file =
                    match path
                        .clone()
                        .or_else(|| std::env::home_dir().map(|h| h.join(".ssh/known_hosts")))
                    {
                        Some(f) => f,
                        None => return refuse(
                            "no known_hosts file (no home directory); pin a host key fingerprint"
                                .into(),
                        ),
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

/// A (lazily opened, reused) SSH connection.
pub struct SshSession {
    config: SshConfig,
    handle: tokio::sync::Mutex<Option<Arc<Handle<Checker>>>>,
    /// OpenSSH allows 10 sessions per connection (`MaxSessions`); more concurrent
    /// commands wait for a free channel instead of failing.
    channels: tokio::sync::Semaphore,
}

/// Concurrent channels per connection (below OpenSSH's default `MaxSessions` of 10).
const MAX_CHANNELS: usize = 8;

impl std::fmt::Debug for SshSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshSession")
            .field("host", &self.config.host)
            .field("port", &self.config.port)
            .field("user", &self.config.user)
            .field("auth", &self.config.auth)
            .finish()
    }
}

impl SshSession {
    /// A session for `config`; nothing connects until the first command.
    pub fn new(config: SshConfig) -> SshSession {
        SshSession {
            config,
            handle: tokio::sync::Mutex::new(None),
            channels: tokio::sync::Semaphore::new(MAX_CHANNELS),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &SshConfig {
        &self.config
    }

    /// Connects and logs in now (or reuses the open connection).
    pub async fn connect(&self) -> Result<(), SshFailure> {
        self.handle().await.map(|_| ())
    }

    async fn handle(&self) -> Result<Arc<Handle<Checker>>, SshFailure> {
        let mut guard = self.handle.lock().await;
        if let Some(h) = guard.as_ref() {
            if !h.is_closed() {
                return Ok(h.clone());
            }
        }
        let t = self.config.connect_timeout;
        let opened = tokio::time::timeout(t, self.open()).await.map_err(|_| {
            SshFailure::Timeout(format!(
                "connecting to {}:{} took longer than {:.1} s",
                self.config.host,
                self.config.port,
                t.as_secs_f64()
            ))
        });
        let h = match opened.and_then(|r| r) {
            Ok((h, how)) => {
                log::info!(
                    target: LOG,
                    "connected to {}:{} as {} ({how})",
                    self.config.host,
                    self.config.port,
                    self.config.user
                );
                h
            }
            Err(e) => {
                log::warn!(target: LOG, "ssh to {}:{}: {e}", self.config.host, self.config.port);
                return Err(e);
            }
        };
        let h = Arc::new(h);
        *guard = Some(h.clone());
        Ok(h)
    }

    /// A logged-in connection and the login method that worked.
    async fn open(&self) -> Result<(Handle<Checker>, &'static str), SshFailure> {
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

    /// Runs `command` (a shell command line) and collects its output, up to `cap` bytes
    /// of stdout and stderr together (more is dropped and `truncated` set), within
    /// `timeout` (the channel is closed when it runs out).
    pub async fn exec(
        &self,
        command: &str,
        timeout: Option<Duration>,
        cap: Option<usize>,
    ) -> Result<ExecResult, SshFailure> {
        let started = Instant::now();
        let handle = self.handle().await?;
        let run = async {
            let _permit = self
                .channels
                .acquire()
                .await
                .map_err(|_| SshFailure::Other("the connection is closing".into()))?;
            let mut channel = handle
                .channel_open_session()
                .await
                .map_err(|e| SshFailure::Other(format!("opening a channel: {e}")))?;
            channel
                .exec(true, command)
                .await
                .map_err(|e| SshFailure::Other(format!("starting the command: {e}")))?;
            let mut r = ExecResult::default();
            let room =
                |r: &ExecResult| cap.map(|c| c.saturating_sub(r.stdout.len() + r.stderr.len()));
            while let Some(msg) = channel.wait().await {
                match msg {
                    ChannelMsg::Data { data } => {
                        let room = room(&r);
                        push_capped(&mut r, false, &data, room)
                    }
                    ChannelMsg::ExtendedData { data, ext: 1 } => {
                        let room = room(&r);
                        push_capped(&mut r, true, &data, room)
                    }
                    ChannelMsg::ExitStatus { exit_status } => {
                        r.exit_code = Some(exit_status as i32)
                    }
                    ChannelMsg::Close => break,
                    _ => {}
                }
            }
            Ok::<_, SshFailure>(r)
        };
        let mut result = match timeout {
            Some(t) => tokio::time::timeout(t, run).await.map_err(|_| {
                SshFailure::Timeout(format!(
                    "command did not finish within {:.1} s",
                    t.as_secs_f64()
                ))
            })??,
            None => run.await?,
        };
        result.duration = started.elapsed();
        Ok(result)
    }

    /// Writes `source` to `remote` over SFTP.
    pub async fn upload(&self, source: &UploadSource, remote: &str) -> Result<(), Error> {
        let handle = self.handle().await?;
        let other = |what: &str, e: &dyn std::fmt::Display| {
            Error::from(SshFailure::Other(format!("sftp {what}: {e}")))
        };
        let _permit = self
            .channels
            .acquire()
            .await
            .map_err(|e| other("channel", &e))?;
        let channel = handle
            .channel_open_session()
            .await
            .map_err(|e| other("channel", &e))?;
        channel
            .request_subsystem(true, "sftp")
            .await
            .map_err(|e| other("subsystem", &e))?;
        let sftp = russh_sftp::client::SftpSession::new(channel.into_stream())
            .await
            .map_err(|e| other("session", &e))?;
        let mut file = sftp
            .create(remote)
            .await
            .map_err(|e| other(&format!("create {remote}"), &e))?;
        match source {
            UploadSource::Path(p) => {
                let mut local = tokio::fs::File::open(p)
                    .await
                    .map_err(|e| Error::Invalid(format!("cannot open '{}': {e}", p.display())))?;
                tokio::io::copy(&mut local, &mut file)
                    .await
                    .map_err(|e| other("write", &e))?;
            }
            UploadSource::Bytes(b) => file.write_all(b).await.map_err(|e| other("write", &e))?,
        }
        file.shutdown().await.map_err(|e| other("close", &e))?;
        let _ = sftp.close().await;
        Ok(())
    }

    /// Closes the connection (the next command opens a new one).
    pub async fn close(&self) {
        if let Some(h) = self.handle.lock().await.take() {
            let _ = h
                .disconnect(russh::Disconnect::ByApplication, "bye", "en")
                .await;
        }
    }
}

fn push_capped(r: &mut ExecResult, stderr: bool, data: &[u8], room: Option<usize>) {
    let take = room.map_or(data.len(), |room| room.min(data.len()));
    if take < data.len() {
        r.truncated = true;
    }
    let buf = if stderr { &mut r.stderr } else { &mut r.stdout };
    buf.extend_from_slice(&data[..take]);
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

    #[test]
    fn capped_output() {
        let mut r = ExecResult::default();
        push_capped(&mut r, false, b"hello", Some(3));
        assert_eq!((r.stdout.as_slice(), r.truncated), (&b"hel"[..], true));
    }
}
