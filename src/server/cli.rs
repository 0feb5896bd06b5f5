//! `python -m proxmox_sdk.server` / `proxmox-sdk-mock`: flags and environment variables,
//! start-up banner, and a graceful stop on SIGINT/SIGTERM.

use std::net::TcpListener;
use std::path::PathBuf;

use clap::Parser;

use super::{start, AuthConfig, Limits, ServerConfig, TlsSource};

/// The mock Proxmox server.
#[derive(Debug, Parser)]
#[command(
    name = "proxmox-sdk-mock",
    about = "Serve an in-memory Proxmox VE, PBS, PMG or PDM API (mock mode) over HTTP or HTTPS, or validate and forward to a real one",
    disable_version_flag = true
)]
pub struct ServerArgs {
    /// Address to listen on.
    #[arg(long, env = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// Port (0 picks a free one). Default: 8000 for PVE (the original server's), the
    /// product's own port for the others (PBS 8007, PMG 8006, PDM 8443).
    #[arg(long, env = "PORT")]
    pub port: Option<u16>,
    /// The product served: PVE (default), PBS, PMG or PDM (its schema, auth and data; in
    /// real mode the product behind PROXMOX_API_URL).
    #[arg(long, env = "PROXMOX_API_SERVICE", value_parser = parse_service)]
    pub service: Option<crate::schema::Product>,
    /// Schema version of the product: latest, or one bundled (PVE 9.2, 9.1.11; PBS 4;
    /// PMG 6.3; PDM 1). (`--version VERSION`, the old spelling, still works, with a
    /// note; `--version` alone prints the program's version.)
    #[arg(
        long = "schema-version",
        env = "PROXMOX_MOCK_SCHEMA_VERSION",
        default_value = "latest"
    )]
    pub schema_version: String,
    /// Serve HTTPS with a self-signed certificate made at start (or --cert/--key).
    #[arg(long)]
    pub tls: bool,
    /// PEM certificate chain (implies --tls).
    #[arg(long, requires = "key")]
    pub cert: Option<PathBuf>,
    /// PEM private key (implies --tls).
    #[arg(long, requires = "cert")]
    pub key: Option<PathBuf>,
    /// Initial data: JSON or YAML mapping API paths to values.
    #[arg(long, env = "PROXMOX_MOCK_DATA_PATH")]
    pub data: Option<PathBuf>,
    /// Keep state across restarts: loaded at start, written at shutdown.
    #[arg(long, env = "PROXMOX_MOCK_STATE_FILE")]
    pub state_file: Option<PathBuf>,
    /// root@pam's password (generated and printed when not given).
    #[arg(long, env = "PROXMOX_MOCK_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Answer without authentication (quick experiments).
    #[arg(long)]
    pub no_auth: bool,
    /// Mock state namespace.
    #[arg(long, env = "PROXMOX_MOCK_STATE_NAMESPACE", default_value = "default")]
    pub namespace: String,
    /// Store writes to paths PVE lacks instead of answering 501.
    #[arg(long)]
    pub lenient: bool,
    /// Requests per second per client address (429 with Retry-After above it).
    #[arg(long, env = "PROXMOX_RATE_LIMIT")]
    pub rate_limit: Option<u32>,
    /// Origins allowed by CORS, comma-separated (`*` for any).
    #[arg(long, env = "CORS_ORIGINS", value_delimiter = ',')]
    pub cors_origins: Vec<String>,
    /// Bearer key for the codegen endpoints (they answer 403 without one).
    #[arg(long, env = "CODEGEN_API_KEY", hide_env_values = true)]
    pub codegen_api_key: Option<String>,
    /// Serve the test-control endpoints under /_mock/ (faults, latency, clock, request log).
    #[arg(long, env = "PROXMOX_MOCK_ADMIN")]
    pub admin: bool,
    /// Bearer token that opens the test-control endpoints (besides root@pam's ticket).
    #[arg(long, env = "PROXMOX_MOCK_ADMIN_TOKEN", hide_env_values = true)]
    pub admin_token: Option<String>,
    /// Log each request (method, path, status, time) to stderr.
    #[arg(long)]
    pub log: bool,
    /// Real mode: answer 502 when the real PVE's answer does not match its schema.
    #[arg(long, env = "PROXMOX_API_STRICT")]
    pub strict: bool,
    /// Real mode: pin the real PVE's certificate by SHA-256 fingerprint.
    #[arg(long, env = "PROXMOX_API_FINGERPRINT")]
    pub upstream_fingerprint: Option<String>,
    /// mock (default) or real.
    #[arg(long, env = "PROXMOX_API_MODE", default_value = "mock")]
    pub mode: String,
    /// Largest API request body in bytes, uploads aside (PVE: 65536).
    #[arg(long, env = "PROXMOX_MOCK_MAX_BODY", default_value_t = Limits::default().max_body)]
    pub max_body: usize,
    /// Largest upload in bytes (streamed, never held in memory).
    #[arg(long, env = "PROXMOX_MOCK_MAX_UPLOAD", default_value_t = Limits::default().max_upload)]
    pub max_upload: u64,
    /// Seconds a connection may take to send a request's headers, or stay idle between
    /// requests, before it is closed.
    #[arg(long, env = "PROXMOX_MOCK_HEADER_TIMEOUT",
        default_value_t = Limits::default().header_timeout.as_secs_f64(), value_parser = parse_secs)]
    pub header_timeout: f64,
    /// Seconds a request (uploads aside) may take to be answered, its body included,
    /// before it gets 408.
    #[arg(long, env = "PROXMOX_MOCK_REQUEST_TIMEOUT",
        default_value_t = Limits::default().request_timeout.as_secs_f64(), value_parser = parse_secs)]
    pub request_timeout: f64,
    /// Connections served at once (further ones wait to be accepted).
    #[arg(long, env = "PROXMOX_MOCK_MAX_CONNECTIONS",
        default_value_t = Limits::default().max_connections)]
    pub max_connections: usize,
    /// Seconds a refused (401) request is held back, one client's one after another
    /// (PVE: 3).
    #[arg(long, env = "PROXMOX_MOCK_AUTH_FAIL_DELAY",
        default_value_t = Limits::default().auth_fail_delay.as_secs_f64(), value_parser = parse_secs_or_zero)]
    pub auth_fail_delay: f64,
}

