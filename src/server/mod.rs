//! The HTTP(S) server: the whole PVE API of one schema version at `/api2/json/...`,
//! answered by the same in-memory PVE as the SDK's mock backend, or (real mode) a
//! validating proxy to a real PVE. This layer is HTTP only: headers, cookies, CSRF
//! transport, TLS, limits. Routing uses the schema's path index through one fallback
//! handler, so startup costs milliseconds.
//!
//! - [`config`]: what a server starts with; [`cli`]: the command line that builds it.
//! - [`app`]: state, router, [`serve`] (async, with a shutdown future) and [`start`].
//! - [`api`]: authentication from headers and the API handler; [`envelope`]: PVE's
//!   envelope, headers, the answer cache and request parameters.
//! - [`upload`], [`admin`] (test control), [`metrics`], [`service`] (the server's own
//!   endpoints), [`proxy`] (real mode), [`auth`] (the token header).
//! - [`limits`]: refused logins held back, the bound on connections.
//! - [`inprocess`]: the router called without a socket (the Python ASGI apps).
//! - [`persist`]: with a state file, writes acknowledged once on disk (group commit).
//! - [`otel`]: spans over OTLP/HTTP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

pub mod admin;
pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod docs;
pub mod envelope;
pub mod front;
pub mod inprocess;
pub mod limits;
pub mod metrics;
pub mod otel;
pub mod persist;
pub mod proxy;
pub mod service;
pub mod upload;

pub use app::{serve, start, RunningServer};
pub use config::{AuthConfig, Limits, ServerConfig, TlsSource};

/// The header that reports a schema mismatch of an upstream answer.
pub use api::MISMATCH_HEADER;

/// Why the server could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// Setting up the mock failed.
    #[error(transparent)]
    Mock(#[from] crate::mock::MockError),
    /// Socket or file trouble.
    #[error("{0}")]
    Io(String),
    /// TLS material could not be made or read.
    #[error("TLS: {0}")]
    Tls(String),
}
