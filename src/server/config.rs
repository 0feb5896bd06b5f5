//! What a server is started with: schema version, store, authentication, TLS, limits,
//! test controls, and real mode's upstream. The command line ([`super::cli`]) and Python
//! build one of these.

use std::path::PathBuf;

use super::proxy;
use super::ServerError;
use crate::tls::Fingerprint;

/// How the server authenticates API calls.
#[derive(Clone)]
pub struct AuthConfig {
    /// Whether `/api2/json` requires a ticket or token (`--no-auth` turns it off).
    pub enabled: bool,
    /// `root@pam`'s password.
    pub root_password: String,
}

impl std::fmt::Debug for AuthConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthConfig")
            .field("enabled", &self.enabled)
            .field("root_password", &"<redacted>")
            .finish()
    }
}

/// TLS material: a certificate chain and key in PEM, or a self-signed one made at start.
#[derive(Clone, Debug)]
pub enum TlsSource {
    /// Generate a self-signed certificate for these names.
    SelfSigned(Vec<String>),
    /// PEM files.
    Files {
        /// Certificate chain.
        cert: PathBuf,
        /// Private key.
        key: PathBuf,
    },
}

/// Everything the server needs to start.
#[derive(Clone, Debug)]
pub struct ServerConfig {
    /// The product served (PVE unless told otherwise): its schema, auth and default data.
    pub service: crate::schema::Product,
    /// Schema version of that product (`latest` allowed).
    pub version: String,
    /// Mock store namespace.
    pub namespace: String,
    /// Initial data file for a new store.
    pub data_path: Option<PathBuf>,
    /// State file: loaded at start if present, written at shutdown.
    pub state_file: Option<PathBuf>,
    /// Authentication.
    pub auth: AuthConfig,
    /// TLS, if any.
    pub tls: Option<TlsSource>,
    /// Store writes to paths PVE lacks instead of answering 501.
    pub lenient: bool,
    /// Requests per second per client address (`PROXMOX_RATE_LIMIT`); over it: 429.
    pub rate_limit: Option<u32>,
    /// Origins allowed by CORS (`CORS_ORIGINS`, comma-separated; `*` for any).
    pub cors_origins: Vec<String>,
    /// Bearer key of the codegen endpoints (`CODEGEN_API_KEY`); without one they answer 403.
    pub codegen_api_key: Option<String>,
    /// Serve the test-control endpoints under `/_mock/` (off unless asked for).
    pub admin: bool,
    /// A bearer token for the test-control endpoints (`PROXMOX_MOCK_ADMIN_TOKEN`); with
    /// authentication on they take it or root@pam's ticket, nothing else.
    pub admin_token: Option<String>,
    /// Real mode: forward to this PVE instead of answering from the mock.
    pub upstream: Option<proxy::UpstreamConfig>,
    /// What one client may cost the server (bodies, time, connections).
    pub limits: Limits,
    /// Build `/openapi.json` (and its gzip form) in the background at start rather than
    /// on first request (the command line's server does; in-process routers do not).
    pub prepare_openapi: bool,
}

/// The server's limits, PVE's where PVE has one (`PVE::APIServer::AnyEvent`).
#[derive(Clone, Debug, PartialEq)]
pub struct Limits {
    /// Largest request body of an API call other than an upload (PVE: 64 KiB, over it
    /// `501 for data too large`).
    pub max_body: usize,
    /// Largest upload (`.../storage/{storage}/upload`), streamed and never held in memory.
    pub max_upload: u64,
    /// How long a connection may take to send a request's headers, and stay idle between
    /// requests (PVE closes a connection after 5 s without traffic).
    pub header_timeout: std::time::Duration,
    /// How long a request (uploads aside) may take to be answered, its body included,
    /// before it gets `408`.
    pub request_timeout: std::time::Duration,
    /// Connections served at once; further ones wait to be accepted (PVE: 800).
    pub max_connections: usize,
    /// How long a 401 is held back (PVE: 3 s); one client's refusals are answered one
    /// after another, so guessing passwords in parallel gains nothing. Other clients
    /// are not delayed.
    pub auth_fail_delay: std::time::Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_body: 64 * 1024,
            max_upload: 64 << 30,
            header_timeout: std::time::Duration::from_secs(5),
            request_timeout: std::time::Duration::from_secs(60),
            max_connections: 800,
            auth_fail_delay: std::time::Duration::from_secs(3),
        }
    }
}

impl ServerConfig {
    /// A mock-mode configuration with the defaults of the command line.
    pub fn mock(version: &str, namespace: &str, auth: AuthConfig) -> ServerConfig {
        ServerConfig {
            service: crate::schema::Product::Pve,
            version: version.to_string(),
            namespace: namespace.to_string(),
            data_path: None,
            state_file: None,
            auth,
            tls: None,
            lenient: false,
            rate_limit: None,
            cors_origins: Vec::new(),
            codegen_api_key: None,
            admin: false,
            admin_token: None,
            upstream: None,
            limits: Limits::default(),
            prepare_openapi: false,
        }
    }
}

/// The rustls configuration and certificate fingerprint of `source`.
pub(crate) fn make_tls(
    source: &TlsSource,
) -> Result<(rustls::ServerConfig, Fingerprint), ServerError> {
    crate::tls::install_crypto_provider();
    let tls_err = |e: String| ServerError::Tls(e);
    let (certs, key) = match source {
        TlsSource::SelfSigned(names) => {
            let certified = rcgen::generate_simple_self_signed(names.clone())
                .map_err(|e| tls_err(e.to_string()))?;
            let key = rustls::pki_types::PrivateKeyDer::Pkcs8(
                certified.signing_key.serialize_der().into(),
            );
            (vec![certified.cert.der().clone()], key)
        }
        TlsSource::Files { cert, key } => {
            use rustls::pki_types::pem::PemObject;
            let certs = rustls::pki_types::CertificateDer::pem_file_iter(cert)
                .map_err(|e| tls_err(format!("{}: {e}", cert.display())))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| tls_err(format!("{}: {e}", cert.display())))?;
            let key = rustls::pki_types::PrivateKeyDer::from_pem_file(key)
                .map_err(|e| tls_err(format!("{}: {e}", key.display())))?;
            (certs, key)
        }
    };
    let fingerprint = Fingerprint::of(
        certs
            .first()
            .map(std::convert::AsRef::as_ref)
            .unwrap_or_default(),
    );
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| tls_err(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((config, fingerprint))
}
