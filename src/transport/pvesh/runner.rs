//! Where pvesh commands run: a local subprocess (killed when its time is up), the system
//! `ssh` binary (with `-F`, `-i`, `-A` and extra `-o` options; ssh's own failures told apart
//! from pvesh's), or a russh session; and how a file to upload gets to the node.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;

use super::super::ssh::SshSession;
use super::Output;
use crate::api::{ApiError, Error, UploadSource};

/// Quotes an argv for a remote shell (each word single-quoted where needed).
pub fn shell_join(argv: &[String]) -> Result<String, Error> {
    shlex::try_join(argv.iter().map(String::as_str))
        .map_err(|e| Error::Invalid(format!("command: cannot quote for the shell: {e}")))
}

/// The system `ssh`/`scp` binaries and their options.
#[derive(Debug, Clone, Default)]
pub struct OpenSshConfig {
    /// Host name or address.
    pub host: String,
    /// Port (`None`: what `~/.ssh/config` says, else 22).
    pub port: Option<u16>,
    /// Login user (`None`: from `~/.ssh/config`).
    pub user: Option<String>,
    /// `-i` identity file.
    pub identity_file: Option<PathBuf>,
    /// `-F` config file.
    pub config_file: Option<PathBuf>,
    /// `-A`.
    pub forward_agent: bool,
    /// Extra `-o` options (tests use them for a private known_hosts file).
    pub options: Vec<String>,
    /// Connect timeout.
    pub connect_timeout: Option<Duration>,
    /// The `ssh` binary (default `ssh`).
    pub ssh_binary: Option<String>,
    /// The `scp` binary (default `scp`).
    pub scp_binary: Option<String>,
}

impl OpenSshConfig {
    fn common(&self, port_flag: &str) -> Vec<String> {
        let mut a = vec!["-o".to_string(), "BatchMode=yes".to_string()];
        if let Some(t) = self.connect_timeout {
            a.push("-o".into());
            a.push(format!("ConnectTimeout={}", t.as_secs().max(1)));
        }
        if let Some(p) = self.port {
            a.push(port_flag.into());
            a.push(p.to_string());
        }
        if let Some(i) = &self.identity_file {
            a.push("-i".into());
            a.push(i.display().to_string());
        }
        if let Some(f) = &self.config_file {
            a.push("-F".into());
            a.push(f.display().to_string());
        }
        for o in &self.options {
            a.push("-o".into());
            a.push(o.clone());
        }
        a
    }

    fn destination(&self) -> String {
        let host = if self.host.contains(':') && !self.host.starts_with('[') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match &self.user {
            Some(u) => format!("{u}@{host}"),
            None => host,
        }
    }

    fn ssh_destination(&self) -> String {
        match &self.user {
            Some(u) => format!("{u}@{}", self.host),
            None => self.host.clone(),
        }
    }
}

/// Where the pvesh command runs.
#[derive(Debug, Clone)]
pub enum Runner {
    /// A subprocess on this machine.
    Local,
    /// The system `ssh` binary.
    OpenSsh(OpenSshConfig),
    /// A russh connection (reused for every call).
    Russh(Arc<SshSession>),
}

/// Runs `argv` locally with a timeout; the process is killed when it runs out.
pub async fn run_local(argv: &[String], timeout: Option<Duration>) -> Result<Output, Error> {
    let Some((program, args)) = argv.split_first() else {
        return Err(Error::Invalid("command: empty argv".into()));
    };
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    let child = cmd.spawn().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::Api(ApiError {
                status: 500,
                message: format!("'{program}' not found on PATH: is this a Proxmox node?"),
                errors: None,
                exit_code: Some(127),
            })
        } else {
            Error::Api(ApiError::new(500, format!("cannot run '{program}': {e}")))
        }
    })?;
    let wait = collect(child);
    match timeout {
        Some(t) => tokio::time::timeout(t, wait).await.map_err(|_| {
            Error::Timeout(format!(
                "'{}' did not finish within {:.1} s (killed)",
                argv.join(" "),
                t.as_secs_f64()
            ))
        })?,
        None => wait.await,
    }
}

async fn collect(mut child: tokio::process::Child) -> Result<Output, Error> {
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let mut stderr = child.stderr.take().expect("stderr is piped");
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let (r1, r2) = tokio::join!(stdout.read_to_end(&mut out), stderr.read_to_end(&mut err));
    r1.and(r2)
        .map_err(|e| Error::Connection(format!("reading the command's output: {e}")))?;
    let status = child
        .wait()
        .await
        .map_err(|e| Error::Connection(format!("waiting for the command: {e}")))?;
    Ok(Output {
        stdout: out,
        stderr: err,
        exit_code: status.code(),
    })
}

