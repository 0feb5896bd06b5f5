//! The server's Python edge: start it in the background, or run the command line.

use std::net::TcpListener;
use std::path::PathBuf;

use parking_lot::Mutex;
use pyo3::exceptions::{PyOSError, PyRuntimeError};
use pyo3::prelude::*;

use super::guarded;
use crate::server::inprocess::InProcess;
use crate::server::{cli, start, AuthConfig, RunningServer, ServerConfig, TlsSource};

/// A server running in the background.
#[pyclass(module = "proxmox_sdk._native", name = "ServerHandle", frozen)]
pub struct ServerHandle {
    inner: Mutex<Option<RunningServer>>,
    url: String,
    fingerprint: Option<String>,
    password: String,
}

#[pymethods]
impl ServerHandle {
    /// `http(s)://HOST:PORT`.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// The TLS certificate's SHA-256 fingerprint (`AA:BB:...`), with TLS.
    #[getter]
    fn fingerprint(&self) -> Option<&str> {
        self.fingerprint.as_deref()
    }

    /// root@pam's password.
    #[getter]
    fn password(&self) -> &str {
        &self.password
    }

    /// Whether it still runs.
    #[getter]
    fn running(&self) -> bool {
        self.inner.lock().is_some()
    }

    /// Stops it gracefully (idempotent) and writes the state file if one is set.
    fn stop(&self, py: Python<'_>) -> PyResult<()> {
        let server = self.inner.lock().take();
        if let Some(s) = server {
            guarded(py, || {
                s.stop().map_err(|e| PyRuntimeError::new_err(e.to_string()))
            })?;
        }
        Ok(())
    }

    fn __repr__(&self) -> String {
        format!("<ServerHandle {} running={}>", self.url, self.running())
    }
}

/// Starts the mock server in the background (see `proxmox_sdk.server.start`).
#[pyfunction]
#[pyo3(signature = (*, host = "127.0.0.1", port = None, version = "latest", tls = false, cert = None, key = None,
    data = None, state_file = None, password = None, no_auth = false, namespace = "default", lenient = false,
    rate_limit = None, cors_origins = Vec::new(), codegen_api_key = None, admin = false, service = "PVE",
    max_body = None, max_upload = None, header_timeout = None, max_connections = None, auth_fail_delay = None,
    admin_token = None, request_timeout = None))]
#[allow(clippy::too_many_arguments)]
pub fn start_server(
    py: Python<'_>,
    host: &str,
    port: Option<&Bound<'_, PyAny>>,
    version: &str,
    tls: bool,
    cert: Option<PathBuf>,
    key: Option<PathBuf>,
    data: Option<PathBuf>,
    state_file: Option<PathBuf>,
    password: Option<String>,
    no_auth: bool,
    namespace: &str,
    lenient: bool,
    rate_limit: Option<&Bound<'_, PyAny>>,
    cors_origins: Vec<String>,
    codegen_api_key: Option<String>,
    admin: bool,
    service: &str,
    max_body: Option<&Bound<'_, PyAny>>,
    max_upload: Option<&Bound<'_, PyAny>>,
    header_timeout: Option<&Bound<'_, PyAny>>,
    max_connections: Option<&Bound<'_, PyAny>>,
    auth_fail_delay: Option<&Bound<'_, PyAny>>,
    admin_token: Option<String>,
    request_timeout: Option<&Bound<'_, PyAny>>,
) -> PyResult<ServerHandle> {
    let mut limits = crate::server::Limits::default();
    if let Some(n) = super::args::opt_int_in("max_body", max_body, 0, i64::from(u32::MAX))? {
        limits.max_body = n as usize;
    }
    if let Some(n) = super::args::opt_int_in("max_upload", max_upload, 0, i64::MAX)? {
        limits.max_upload = n as u64;
    }
    if let Some(n) = super::args::opt_int_in("max_connections", max_connections, 1, 1 << 20)? {
        limits.max_connections = n as usize;
    }
    if let Some(t) = header_timeout {
        limits.header_timeout = std::time::Duration::from_secs_f64(super::args::seconds_arg(
            "header_timeout",
            t,
            false,
        )?);
    }
    if let Some(t) = request_timeout {
        limits.request_timeout = std::time::Duration::from_secs_f64(super::args::seconds_arg(
            "request_timeout",
            t,
            false,
        )?);
    }
    if let Some(t) = auth_fail_delay {
        limits.auth_fail_delay = std::time::Duration::from_secs_f64(super::args::seconds_arg(
            "auth_fail_delay",
            t,
            true,
        )?);
    }
    let service = service
        .parse::<crate::schema::Product>()
        .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("service: {e}")))?;
    let port = super::args::opt_int_in("port", port, 0, 65535)?.unwrap_or(0) as u16;
    let rate_limit = super::args::opt_int_in("rate_limit", rate_limit, 1, i64::from(u32::MAX))?
        .map(|r| r as u32);
    let password = password.unwrap_or_else(cli::generated_password);
    let tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(TlsSource::Files { cert, key }),
        (None, None) if tls => Some(TlsSource::SelfSigned(vec![
            "localhost".into(),
            "127.0.0.1".into(),
            host.to_string(),
        ])),
        (None, None) => None,
        _ => {
            return Err(pyo3::exceptions::PyValueError::new_err(
                "cert and key go together",
            ))
        }
    };
    let config = ServerConfig {
        service,
        version: version.to_string(),
        namespace: namespace.to_string(),
        data_path: data,
        state_file,
        auth: AuthConfig {
            enabled: !no_auth,
            root_password: password.clone(),
        },
        tls,
        lenient,
        rate_limit,
        cors_origins,
        codegen_api_key,
        admin,
        admin_token: admin_token.filter(|t| !t.is_empty()),
        upstream: None,
        limits,
        prepare_openapi: false,
    };
    let server = guarded(py, || {
        let listener = TcpListener::bind((host, port))
            .map_err(|e| PyOSError::new_err(format!("cannot listen on {host}:{port}: {e}")))?;
        start(listener, config).map_err(|e| PyRuntimeError::new_err(e.to_string()))
    })?;
    Ok(ServerHandle {
        url: server.url(),
        fingerprint: server.fingerprint.map(|f| f.to_string()),
        password,
        inner: Mutex::new(Some(server)),
    })
}