/// A number of seconds within the common bounds ([`crate::limits::MAX_SECONDS`]).
fn seconds(s: &str, zero_allowed: bool) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("expected seconds, got '{s}'"))?;
    crate::limits::duration("the value", v, zero_allowed).map(|_| v)
}

fn parse_secs(s: &str) -> Result<f64, String> {
    seconds(s, false)
}

fn parse_secs_or_zero(s: &str) -> Result<f64, String> {
    seconds(s, true)
}

fn parse_service(s: &str) -> Result<crate::schema::Product, String> {
    s.parse::<crate::schema::Product>()
        .map_err(|e| e.to_string())
}

/// A random password for root@pam.
pub fn generated_password() -> String {
    let mut b = [0u8; 12];
    rand::fill(&mut b);
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl ServerArgs {
    /// The product served.
    pub fn product(&self) -> crate::schema::Product {
        self.service.unwrap_or_default()
    }

    /// The port to listen on.
    pub fn listen_port(&self) -> u16 {
        self.port.unwrap_or(match self.product() {
            crate::schema::Product::Pve => 8000,
            p => p.default_port(),
        })
    }

    /// The server configuration these arguments describe; the second value says whether the
    /// password was generated (and must be shown).
    pub fn config(&self) -> (ServerConfig, bool) {
        let generated = self.password.is_none();
        let password = self.password.clone().unwrap_or_else(generated_password);
        let tls = match (&self.cert, &self.key) {
            (Some(cert), Some(key)) => Some(TlsSource::Files {
                cert: cert.clone(),
                key: key.clone(),
            }),
            _ if self.tls => Some(TlsSource::SelfSigned(vec![
                "localhost".into(),
                "127.0.0.1".into(),
                self.host.clone(),
            ])),
            _ => None,
        };
        (
            ServerConfig {
                service: self.product(),
                version: self.schema_version.clone(),
                namespace: self.namespace.clone(),
                data_path: self.data.clone(),
                state_file: self.state_file.clone(),
                auth: AuthConfig {
                    enabled: !self.no_auth,
                    root_password: password,
                },
                tls,
                lenient: self.lenient,
                rate_limit: self.rate_limit,
                cors_origins: self
                    .cors_origins
                    .iter()
                    .map(|o| o.trim().to_string())
                    .filter(|o| !o.is_empty())
                    .collect(),
                codegen_api_key: self.codegen_api_key.clone(),
                admin: self.admin,
                admin_token: self.admin_token.clone().filter(|t| !t.is_empty()),
                upstream: None,
                limits: Limits {
                    max_body: self.max_body,
                    max_upload: self.max_upload,
                    // Checked by `seconds` when parsed.
                    header_timeout: std::time::Duration::from_secs_f64(self.header_timeout),
                    request_timeout: std::time::Duration::from_secs_f64(self.request_timeout),
                    max_connections: self.max_connections,
                    auth_fail_delay: std::time::Duration::from_secs_f64(self.auth_fail_delay),
                },
                prepare_openapi: true,
            },
            generated && !self.no_auth,
        )
    }
}

/// What `--version` meant on a command line.
#[derive(Debug, PartialEq, Eq)]
enum VersionFlag {
    /// Not given.
    None,
    /// Alone (or before another option): print the program's version.
    Print,
    /// With a value: the old spelling of `--schema-version`, rewritten in place.
    Renamed,
}

fn legacy_version_flag(argv: &mut [std::ffi::OsString]) -> VersionFlag {
    let mut found = VersionFlag::None;
    let mut i = 1;
    while i < argv.len() {
        let a = argv[i].to_string_lossy().into_owned();
        if a == "--" {
            break;
        }
        if let Some(v) = a.strip_prefix("--version=") {
            argv[i] = format!("--schema-version={v}").into();
            found = VersionFlag::Renamed;
        } else if a == "--version" || a == "-V" {
            let value = argv
                .get(i + 1)
                .map(|n| n.to_string_lossy().into_owned())
                .filter(|n| !n.starts_with('-'));
            if a == "-V" || value.is_none() {
                return VersionFlag::Print;
            }
            argv[i] = "--schema-version".into();
            found = VersionFlag::Renamed;
            i += 1;
        }
        i += 1;
    }
    found
}

/// Runs the server until SIGINT/SIGTERM; returns the exit code (0 after a clean stop).
pub fn main_with_args<I, T>(argv: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let mut argv: Vec<std::ffi::OsString> = argv.into_iter().map(Into::into).collect();
    match legacy_version_flag(&mut argv) {
        VersionFlag::Print => {
            let prog = argv.first().map_or_else(
                || "proxmox-sdk-mock".into(),
                |p| {
                    let p = p.to_string_lossy();
                    std::path::Path::new(p.as_ref())
                        .file_name()
                        .map_or_else(|| p.to_string(), |f| f.to_string_lossy().into_owned())
                },
            );
            println!("{prog} {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
        VersionFlag::Renamed => eprintln!(
            "note: --version VERSION is now --schema-version VERSION (--version alone prints \
             the program's version); the old spelling will be removed in a later release"
        ),
        VersionFlag::None => {}
    }
    let args = match ServerArgs::try_parse_from(argv) {
        Ok(a) => a,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    let upstream = match args.mode.to_ascii_lowercase().as_str() {
        "mock" => None,
        "real" => match upstream_from_env(
            args.strict,
            args.upstream_fingerprint.as_deref(),
            args.service,
        ) {
            Ok(u) => Some(u),
            Err(e) => {
                eprintln!("error: {e}");
                return 2;
            }
        },
        other => {
            eprintln!("error: PROXMOX_API_MODE={other}: expected mock or real");
            return 2;
        }
    };
    let port = args.listen_port();
    let listener = match TcpListener::bind((args.host.as_str(), port)) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: cannot listen on {}:{port}: {e}", args.host);
            return 1;
        }
    };
    // Warnings (schema mismatches of a real PVE's answers, a state file that cannot be
    // written) always reach stderr; `--log` adds one line per request.
    let _ = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_env_filter(tracing_subscriber::EnvFilter::new(if args.log {
            "proxmox_sdk=info"
        } else {
            "proxmox_sdk=warn"
        }))
        .try_init();
    let (mut config, show_password) = args.config();
    let real = upstream.is_some();
    let own_credentials = upstream
        .as_ref()
        .is_some_and(|u| matches!(u.credentials, super::proxy::ProxyCredentials::Own { .. }));
    config.upstream = upstream;
    let password = config.auth.root_password.clone();
    let auth = config.auth.enabled;
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    // Listen for the signals before the first request can be answered, so that a signal
    // sent as soon as the server answers (or the banner appears) is never missed.
    let signals = {
        use tokio::signal::unix::{signal, SignalKind};
        let _in_runtime = runtime.enter();
        match (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            (Ok(i), Ok(t)) => (i, t),
            (Err(e), _) | (_, Err(e)) => {
                eprintln!("error: cannot listen for signals: {e}");
                return 1;
            }
        }
    };
    let server = match start(listener, config) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return 1;
        }
    };
    runtime.block_on(async {
        let (mut int, mut term) = signals;
        let product = args.product();
        println!(
            "proxmox-sdk {}: {}/api2/json ({product} schema {})",
            if real {
                "validating proxy"
            } else {
                "mock server"
            },
            server.url(),
            crate::schema::bundled::resolve_version_of(product, &args.schema_version)
                .unwrap_or("?")
        );
        if let Some(fp) = server.fingerprint {
            println!("TLS certificate SHA-256 fingerprint: {fp}");
        }
        if real {
            println!(
                "mode: real (validating proxy); {}",
                if own_credentials {
                    "the proxy's own credentials; clients present the proxy token"
                } else {
                    "each client's own ticket or token passes through to PVE"
                }
            );
        } else if !auth {
            println!("authentication: off (--no-auth)");
        } else if show_password {
            println!(
                "login: root@pam / {password} (generated; set --password or PROXMOX_MOCK_PASSWORD)"
            );
        } else {
            println!("login: root@pam with the configured password");
        }
        let _ = std::io::Write::flush(&mut std::io::stdout());
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
    });
    println!("shutting down");
    match server.stop() {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            1
        }
    }
}

