//! Where requests go: the [`Backend`] enum over the in-memory PVE and the real transports,
//! the [`BackendKind`] names users pick them by, the services table and the connection
//! options that build a backend.

pub mod options;
pub mod services;

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;

use crate::api::{Answer, Call, Error};
use crate::mock::MockPve;
use crate::transport::https::HttpsTransport;
use crate::transport::pvesh::{PveshTransport, Runner};

/// The backends, by the names the original package gave them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BackendKind {
    /// PVE's REST API over HTTPS (reqwest).
    Https,
    /// `pvesh` over SSH through russh (the original used paramiko).
    SshParamiko,
    /// `pvesh` over SSH through the system `ssh` binary.
    OpenSsh,
    /// `pvesh` as a local subprocess (on a PVE node).
    Local,
    /// The in-memory PVE.
    Mock,
}

impl BackendKind {
    /// Every backend, in the order messages list them.
    pub const ALL: [BackendKind; 5] = [
        BackendKind::Https,
        BackendKind::SshParamiko,
        BackendKind::OpenSsh,
        BackendKind::Local,
        BackendKind::Mock,
    ];

    /// The name (`https`, `ssh_paramiko`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            BackendKind::Https => "https",
            BackendKind::SshParamiko => "ssh_paramiko",
            BackendKind::OpenSsh => "openssh",
            BackendKind::Local => "local",
            BackendKind::Mock => "mock",
        }
    }

    /// The Python logger its requests are logged under (`proxmox_sdk.http`, ...), in the
    /// `log` crate's spelling.
    pub fn log_target(self) -> &'static str {
        match self {
            BackendKind::Https => "proxmox_sdk::http",
            BackendKind::SshParamiko | BackendKind::OpenSsh => "proxmox_sdk::ssh",
            BackendKind::Local => "proxmox_sdk::local",
            BackendKind::Mock => "proxmox_sdk::mock",
        }
    }
}

impl fmt::Display for BackendKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for BackendKind {
    type Err = String;

    /// Any case; an unknown name lists the known ones.
    fn from_str(s: &str) -> Result<BackendKind, String> {
        BackendKind::ALL
            .into_iter()
            .find(|b| b.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| {
                let names: Vec<&str> = BackendKind::ALL.iter().map(|b| b.as_str()).collect();
                format!("unknown backend '{s}'; supported: {}", names.join(", "))
            })
    }
}

impl<'de> serde::Deserialize<'de> for BackendKind {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<BackendKind, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Where requests go: the in-process mock, or a real transport.
#[derive(Debug, Clone)]
pub enum Backend {
    /// The in-memory PVE.
    Mock(MockPve),
    /// PVE's REST API over HTTPS.
    Https(Arc<HttpsTransport>),
    /// `pvesh`/`pmgsh` locally, over the `ssh` binary, or over russh.
    Pvesh(Arc<PveshTransport>),
}

impl Backend {
    /// Which kind it is.
    pub fn kind(&self) -> BackendKind {
        match self {
            Backend::Mock(_) => BackendKind::Mock,
            Backend::Https(_) => BackendKind::Https,
            Backend::Pvesh(t) => match &t.runner {
                Runner::Local => BackendKind::Local,
                Runner::OpenSsh(_) => BackendKind::OpenSsh,
                Runner::Russh(_) => BackendKind::SshParamiko,
            },
        }
    }

    /// The mock, if it is one.
    pub fn mock(&self) -> Option<&MockPve> {
        match self {
            Backend::Mock(m) => Some(m),
            _ => None,
        }
    }

    /// Sends `call` and returns PVE's unwrapped `data`. The mock waits its latency on the
    /// runtime's clock (never blocking a thread).
    pub async fn call(&self, call: &Call) -> Result<Answer, Error> {
        match self {
            Backend::Https(t) => t.call(call).await.map(Answer::Value),
            // Boxed: the SSH transports' futures are several KB, and every call's future
            // (moved into the runtime's task) would be as large as the largest arm.
            Backend::Pvesh(t) => Box::pin(t.call(call)).await.map(Answer::Value),
            Backend::Mock(m) => {
                let latency = m.latency();
                if !latency.is_zero() {
                    tokio::time::sleep(latency).await;
                }
                m.call(call)
            }
        }
    }

    /// `(ticket, CSRFPreventionToken)` of HTTPS ticket authentication (logs in if needed);
    /// `None` for every other kind of authentication.
    pub async fn tokens(&self) -> Result<Option<(String, String)>, Error> {
        match self {
            Backend::Https(t) => t.tokens().await,
            _ => Ok(None),
        }
    }

    /// Releases connections and sessions (the backend stays usable: it reconnects).
    pub async fn close(&self) {
        match self {
            Backend::Https(t) => t.logout(),
            Backend::Pvesh(t) => {
                if let Runner::Russh(s) = &t.runner {
                    s.close().await;
                }
            }
            Backend::Mock(_) => {}
        }
    }
}