/// Runs `proxmox-sdk-mock` with `argv` until SIGINT/SIGTERM; returns the exit code.
#[pyfunction]
pub fn server_main(py: Python<'_>, argv: Vec<String>) -> PyResult<i32> {
    guarded(py, || Ok(cli::main_with_args(argv)))
}

/// The server's router, called in-process per request: what the ASGI apps of
/// `proxmox_sdk.mock_main`, `proxmox_sdk.main` and `proxmox_sdk.pdm_mock_main` use.
#[pyclass(module = "proxmox_sdk._native", name = "AsgiRouter", frozen)]
pub struct AsgiRouter {
    inner: InProcess,
    password: String,
}

#[pymethods]
impl AsgiRouter {
    /// A router over the mock of `service` (`real=True`: a validating proxy to the PVE the
    /// `PROXMOX_API_*` environment variables name).
    #[new]
    #[pyo3(signature = (*, version = "latest", service = "PVE", namespace = "default", data = None,
        state_file = None, password = None, auth = false, lenient = false, admin = false,
        codegen_api_key = None, cors_origins = Vec::new(), real = false, strict = false,
        admin_token = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        version: &str,
        service: &str,
        namespace: &str,
        data: Option<PathBuf>,
        state_file: Option<PathBuf>,
        password: Option<String>,
        auth: bool,
        lenient: bool,
        admin: bool,
        codegen_api_key: Option<String>,
        cors_origins: Vec<String>,
        real: bool,
        strict: bool,
        admin_token: Option<String>,
    ) -> PyResult<AsgiRouter> {
        let product = service
            .parse::<crate::schema::Product>()
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(format!("service: {e}")))?;
        let password = password.unwrap_or_else(cli::generated_password);
        let mut config = ServerConfig::mock(
            version,
            namespace,
            AuthConfig {
                enabled: auth,
                root_password: password.clone(),
            },
        );
        config.service = product;
        config.data_path = data;
        config.state_file = state_file;
        config.lenient = lenient;
        config.admin = admin;
        config.admin_token = admin_token.filter(|t| !t.is_empty());
        config.codegen_api_key = codegen_api_key;
        config.cors_origins = cors_origins;
        if real {
            config.upstream = Some(
                cli::upstream_from_env(strict, None, Some(product))
                    .map_err(pyo3::exceptions::PyValueError::new_err)?,
            );
        }
        let inner = guarded(py, || {
            InProcess::new(config).map_err(|e| PyRuntimeError::new_err(e.to_string()))
        })?;
        Ok(AsgiRouter { inner, password })
    }

    /// root@pam's password (with `auth=True`).
    #[getter]
    fn password(&self) -> &str {
        &self.password
    }

    /// The product served.
    #[getter]
    fn service(&self) -> &'static str {
        self.inner.app().config.service.name()
    }

    /// The schema version served.
    #[getter]
    fn schema_version(&self) -> String {
        self.inner.app().mock.schema().version().to_string()
    }

    /// The mock's store.
    #[getter]
    fn store(&self) -> super::store::MockStore {
        super::store::MockStore::new(self.inner.app().mock.clone())
    }

    /// Answers one request (awaitable): `(status, reason, [(name, value)], body)`;
    /// `target` is the path with its query string, `client` the peer `(host, port)`.
    #[pyo3(signature = (method, target, headers, body, client = None))]
    fn handle<'py>(
        &self,
        py: Python<'py>,
        method: String,
        target: String,
        headers: Vec<(Vec<u8>, Vec<u8>)>,
        body: Vec<u8>,
        client: Option<(String, u16)>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let inner = self.inner.clone();
        let peer = client.and_then(|(h, p)| {
            h.parse::<std::net::IpAddr>()
                .ok()
                .map(|ip| std::net::SocketAddr::new(ip, p))
        });
        let run = async move { inner.handle(&method, &target, &headers, body, peer).await };
        super::bridge::spawn(py, run, |py, r| match r {
            Ok(a) => {
                let headers: Vec<(
                    pyo3::Bound<'_, pyo3::types::PyBytes>,
                    pyo3::Bound<'_, pyo3::types::PyBytes>,
                )> = a
                    .headers
                    .iter()
                    .map(|(k, v)| {
                        (
                            pyo3::types::PyBytes::new(py, k.as_bytes()),
                            pyo3::types::PyBytes::new(py, v),
                        )
                    })
                    .collect();
                let body = pyo3::types::PyBytes::new(py, &a.body);
                Ok((a.status, a.reason, headers, body)
                    .into_pyobject(py)?
                    .into_any()
                    .unbind())
            }
            Err(e) => Err(pyo3::exceptions::PyValueError::new_err(e.to_string())),
        })
    }

    /// Writes the state file, if one is set (the ASGI lifespan's shutdown calls it).
    fn save_state(&self, py: Python<'_>) -> PyResult<()> {
        guarded(py, || {
            self.inner
                .save_state()
                .map_err(|e| PyRuntimeError::new_err(e.to_string()))
        })
    }
}