impl Runner {
    /// Runs `argv` where this runner runs commands.
    pub async fn run(&self, argv: &[String], timeout: Option<Duration>) -> Result<Output, Error> {
        match self {
            Runner::Local => run_local(argv, timeout).await,
            Runner::OpenSsh(cfg) => {
                let mut full = vec![cfg.ssh_binary.clone().unwrap_or_else(|| "ssh".into())];
                full.extend(cfg.common("-p"));
                if cfg.forward_agent {
                    full.push("-A".into());
                }
                full.push("--".into());
                full.push(cfg.ssh_destination());
                full.push(shell_join(argv)?);
                let out = run_local(&full, timeout).await?;
                if out.exit_code == Some(255) && !String::from_utf8_lossy(&out.stdout).contains('{')
                {
                    // ssh itself failed (255 is also pvesh's error code: tell them apart
                    // by ssh's own messages).
                    let err = String::from_utf8_lossy(&out.stderr);
                    if is_ssh_failure(&err) {
                        return Err(ssh_failure(err.trim()));
                    }
                }
                Ok(out)
            }
            Runner::Russh(s) => {
                let r = s.exec(&shell_join(argv)?, timeout, None).await?;
                Ok(Output {
                    stdout: r.stdout,
                    stderr: r.stderr,
                    exit_code: r.exit_code,
                })
            }
        }
    }

    /// Puts `source` at `remote` on the node.
    pub(super) async fn put_file(&self, source: &UploadSource, remote: &str) -> Result<(), Error> {
        match self {
            Runner::Local => match source {
                UploadSource::Path(p) => tokio::fs::copy(p, remote).await.map(|_| ()),
                UploadSource::Bytes(b) => tokio::fs::write(remote, b).await,
            }
            .map_err(|e| Error::Connection(format!("copying the upload to {remote}: {e}"))),
            Runner::OpenSsh(cfg) => {
                let (local, _guard) = match source {
                    UploadSource::Path(p) => (p.clone(), None),
                    UploadSource::Bytes(b) => {
                        let tmp = tempfile_with(b)?;
                        (tmp.0.clone(), Some(tmp))
                    }
                };
                let mut full = vec![cfg.scp_binary.clone().unwrap_or_else(|| "scp".into())];
                full.push("-q".into());
                full.extend(cfg.common("-P"));
                full.push("--".into());
                full.push(local.display().to_string());
                full.push(format!("{}:{remote}", cfg.destination()));
                let out = run_local(&full, None).await?;
                if out.exit_code != Some(0) {
                    return Err(ssh_failure(String::from_utf8_lossy(&out.stderr).trim()));
                }
                Ok(())
            }
            Runner::Russh(s) => s.upload(source, remote).await,
        }
    }
}

/// A temporary local file removed on drop.
struct LocalTemp(PathBuf);

impl Drop for LocalTemp {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn tempfile_with(bytes: &[u8]) -> Result<LocalTemp, Error> {
    let path = std::env::temp_dir().join(format!("proxmox-sdk-upload-{}", random_hex()));
    std::fs::write(&path, bytes)
        .map_err(|e| Error::Connection(format!("writing {}: {e}", path.display())))?;
    Ok(LocalTemp(path))
}

pub(super) fn random_hex() -> String {
    use rand::RngExt;
    let n: u64 = rand::rng().random();
    format!("{n:016x}")
}

fn is_ssh_failure(stderr: &str) -> bool {
    let s = stderr.to_ascii_lowercase();
    [
        "host key verification failed",
        "permission denied (",
        "connection refused",
        "could not resolve hostname",
        "connection timed out",
        "no route to host",
        "remote host identification has changed",
        "connection closed by",
    ]
    .iter()
    .any(|m| s.contains(m))
}

fn ssh_failure(message: &str) -> Error {
    let lower = message.to_ascii_lowercase();
    if lower.contains("permission denied") {
        Error::Auth(format!("ssh: {message}"))
    } else if lower.contains("host key") || lower.contains("identification has changed") {
        Error::Tls(format!("ssh: {message}"))
    } else if lower.contains("timed out") {
        Error::Timeout(format!("ssh: {message}"))
    } else {
        Error::Connection(format!("ssh: {message}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        let a = vec![
            "pvesh".to_string(),
            "create".into(),
            "-comment".into(),
            "it's $HOME; rm -rf /".into(),
        ];
        let q = shell_join(&a).unwrap();
        assert_eq!(shlex::split(&q).unwrap(), a);
        assert!(shell_join(&["a\0b".to_string()]).is_err());
    }

    #[tokio::test]
    async fn local_runner() {
        let out = run_local(
            &[
                "sh".into(),
                "-c".into(),
                "echo out; echo err >&2; exit 3".into(),
            ],
            None,
        )
        .await
        .unwrap();
        assert_eq!(
            (out.stdout.as_slice(), out.stderr.as_slice(), out.exit_code),
            (&b"out\n"[..], &b"err\n"[..], Some(3))
        );
        let missing = run_local(&["no-such-pvesh-binary".into()], None).await;
        assert!(
            matches!(missing, Err(Error::Api(e)) if e.message.contains("'no-such-pvesh-binary' not found"))
        );
        let slow = run_local(
            &["sleep".into(), "5".into()],
            Some(Duration::from_millis(100)),
        )
        .await;
        assert!(matches!(slow, Err(Error::Timeout(m)) if m.contains("killed")));
    }
}