/// Real mode's upstream from the environment variables of the original server.
pub fn upstream_from_env(
    strict: bool,
    fingerprint: Option<&str>,
    service: Option<crate::schema::Product>,
) -> Result<super::proxy::UpstreamConfig, String> {
    // PROXMOX_CONFIG_FILE (JSON or YAML) supplies the same keys; the environment wins.
    let file: serde_json::Map<String, serde_json::Value> =
        match std::env::var("PROXMOX_CONFIG_FILE") {
            Ok(path) if !path.trim().is_empty() => {
                let value = crate::files::read_structured(std::path::Path::new(&path))
                    .map_err(|e| format!("PROXMOX_CONFIG_FILE {e}"))?;
                match value {
                    serde_json::Value::Object(m) => m,
                    _ => {
                        return Err(format!(
                            "PROXMOX_CONFIG_FILE {path}: expected a mapping of PROXMOX_API_* keys"
                        ))
                    }
                }
            }
            _ => serde_json::Map::new(),
        };
    let var = |k: &str| {
        std::env::var(k)
            .ok()
            .or_else(|| {
                file.get(k).map(|v| match v {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            })
            .filter(|v| !v.trim().is_empty())
    };
    let service = match (service, var("PROXMOX_API_SERVICE")) {
        (Some(s), _) => s,
        (None, Some(name)) => name
            .parse::<crate::schema::Product>()
            .map_err(|e| format!("PROXMOX_API_SERVICE: {e}"))?,
        (None, None) => crate::schema::Product::Pve,
    };
    let url =
        var("PROXMOX_API_URL").ok_or("real mode needs PROXMOX_API_URL (https://host:8006)")?;
    let secs = |k: &str, default: f64| -> Result<std::time::Duration, String> {
        match var(k) {
            Some(v) => {
                let n = v
                    .parse::<f64>()
                    .map_err(|_| format!("{k}: expected a number of seconds, got '{v}'"))?;
                crate::limits::duration(k, n, false)
            }
            None => Ok(std::time::Duration::from_secs_f64(default)),
        }
    };
    let verify_ssl = match var("PROXMOX_API_VERIFY_SSL")
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("1" | "true" | "yes" | "on") => true,
        Some("0" | "false" | "no" | "off") => false,
        Some(other) => {
            return Err(format!(
                "PROXMOX_API_VERIFY_SSL: expected true or false, got '{other}'"
            ))
        }
    };
    let fingerprint = fingerprint
        .map(crate::tls::Fingerprint::parse)
        .transpose()?;
    let credentials = match var("PROXMOX_API_PROXY_CREDENTIALS")
        .as_deref()
        .map(str::to_ascii_lowercase)
        .as_deref()
    {
        None | Some("pass" | "pass-through" | "passthrough") => {
            super::proxy::ProxyCredentials::PassThrough
        }
        Some("own") => super::proxy::ProxyCredentials::Own {
            token: var("PROXMOX_API_PROXY_TOKEN").ok_or(
                "PROXMOX_API_PROXY_CREDENTIALS=own needs PROXMOX_API_PROXY_TOKEN: the token clients present (Authorization: Bearer <token>)",
            )?,
        },
        Some(other) => {
            return Err(format!(
                "PROXMOX_API_PROXY_CREDENTIALS: expected pass or own, got '{other}'"
            ))
        }
    };
    Ok(super::proxy::UpstreamConfig {
        credentials,
        service,
        url,
        path_prefix: var("PROXMOX_API_PATH_PREFIX").unwrap_or_default(),
        token_id: var("PROXMOX_API_TOKEN_ID"),
        token_secret: var("PROXMOX_API_TOKEN_SECRET"),
        username: var("PROXMOX_API_USERNAME"),
        password: var("PROXMOX_API_PASSWORD"),
        verify_ssl,
        fingerprint,
        timeout: secs("PROXMOX_API_TIMEOUT", 30.0)?,
        connect_timeout: secs("PROXMOX_API_CONNECT_TIMEOUT", 10.0)?,
        strict,
        retries: match var("PROXMOX_API_RETRIES") {
            Some(v) => v
                .parse()
                .map_err(|_| format!("PROXMOX_API_RETRIES: expected a whole number, got '{v}'"))?,
            None => 0,
        },
        retry_backoff: match var("PROXMOX_API_RETRY_BACKOFF") {
            Some(v) => {
                let n = v.parse::<f64>().map_err(|_| {
                    format!("PROXMOX_API_RETRY_BACKOFF: expected a number of seconds, got '{v}'")
                })?;
                crate::limits::duration("PROXMOX_API_RETRY_BACKOFF", n, true)?
            }
            None => std::time::Duration::from_millis(500),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::Product;

    #[test]
    fn service_picks_schema_and_port() {
        let args = |argv: &[&str]| ServerArgs::try_parse_from(argv).unwrap();
        let pve = args(&["s"]);
        assert_eq!((pve.product(), pve.listen_port()), (Product::Pve, 8000));
        let pbs = args(&["s", "--service", "pbs"]);
        assert_eq!((pbs.product(), pbs.listen_port()), (Product::Pbs, 8007));
        assert_eq!(args(&["s", "--service", "PDM"]).listen_port(), 8443);
        assert_eq!(
            args(&["s", "--service", "PDM", "--port", "0"]).listen_port(),
            0
        );
        assert_eq!(pbs.config().0.service, Product::Pbs);
        let err = ServerArgs::try_parse_from(["s", "--service", "PXE"]).unwrap_err();
        assert!(err.to_string().contains("unknown service 'PXE'"), "{err}");
    }
}
