//! SSH over russh: one connection reused for many commands, per-command timeouts and
//! output caps, and SFTP uploads. Host keys are checked in [`hostkey`] (`known_hosts` or a
//! pinned SHA-256 fingerprint), logins tried in [`login`] (password, key file, agent, the
//! user's default keys). The `ssh_paramiko` backend and `proxmox_sdk.ssh.RemoteSSHClient`
//! both sit on [`SshSession`].

pub mod hostkey;
pub mod login;

use std::sync::Arc;
use std::time::{Duration, Instant};

use russh::client::Handle;
use russh::ChannelMsg;
use tokio::io::AsyncWriteExt;

use crate::api::{Error, UploadSource};
use hostkey::Checker;
pub use hostkey::{fingerprint_of, HostKeyPolicy};
pub use login::{default_key_files, SshAuth};

/// The logger of SSH connections (Python's `proxmox_sdk.ssh`).
const LOG: &str = "proxmox_sdk::ssh";

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
                        push_capped(&mut r, false, &data, room);
                    }
                    ChannelMsg::ExtendedData { data, ext: 1 } => {
                        let room = room(&r);
                        push_capped(&mut r, true, &data, room);
                    }
                    ChannelMsg::ExitStatus { exit_status } => {
                        r.exit_code = Some(exit_status as i32);
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
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_output() {
        let mut r = ExecResult::default();
        push_capped(&mut r, false, b"hello", Some(3));
        assert_eq!((r.stdout.as_slice(), r.truncated), (&b"hel"[..], true));
    }
}
