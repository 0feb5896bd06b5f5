//! The HTTP(S) server: the whole PVE API of one schema version at `/api2/json/...`,
//! answered by the same in-memory PVE as `MockBackend`, with PVE's envelope, reason phrases,
//! headers and authentication; plus `/health`, `/version`, `/mode`, `/versions`,
//! `/openapi.json` and `/metrics`. Routing uses the schema's path index through one
//! fallback handler, so startup costs milliseconds.

pub mod auth;
pub mod cli;
pub mod proxy;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode, Uri};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

use crate::client::ApiError;
use crate::mock::volumes::IncomingFile;
use crate::mock::MockPve;
use crate::tls::Fingerprint;
use auth::{parse_token_header, secret_hash, Signer};

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
    /// Schema version (`latest` allowed).
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
    /// Real mode: forward to this PVE instead of answering from the mock.
    pub upstream: Option<proxy::UpstreamConfig>,
}

impl ServerConfig {
    /// A mock-mode configuration with the defaults of the command line.
    pub fn mock(version: &str, namespace: &str, auth: AuthConfig) -> ServerConfig {
        ServerConfig {
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
            upstream: None,
        }
    }
}

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

/// Request counters for `/metrics`.
#[derive(Debug, Default)]
struct Metrics {
    requests: AtomicU64,
    errors: AtomicU64,
    /// Latency histogram buckets (seconds): counts of requests at or below each bound.
    buckets: [AtomicU64; 8],
    latency_micros: AtomicU64,
}

const BUCKETS: [f64; 8] = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 1.0];

impl Metrics {
    fn observe(&self, elapsed: Duration, status: u16) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if status >= 400 {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    fn render(&self) -> String {
        let total = self.requests.load(Ordering::Relaxed);
        let mut out = String::new();
        out.push_str("# HELP proxmox_mock_requests_total API requests served.\n");
        out.push_str("# TYPE proxmox_mock_requests_total counter\n");
        out.push_str(&format!("proxmox_mock_requests_total {total}\n"));
        out.push_str(
            "# HELP proxmox_mock_request_errors_total API requests answered with a 4xx/5xx.\n",
        );
        out.push_str("# TYPE proxmox_mock_request_errors_total counter\n");
        out.push_str(&format!(
            "proxmox_mock_request_errors_total {}\n",
            self.errors.load(Ordering::Relaxed)
        ));
        out.push_str(
            "# HELP proxmox_mock_request_duration_seconds Time to answer an API request.\n",
        );
        out.push_str("# TYPE proxmox_mock_request_duration_seconds histogram\n");
        for (i, bound) in BUCKETS.iter().enumerate() {
            out.push_str(&format!(
                "proxmox_mock_request_duration_seconds_bucket{{le=\"{bound}\"}} {}\n",
                self.buckets[i].load(Ordering::Relaxed)
            ));
        }
        out.push_str(&format!(
            "proxmox_mock_request_duration_seconds_bucket{{le=\"+Inf\"}} {total}\n"
        ));
        out.push_str(&format!(
            "proxmox_mock_request_duration_seconds_sum {}\n",
            self.latency_micros.load(Ordering::Relaxed) as f64 / 1e6
        ));
        out.push_str(&format!(
            "proxmox_mock_request_duration_seconds_count {total}\n"
        ));
        out
    }
}

/// Shared state of a running server.
struct App {
    mock: MockPve,
    config: ServerConfig,
    signer: Signer,
    metrics: Metrics,
    answers: AnswerCache,
    upstream: Option<proxy::Upstream>,
    started: Instant,
    openapi: std::sync::OnceLock<Bytes>,
}

/// A server started in the background: its address and how to stop it.
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// The certificate fingerprint with TLS.
    pub fingerprint: Option<Fingerprint>,
    handle: axum_server::Handle<SocketAddr>,
    thread: Option<std::thread::JoinHandle<Result<(), ServerError>>>,
}

impl RunningServer {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("{}://{}", self.scheme, self.addr)
    }

    /// Stops accepting, lets requests in flight finish (up to 10 s), writes the state file.
    pub fn stop(mut self) -> Result<(), ServerError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), ServerError> {
        self.handle.graceful_shutdown(Some(Duration::from_secs(10)));
        match self.thread.take() {
            Some(t) => t
                .join()
                .map_err(|_| ServerError::Io("server thread panicked".into()))?,
            None => Ok(()),
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        let _ = self.shutdown();
    }
}

fn make_tls(source: &TlsSource) -> Result<(rustls::ServerConfig, Fingerprint), ServerError> {
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
    let fingerprint = Fingerprint::of(certs.first().map(|c| c.as_ref()).unwrap_or_default());
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| tls_err(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok((config, fingerprint))
}

/// Builds the app state (mock store, state file) for `config`.
fn build_app(config: ServerConfig) -> Result<Arc<App>, ServerError> {
    let mock = MockPve::shared(
        &config.version,
        &config.namespace,
        config.data_path.as_deref(),
        config.lenient,
    )?;
    if let Some(state) = &config.state_file {
        if state.is_file() {
            mock.store()
                .load(state)
                .map_err(|e| ServerError::Io(e.to_string()))?;
        }
    }
    // root@pam signs in with the configured password.
    let hash = secret_hash(&config.auth.root_password);
    mock.store().write(|s| {
        if let Some(root) = s
            .members
            .entry("access/users".into())
            .or_default()
            .get_mut("root@pam")
        {
            root.meta.insert("password_hash".into(), json!(hash));
        }
    });
    let upstream = config
        .upstream
        .clone()
        .map(proxy::Upstream::new)
        .transpose()
        .map_err(ServerError::Io)?;
    Ok(Arc::new(App {
        mock,
        config,
        signer: Signer::random(),
        metrics: Metrics::default(),
        answers: AnswerCache::default(),
        upstream,
        started: Instant::now(),
        openapi: std::sync::OnceLock::new(),
    }))
}

type KeyedLimiter = governor::DefaultKeyedRateLimiter<std::net::IpAddr>;

/// The router: API fallback plus the service endpoints, docs and middleware.
fn router(app: Arc<App>) -> Router {
    use utoipa_swagger_ui::{Config, SwaggerUi};
    let docs: Router<Arc<App>> = SwaggerUi::new("/docs")
        .config(Config::from("/openapi.json"))
        .into();
    let mut r = Router::new()
        .route("/", get(index))
        .route("/health", get(health))
        .route("/version", get(server_version))
        .route("/mode", get(mode))
        .route("/versions", get(versions))
        .route("/openapi.json", get(openapi))
        .route("/metrics", get(metrics))
        .route("/codegen/openapi", axum::routing::post(codegen_openapi))
        .route("/_mock/{*rest}", axum::routing::any(admin))
        .merge(docs)
        .fallback(api)
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            64 * 1024 * 1024,
        ))
        // Uploads stream any size and take as long as they take (PVE sets no limit).
        .merge(
            Router::new()
                .route(UPLOAD_ROUTE, axum::routing::post(upload))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        );
    if let Some(rps) = app.config.rate_limit.and_then(std::num::NonZeroU32::new) {
        let limiter = Arc::new(KeyedLimiter::keyed(governor::Quota::per_second(rps)));
        r = r.layer(axum::middleware::from_fn(
            move |ConnectInfo(peer): ConnectInfo<SocketAddr>,
                  req: axum::extract::Request,
                  next: axum::middleware::Next| {
                let limiter = limiter.clone();
                async move { rate_limited(&limiter, peer, req, next).await }
            },
        ));
    }
    if !app.config.cors_origins.is_empty() {
        use tower_http::cors::{AllowOrigin, Any, CorsLayer};
        let origins = &app.config.cors_origins;
        let allow = if origins.iter().any(|o| o == "*") {
            AllowOrigin::from(Any)
        } else {
            AllowOrigin::list(origins.iter().filter_map(|o| HeaderValue::from_str(o).ok()))
        };
        r = r.layer(
            CorsLayer::new()
                .allow_origin(allow)
                .allow_methods(Any)
                .allow_headers(Any),
        );
    }
    r.with_state(app)
}

/// PVE's 400 for an upload without its file.
fn missing_filename() -> ApiError {
    ApiError {
        status: 400,
        message: "Parameter verification failed.".into(),
        errors: Some(
            [(
                "filename".to_string(),
                "property is missing and it is not optional".to_string(),
            )]
            .into(),
        ),
        exit_code: None,
    }
}

/// PVE's storage upload, the one multipart endpoint.
const UPLOAD_ROUTE: &str = "/api2/json/nodes/{node}/storage/{storage}/upload";

/// `POST .../storage/{storage}/upload` (multipart): the file part is streamed (counted and
/// hashed, never held in memory), the other parts are parameters; then the mock runs the
/// upload as PVE does (an `imgcopy` task; a checksum that does not match fails it).
async fn upload(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
    method: Method,
    multipart: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> Response<Body> {
    let path = uri.path().to_string();
    if let Err(e) = authorize(&app, &method, &path, &headers) {
        return pve_response(Err(e));
    }
    let Ok(mut multipart) = multipart else {
        // A form without a file: PVE answers as for any missing parameter.
        return pve_response(Err(missing_filename()));
    };
    let mut params = Map::new();
    let mut file: Option<(String, IncomingFile)> = None;
    loop {
        let mut field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                return pve_response(Err(ApiError::new(
                    400,
                    format!("invalid multipart body: {e}"),
                )))
            }
        };
        let name = field.name().unwrap_or_default().to_string();
        if let Some(file_name) = field.file_name().map(str::to_string) {
            // The parameters before the file say which digest to compute while it streams.
            let mut incoming = IncomingFile::new(file_name, &params);
            loop {
                match field.chunk().await {
                    Ok(Some(chunk)) => incoming.update(&chunk),
                    Ok(None) => break,
                    Err(e) => {
                        return pve_response(Err(ApiError::new(
                            400,
                            format!("upload interrupted: {e}"),
                        )))
                    }
                }
            }
            file = Some((name, incoming));
        } else {
            match field.text().await {
                Ok(t) => {
                    params.insert(name, Value::String(t));
                }
                Err(e) => {
                    return pve_response(Err(ApiError::new(
                        400,
                        format!("invalid multipart field: {e}"),
                    )))
                }
            }
        }
    }
    let Some((field, incoming)) = file else {
        return pve_response(Err(missing_filename()));
    };
    let result = app
        .mock
        .receive_upload("POST", &path, params, &field, incoming);
    pve_response(result)
}

/// Lets a request through, or answers 429 with `Retry-After` when its client is over the
/// rate limit.
async fn rate_limited(
    limiter: &KeyedLimiter,
    peer: SocketAddr,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response<Body> {
    match limiter.check_key(&peer.ip()) {
        Ok(()) => next.run(req).await,
        Err(not_until) => {
            use governor::clock::{Clock, DefaultClock};
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            let mut resp = pve_response(Err(ApiError::new(429, "rate limit exceeded")));
            let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
            resp
        }
    }
}

/// `POST /codegen/openapi?version_tag=TAG` with an apidoc body: the OpenAPI document the
/// codegen makes of it. Needs `Authorization: Bearer $CODEGEN_API_KEY`.
async fn codegen_openapi(
    State(app): State<Arc<App>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let Some(key) = &app.config.codegen_api_key else {
        return pve_response(Err(ApiError::new(
            403,
            "codegen endpoints are disabled (no CODEGEN_API_KEY)",
        )));
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("");
    // Compare digests so the check takes the same time whatever the key.
    if secret_hash(given) != secret_hash(key) {
        return pve_response(Err(ApiError::new(401, "invalid codegen API key")));
    }
    let tag = uri
        .query()
        .and_then(|q| {
            form_urlencoded::parse(q.as_bytes())
                .find(|(k, _)| k == "version_tag")
                .map(|(_, v)| v.into_owned())
        })
        .unwrap_or_else(|| "custom".to_string());
    let text = String::from_utf8_lossy(&body);
    match crate::codegen::render(&text, &tag, "request body") {
        Ok(r) => {
            let mut resp = Response::new(Body::from(r.openapi_json));
            resp.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            resp
        }
        Err(e) => pve_response(Err(ApiError::new(400, e.to_string()))),
    }
}

/// Starts the server on `listener` in a background thread with its own runtime.
pub fn start(
    listener: std::net::TcpListener,
    config: ServerConfig,
) -> Result<RunningServer, ServerError> {
    listener
        .set_nonblocking(true)
        .map_err(|e| ServerError::Io(e.to_string()))?;
    let addr = listener
        .local_addr()
        .map_err(|e| ServerError::Io(e.to_string()))?;
    let tls = config.tls.as_ref().map(make_tls).transpose()?;
    let state_file = config.state_file.clone();
    let app = build_app(config)?;
    let handle = axum_server::Handle::new();
    let server_handle = handle.clone();
    let fingerprint = tls.as_ref().map(|(_, fp)| *fp);
    let scheme = if tls.is_some() { "https" } else { "http" };
    let thread = std::thread::Builder::new()
        .name("proxmox-sdk-server".into())
        .spawn(move || -> Result<(), ServerError> {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| ServerError::Io(e.to_string()))?;
            let store = app.mock.store().clone();
            let service = router(app).into_make_service_with_connect_info::<SocketAddr>();
            let served = runtime.block_on(async move {
                match tls {
                    Some((config, _)) => {
                        let config =
                            axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config));
                        axum_server::from_tcp_rustls(listener, config)?
                            .handle(server_handle)
                            .serve(service)
                            .await
                    }
                    None => {
                        axum_server::from_tcp(listener)?
                            .handle(server_handle)
                            .serve(service)
                            .await
                    }
                }
            });
            served.map_err(|e| ServerError::Io(e.to_string()))?;
            if let Some(path) = state_file {
                store
                    .save(&path)
                    .map_err(|e| ServerError::Io(format!("{}: {e}", path.display())))?;
            }
            Ok(())
        })
        .map_err(|e| ServerError::Io(e.to_string()))?;
    Ok(RunningServer {
        addr,
        scheme,
        fingerprint,
        handle,
        thread: Some(thread),
    })
}

async fn index() -> axum::Json<Value> {
    axum::Json(json!({
        "name": "proxmox-sdk mock server",
        "api": "/api2/json",
        "docs": "/docs",
        "openapi": "/openapi.json",
        "health": "/health",
    }))
}

async fn health(State(app): State<Arc<App>>) -> axum::Json<Value> {
    axum::Json(json!({
        "status": "ok",
        "mode": "mock",
        "version": app.mock.schema().version(),
        "uptime_seconds": app.started.elapsed().as_secs(),
    }))
}

async fn server_version(State(app): State<Arc<App>>) -> axum::Json<Value> {
    axum::Json(json!({
        "server": env!("CARGO_PKG_VERSION"),
        "schema_version": app.mock.schema().version(),
        "operations": app.mock.schema().operation_count(),
    }))
}

async fn mode(State(app): State<Arc<App>>) -> axum::Json<Value> {
    match &app.upstream {
        Some(up) => axum::Json(json!({
            "mode": "real",
            "upstream": up.config().url,
            "strict": up.config().strict,
        })),
        None => axum::Json(
            json!({"mode": "mock", "auth": app.config.auth.enabled, "lenient": app.mock.lenient()}),
        ),
    }
}

async fn versions(State(app): State<Arc<App>>) -> axum::Json<Value> {
    axum::Json(json!({
        "versions": crate::schema::bundled::versions(),
        "latest": crate::schema::bundled::latest(),
        "active": app.mock.schema().version(),
    }))
}

async fn openapi(State(app): State<Arc<App>>) -> Response<Body> {
    let body = app
        .openapi
        .get_or_init(|| {
            let mut doc = crate::schema::openapi::openapi_document(app.mock.schema());
            add_server_endpoints(&mut doc);
            Bytes::from(serde_json::to_vec(&doc).unwrap_or_default())
        })
        .clone();
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

async fn metrics(State(app): State<Arc<App>>) -> Response<Body> {
    let mut text = app.metrics.render();
    if let Some(up) = &app.upstream {
        text.push_str("# HELP proxmox_proxy_forwarded_total Requests forwarded to the real PVE.\n");
        text.push_str("# TYPE proxmox_proxy_forwarded_total counter\n");
        text.push_str(&format!(
            "proxmox_proxy_forwarded_total {}\n",
            up.forwarded.load(Ordering::Relaxed)
        ));
        text.push_str("# HELP proxmox_proxy_schema_mismatches_total Upstream answers that did not match their schema.\n");
        text.push_str("# TYPE proxmox_proxy_schema_mismatches_total counter\n");
        text.push_str(&format!(
            "proxmox_proxy_schema_mismatches_total {}\n",
            up.mismatches.load(Ordering::Relaxed)
        ));
    }
    let mut resp = Response::new(Body::from(text));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    resp
}

/// A reason phrase hyper accepts: PVE's message on one line, visible ASCII and spaces.
fn reason(message: &str) -> String {
    let line = message.lines().next().unwrap_or("").trim();
    let clean: String = line
        .chars()
        .map(|c| {
            if c == '\t' || (' '..='~').contains(&c) {
                c
            } else {
                '?'
            }
        })
        .collect();
    if clean.is_empty() {
        "Error".into()
    } else {
        clean
    }
}

/// PVE's answer: `{"data": ...}` with PVE's headers; errors carry the message in the reason
/// phrase and in the body.
fn pve_response(result: Result<Value, ApiError>) -> Response<Body> {
    let (status, body, phrase) = match result {
        Ok(data) => (200, json!({ "data": data }), None),
        Err(e) => {
            let mut body = json!({"data": null, "message": format!("{}\n", e.message)});
            if let Some(errors) = &e.errors {
                body["errors"] = json!(errors);
            }
            (e.status, body, Some(reason(&e.message)))
        }
    };
    let mut resp = Response::new(Body::from(serde_json::to_vec(&body).unwrap_or_default()));
    *resp.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if let Some(phrase) = phrase {
        if let Ok(p) = hyper::ext::ReasonPhrase::try_from(phrase.into_bytes()) {
            resp.extensions_mut().insert(p);
        }
    }
    pve_headers(resp.headers_mut());
    resp
}

/// PVE's response headers (`Expires` equals the date: nothing may be cached).
fn pve_headers(h: &mut HeaderMap) {
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json;charset=UTF-8"),
    );
    h.insert(
        header::SERVER,
        HeaderValue::from_static("pve-api-daemon/3.0"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("max-age=0"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if let Ok(v) = HeaderValue::from_str(&httpdate::fmt_http_date(std::time::SystemTime::now())) {
        h.insert(header::EXPIRES, v);
    }
}

/// A 200 answer from an already serialized `{"data": ...}` body.
fn pve_ok_bytes(body: Bytes) -> Response<Body> {
    let mut resp = Response::new(Body::from(body));
    pve_headers(resp.headers_mut());
    resp
}

/// Serialized GET answers by request URI, valid while the store's generation is unchanged
/// (reads between writes answer the same bytes).
#[derive(Default)]
struct AnswerCache {
    entries: parking_lot::Mutex<std::collections::HashMap<String, (u64, Bytes)>>,
}

const ANSWER_CACHE_LIMIT: usize = 1024;

impl AnswerCache {
    fn get(&self, key: &str, generation: u64) -> Option<Bytes> {
        match self.entries.lock().get(key) {
            Some((g, b)) if *g == generation => Some(b.clone()),
            _ => None,
        }
    }

    fn put(&self, key: String, generation: u64, body: Bytes) {
        let mut entries = self.entries.lock();
        if entries.len() >= ANSWER_CACHE_LIMIT {
            entries.retain(|_, (g, _)| *g == generation);
            if entries.len() >= ANSWER_CACHE_LIMIT {
                entries.clear();
            }
        }
        entries.insert(key, (generation, body));
    }
}

/// Query string and body (form-encoded or JSON) as one parameter map; repeated keys
/// become lists.
fn request_params(
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Map<String, Value>, ApiError> {
    let mut out = Map::new();
    let mut add = |k: String, v: Value| match out.get_mut(&k) {
        Some(Value::Array(items)) => items.push(v),
        Some(existing) => {
            let first = existing.take();
            *existing = Value::Array(vec![first, v]);
        }
        None => {
            out.insert(k, v);
        }
    };
    if let Some(q) = uri.query() {
        for (k, v) in form_urlencoded::parse(q.as_bytes()) {
            add(k.into_owned(), Value::String(v.into_owned()));
        }
    }
    if !body.is_empty() {
        let ctype = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if ctype.starts_with("application/json") {
            match serde_json::from_slice::<Value>(body) {
                Ok(Value::Object(map)) => {
                    for (k, v) in map {
                        // The same bound as the SDK's parameters (crate::limits::MAX_DEPTH).
                        if let Err(e) = crate::limits::check_depth(&format!("parameter '{k}'"), &v)
                        {
                            let mut err = ApiError::new(400, "Parameter verification failed.");
                            err.errors = Some([(k, e)].into_iter().collect());
                            return Err(err);
                        }
                        add(k, v);
                    }
                }
                Ok(Value::Null) => {}
                Ok(_) => return Err(ApiError::new(400, "invalid JSON body: expected an object")),
                Err(e) => return Err(ApiError::new(400, format!("invalid JSON body: {e}"))),
            }
        } else {
            for (k, v) in form_urlencoded::parse(body) {
                add(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }
    Ok(out)
}

/// Who is calling, once authenticated.
enum Caller {
    Ticket {
        user: String,
        time: u64,
    },
    /// An API token; with privilege separation it may do only what ACLs grant it.
    Token {
        full_id: String,
        privsep: bool,
    },
    Anonymous,
}

fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get_all(header::COOKIE).iter().find_map(|v| {
        v.to_str().ok()?.split(';').find_map(|part| {
            let (k, val) = part.trim().split_once('=')?;
            (k == name).then_some(val)
        })
    })
}

fn authenticate(app: &App, headers: &HeaderMap) -> Result<Caller, ApiError> {
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let token =
            parse_token_header(auth).ok_or_else(|| ApiError::new(401, "invalid token value!"))?;
        let known = app.mock.store().read(|s| {
            let rec = s
                .members
                .get(&format!("access/users/{}/token", token.user))
                .and_then(|m| m.get(&token.id))?;
            let ok = rec.meta.get("secret_hash").and_then(Value::as_str)
                == Some(&secret_hash(&token.secret));
            let privsep = rec.config.get("privsep").and_then(Value::as_u64) != Some(0);
            Some((ok, privsep))
        });
        return match known {
            Some((true, privsep)) => Ok(Caller::Token {
                full_id: format!("{}!{}", token.user, token.id),
                privsep,
            }),
            _ => Err(ApiError::new(401, "invalid token value!")),
        };
    }
    match cookie(headers, "PVEAuthCookie") {
        Some(ticket) => {
            let ticket = percent_encoding::percent_decode_str(ticket).decode_utf8_lossy();
            app.signer
                .check_ticket(
                    &ticket,
                    app.mock.now(),
                    app.mock.store().control().tickets_not_before,
                )
                .ok()
                .filter(|(user, _)| !user.starts_with(TFA_PREFIX))
                .map(|(user, time)| Caller::Ticket { user, time })
                .ok_or(())
                .map_err(|_| ApiError::new(401, "permission denied - invalid PVE ticket"))
        }
        None => Ok(Caller::Anonymous),
    }
}

/// `POST /access/ticket`: password login, or renewal with the current ticket as password.
fn login(app: &App, params: &Map<String, Value>) -> Result<Value, ApiError> {
    let text = |k: &str| {
        params
            .get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    };
    let mut username = text("username");
    let password = text("password");
    let realm = text("realm");
    if !realm.is_empty() && !username.contains('@') {
        username = format!("{username}@{realm}");
    }
    let failure = || ApiError::new(401, "authentication failure");
    let challenge = text("tfa-challenge");
    if !challenge.is_empty() {
        // Second step of a TFA login: the challenge ticket plus `totp:<code>`.
        let user = app
            .signer
            .check_ticket(
                &challenge,
                app.mock.now(),
                app.mock.store().control().tickets_not_before,
            )
            .ok()
            .and_then(|(u, _)| u.strip_prefix(TFA_PREFIX).map(str::to_string))
            .filter(|u| username.is_empty() || *u == username)
            .ok_or_else(failure)?;
        let code = password.strip_prefix("totp:").ok_or_else(failure)?;
        let secret = app
            .mock
            .store()
            .read(|s| user_meta(s, &user, "totp_secret"));
        if !secret.is_some_and(|s| totp_matches(&s, code)) {
            return Err(failure());
        }
        return Ok(full_login(app, &user));
    }
    let user = if password.starts_with("PVE:") {
        // Renewal: the current ticket, still valid, for the same user.
        let (user, _) = app
            .signer
            .check_ticket(
                &password,
                app.mock.now(),
                app.mock.store().control().tickets_not_before,
            )
            .map_err(|_| failure())?;
        if user != username {
            return Err(failure());
        }
        user
    } else {
        let ok = app.mock.store().read(|s| {
            s.members
                .get("access/users")
                .and_then(|m| m.get(&username))
                .and_then(|r| r.meta.get("password_hash"))
                .and_then(Value::as_str)
                .is_some_and(|h| h == secret_hash(&password))
        });
        if !ok {
            return Err(failure());
        }
        if app
            .mock
            .store()
            .read(|s| user_meta(s, &username, "totp_secret"))
            .is_some()
        {
            // PVE's first step for a user with TFA: a challenge ticket and `NeedTFA`.
            let time = app
                .mock
                .now()
                .max(app.mock.store().control().tickets_not_before);
            let challenge_user = format!("{TFA_PREFIX}{username}");
            return Ok(json!({
                "username": username,
                "ticket": app.signer.ticket(&challenge_user, time),
                "CSRFPreventionToken": app.signer.csrf(&challenge_user, time),
                "NeedTFA": 1,
            }));
        }
        username
    };
    Ok(full_login(app, &user))
}

/// The marker PVE puts in front of the user of a TFA challenge ticket.
const TFA_PREFIX: &str = "!tfa!";

fn user_meta(s: &crate::mock::store::MockState, user: &str, key: &str) -> Option<String> {
    s.members
        .get("access/users")?
        .get(user)?
        .meta
        .get(key)?
        .as_str()
        .map(str::to_string)
}

/// Whether `code` is the current TOTP code (30 s steps, one step of skew) of a base32 secret.
fn totp_matches(secret: &str, code: &str) -> bool {
    let Ok(bytes) = totp_rs::Secret::Encoded(secret.to_string()).to_bytes() else {
        return false;
    };
    totp_rs::TOTP::new_unchecked(totp_rs::Algorithm::SHA1, 6, 1, 30, bytes)
        .check_current(code.trim())
        .unwrap_or(false)
}

/// Registers a TOTP factor (`POST /access/tfa/{userid}` with `type=totp`,
/// `totp=otpauth://...secret=...` and the current code as `value`).
fn add_totp(app: &App, path: &str, params: &Map<String, Value>) -> Result<Value, ApiError> {
    let validated = app.mock.schema().validate_request("POST", path, params)?;
    let user = crate::mock::path_param(&validated.path_params, "userid")
        .unwrap_or_default()
        .to_string();
    let uri = params.get("totp").and_then(Value::as_str).unwrap_or("");
    let secret = uri
        .split_once('?')
        .map(|(_, q)| q)
        .and_then(|q| form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "secret"))
        .map(|(_, v)| v.into_owned())
        .ok_or_else(|| ApiError::new(400, "totp: expected an otpauth:// URI with a secret"))?;
    let code = params.get("value").and_then(Value::as_str).unwrap_or("");
    if !totp_matches(&secret, code) {
        return Err(ApiError::new(400, "failed to verify TOTP challenge"));
    }
    let found = app.mock.store().write(|s| {
        match s
            .members
            .get_mut("access/users")
            .and_then(|m| m.get_mut(&user))
        {
            Some(r) => {
                r.meta.insert("totp_secret".into(), json!(secret));
                true
            }
            None => false,
        }
    });
    if !found && !app.mock.lenient() {
        return Err(ApiError::new(500, format!("no such user ('{user}')")));
    }
    Ok(json!({"id": format!("totp-{}", &secret_hash(&secret)[..8])}))
}

/// A full ticket for `user`.
fn full_login(app: &App, user: &str) -> Value {
    let time = app
        .mock
        .now()
        .max(app.mock.store().control().tickets_not_before);
    json!({
        "username": user,
        "ticket": app.signer.ticket(user, time),
        "CSRFPreventionToken": app.signer.csrf(user, time),
        "cap": {
            "vms": {"VM.Audit": 1, "VM.PowerMgmt": 1, "VM.Allocate": 1, "VM.Config.Options": 1},
            "storage": {"Datastore.Audit": 1, "Datastore.AllocateSpace": 1},
            "nodes": {"Sys.Audit": 1, "Sys.Modify": 1},
            "access": {"User.Modify": 1, "Permissions.Modify": 1},
            "dc": {"Sys.Audit": 1},
            "sdn": {"SDN.Audit": 1},
            "mapping": {"Mapping.Audit": 1},
        },
    })
}

/// Creates an API token (`POST /access/users/{userid}/token/{tokenid}`): the secret is
/// returned once and only its hash is kept.
fn create_token(app: &App, path: &str, params: &Map<String, Value>) -> Result<Value, ApiError> {
    let validated = app.mock.schema().validate_request("POST", path, params)?;
    let get = |k: &str| crate::mock::path_param(&validated.path_params, k).map(str::to_string);
    let (Some(user), Some(id)) = (get("userid"), get("tokenid")) else {
        return Err(ApiError::new(400, "missing userid or tokenid"));
    };
    let exists = app.mock.store().read(|s| {
        s.members
            .get("access/users")
            .is_some_and(|m| m.contains_key(&user))
    });
    if !exists && !app.mock.lenient() {
        return Err(ApiError::new(500, format!("no such user ('{user}')")));
    }
    let secret = uuid_like();
    let privsep = params
        .get("privsep")
        .map(|v| {
            !matches!(
                v.as_str().unwrap_or(&v.to_string()),
                "0" | "false" | "no" | "off"
            )
        })
        .unwrap_or(true);
    let comment = params.get("comment").cloned();
    let expire = params.get("expire").cloned().unwrap_or(json!(0));
    let duplicate = app.mock.store().write(|s| {
        let tokens = s
            .members
            .entry(format!("access/users/{user}/token"))
            .or_default();
        if tokens.contains_key(&id) {
            return true;
        }
        let mut rec = crate::mock::store::Record::default();
        rec.config
            .insert("privsep".into(), json!(u8::from(privsep)));
        rec.config.insert("expire".into(), expire.clone());
        if let Some(c) = &comment {
            rec.config.insert("comment".into(), c.clone());
        }
        rec.meta
            .insert("secret_hash".into(), json!(secret_hash(&secret)));
        tokens.insert(id.clone(), rec);
        false
    });
    if duplicate {
        return Err(ApiError::new(400, "Token already exists."));
    }
    let mut info = json!({"privsep": u8::from(privsep), "expire": expire});
    if let Some(c) = comment {
        info["comment"] = c;
    }
    Ok(json!({"full-tokenid": format!("{user}!{id}"), "info": info, "value": secret}))
}

fn uuid_like() -> String {
    let mut b = [0u8; 16];
    rand::fill(&mut b);
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Every `/api2/json/...` request.
async fn api(
    State(app): State<Arc<App>>,
    ConnectInfo(_peer): ConnectInfo<SocketAddr>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    let started = Instant::now();
    let path = uri.path();
    // Copied out so that no lock is held across the sleep below.
    let latency = app.mock.store().control().latency;
    let resp = if !(path == "/api2/json" || path.starts_with("/api2/json/")) {
        let mut r = Response::new(Body::from("Not Found"));
        *r.status_mut() = StatusCode::NOT_FOUND;
        r
    } else if let Some(upstream) = &app.upstream {
        forward(&app, upstream, &method, &uri, &headers, &body).await
    } else if !latency.is_zero() {
        tokio::time::sleep(latency).await;
        pve_response(handle_api(&app, &method, &uri, &headers, &body))
    } else if method == Method::GET && body.is_empty() {
        cached_read(&app, &uri, &headers)
    } else {
        pve_response(handle_api(&app, &method, &uri, &headers, &body))
    };
    let elapsed = started.elapsed();
    app.metrics.observe(elapsed, resp.status().as_u16());
    // The path only: query strings and bodies can hold passwords and tickets.
    tracing::info!(
        target: "proxmox_sdk::server",
        method = %method,
        path = %uri.path(),
        status = resp.status().as_u16(),
        micros = elapsed.as_micros() as u64,
        "request"
    );
    resp
}

/// A GET: authorized per request, answered from the cache while nothing was written.
fn cached_read(app: &App, uri: &Uri, headers: &HeaderMap) -> Response<Body> {
    if let Err(e) = authorize(app, &Method::GET, uri.path(), headers) {
        return pve_response(Err(e));
    }
    let key = uri
        .path_and_query()
        .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string());
    let generation = app.mock.store().generation();
    // Answers that change with time alone (running tasks, uptimes) are never cached.
    let cacheable =
        app.mock.store().control().time_scale == 0.0 && !uri.path().ends_with("/status/current");
    if let Some(body) = app.answers.get(&key, generation).filter(|_| cacheable) {
        return pve_ok_bytes(body);
    }
    let result = request_params(uri, headers, &[])
        .and_then(|params| app.mock.handle("GET", uri.path(), &params));
    match result {
        Ok(data) => {
            let body =
                Bytes::from(serde_json::to_vec(&json!({ "data": data })).unwrap_or_default());
            // Only if no write happened meanwhile: the answer belongs to this generation.
            if cacheable && app.mock.store().generation() == generation {
                app.answers.put(key, generation, body.clone());
            }
            pve_ok_bytes(body)
        }
        Err(e) => pve_response(Err(e)),
    }
}

/// Authentication and authorization of one API request (tickets, CSRF on writes, tokens
/// and their privilege separation).
fn authorize(app: &App, method: &Method, path: &str, headers: &HeaderMap) -> Result<(), ApiError> {
    let rel = crate::schema::index::strip_api_prefix(path);
    let is_write = method != Method::GET && method != Method::HEAD;
    if app.config.auth.enabled && !(rel == "access/ticket" && method == Method::GET) {
        match authenticate(app, headers)? {
            Caller::Anonymous => return Err(ApiError::new(401, "No ticket")),
            Caller::Token {
                full_id,
                privsep: true,
            } => check_token_privileges(app, &full_id, method, path)?,
            Caller::Ticket { user, time } if is_write => {
                let csrf = headers
                    .get("CSRFPreventionToken")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                if !app.signer.check_csrf(csrf, &user, time) {
                    return Err(ApiError::new(401, "Permission denied - invalid csrf token"));
                }
            }
            _ => {}
        }
    }
    Ok(())
}

fn handle_api(
    app: &App,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Value, ApiError> {
    let path = uri.path();
    let params = request_params(uri, headers, body)?;
    let rel = crate::schema::index::strip_api_prefix(path);
    if rel == "access/ticket" && method == Method::POST {
        return login(app, &params);
    }
    authorize(app, method, path, headers)?;
    if method == Method::POST {
        if let Some(("access", rest)) = rel.split_once('/') {
            let parts: Vec<&str> = rest.split('/').collect();
            if let ["users", _, "token", _] = parts[..] {
                return create_token(app, path, &params);
            }
            if let ["tfa", _] = parts[..] {
                if params.get("type").and_then(Value::as_str) == Some("totp") {
                    return add_totp(app, path, &params);
                }
            }
        }
    }
    if method == Method::PUT && rel == "access/acl" {
        return update_acl(app, path, &params);
    }
    let result = app.mock.handle(method.as_str(), path, &params)?;
    if method == Method::POST && rel == "access/users" {
        // Keep the new user's password (hashed) so it can sign in.
        if let (Some(user), Some(pw)) = (
            params.get("userid").and_then(Value::as_str),
            params.get("password").and_then(Value::as_str),
        ) {
            let hash = secret_hash(pw);
            app.mock.store().write(|s| {
                if let Some(r) = s
                    .members
                    .get_mut("access/users")
                    .and_then(|m| m.get_mut(user))
                {
                    r.meta.insert("password_hash".into(), json!(hash));
                }
            });
        }
    }
    Ok(result)
}

/// The header that reports a schema mismatch of an upstream answer.
pub const MISMATCH_HEADER: &str = "x-proxmox-sdk-schema-mismatch";

/// Real mode: validate locally, forward, check the answer against `returns`.
async fn forward(
    app: &App,
    upstream: &proxy::Upstream,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Response<Body> {
    let params = match request_params(uri, headers, body) {
        Ok(p) => p,
        Err(e) => return pve_response(Err(e)),
    };
    let path = uri.path();
    let schema = app.mock.schema();
    let op = match schema.validate_request(method.as_str(), path, &params) {
        Ok(v) => v.operation,
        Err(e) => return pve_response(Err(e.into())),
    };
    let rel = crate::schema::index::strip_api_prefix(path);
    let fwd = match upstream.forward(method, rel, &params).await {
        Ok(f) => f,
        Err(e) => return pve_response(Err(e)),
    };
    let mismatches = match (fwd.status, fwd.body.get("data")) {
        (200, Some(data)) => op.check_response(data),
        _ => Vec::new(),
    };
    let operation = format!("{} {}", op.method, op.template);
    if let Some(first) = mismatches.first() {
        upstream.mismatches.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            target: "proxmox_sdk::server",
            operation = %operation,
            field = %first.pointer,
            count = mismatches.len(),
            "upstream answer does not match its schema: {}",
            first.message
        );
        if upstream.config().strict {
            return pve_response(Err(ApiError::new(
                502,
                format!(
                    "answer of {operation} does not match its schema at '{}': {}",
                    first.pointer, first.message
                ),
            )));
        }
    }
    let mut resp = Response::new(Body::from(
        serde_json::to_vec(&fwd.body).unwrap_or_default(),
    ));
    *resp.status_mut() = StatusCode::from_u16(fwd.status).unwrap_or(StatusCode::BAD_GATEWAY);
    if fwd.status != 200 {
        if let Ok(p) = hyper::ext::ReasonPhrase::try_from(reason(&fwd.reason).into_bytes()) {
            resp.extensions_mut().insert(p);
        }
    }
    let h = resp.headers_mut();
    pve_headers(h);
    if let Some(first) = mismatches.first() {
        let text = format!(
            "{} field(s); first at '{}'",
            mismatches.len(),
            first.pointer
        );
        if let Ok(v) = HeaderValue::from_str(&reason(&text)) {
            h.insert(MISMATCH_HEADER, v);
        }
    }
    resp
}

/// `PUT /access/acl`: grants (or with `delete=1` revokes) roles on a path to users, groups
/// and tokens. Stored as members of `access/acl`, listed by `GET /access/acl`.
fn update_acl(app: &App, path: &str, params: &Map<String, Value>) -> Result<Value, ApiError> {
    let validated = app
        .mock
        .schema()
        .validate_request("PUT", path, params)
        .map_err(ApiError::from)?;
    let p = &validated.params;
    let text = |k: &str| p.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    let list = |k: &str| -> Vec<String> {
        crate::schema::formats::split_list(&text(k))
            .into_iter()
            .map(str::to_string)
            .collect()
    };
    let acl_path = text("path");
    let delete = p.get("delete").and_then(Value::as_u64) == Some(1);
    let propagate = p.get("propagate").and_then(Value::as_u64).unwrap_or(1);
    let mut entries = Vec::new();
    for (kind, key) in [("user", "users"), ("group", "groups"), ("token", "tokens")] {
        for ugid in list(key) {
            for role in list("roles") {
                entries.push((kind, ugid.clone(), role));
            }
        }
    }
    app.mock.store().write(|s| {
        let acl = s.members.entry("access/acl".into()).or_default();
        for (kind, ugid, role) in entries {
            let id = format!("{acl_path}|{kind}:{ugid}|{role}");
            if delete {
                acl.remove(&id);
            } else {
                let mut rec = crate::mock::store::Record::default();
                rec.config.insert("path".into(), json!(acl_path));
                rec.config.insert("type".into(), json!(kind));
                rec.config.insert("ugid".into(), json!(ugid));
                rec.config.insert("roleid".into(), json!(role));
                rec.config.insert("propagate".into(), json!(propagate));
                acl.insert(id, rec);
            }
        }
    });
    Ok(Value::Null)
}

/// A token with privilege separation may call an operation only where an ACL grants the
/// token a role on the operation's path (or an ancestor, when propagated). PVE's answer
/// otherwise: `403 Permission check failed (/vms/100, VM.Audit)`.
fn check_token_privileges(
    app: &App,
    full_id: &str,
    method: &Method,
    path: &str,
) -> Result<(), ApiError> {
    let Ok((op, params)) = app.mock.schema().operation(method.as_str(), path) else {
        return Ok(()); // unknown paths get their 501 later
    };
    let perms = op.info.permissions.as_ref();
    if matches!(
        perms.and_then(|p| p.get("user")).and_then(Value::as_str),
        Some("all" | "world")
    ) {
        return Ok(());
    }
    let check = perms.and_then(|p| p.get("check")).and_then(Value::as_array);
    let (acl_path, privilege) = match check.map(|c| c.as_slice()) {
        Some([kind, p, privs, ..]) if kind == "perm" => {
            let template = p.as_str().unwrap_or("/");
            let concrete: Vec<(&str, String)> =
                params.iter().map(|(k, v)| (*k, v.to_string())).collect();
            let filled = crate::mock::collections::concrete(template, &concrete);
            let privilege = privs
                .as_array()
                .and_then(|a| a.first())
                .and_then(Value::as_str)
                .unwrap_or("Sys.Audit")
                .to_string();
            (format!("/{filled}"), privilege)
        }
        _ => ("/".to_string(), "Sys.Audit".to_string()),
    };
    let granted = app.mock.store().read(|s| {
        s.members.get("access/acl").is_some_and(|acl| {
            acl.values().any(|r| {
                let get = |k: &str| r.config.get(k).and_then(Value::as_str).unwrap_or("");
                let base = get("path");
                let propagate = r.config.get("propagate").and_then(Value::as_u64) != Some(0);
                get("type") == "token"
                    && get("ugid") == full_id
                    && (base == acl_path
                        || (propagate
                            && (base == "/"
                                || acl_path
                                    .starts_with(&format!("{}/", base.trim_end_matches('/'))))))
            })
        })
    });
    if granted {
        Ok(())
    } else {
        Err(ApiError::new(
            403,
            format!("Permission check failed ({acl_path}, {privilege})"),
        ))
    }
}

/// Adds the server's own endpoints (outside `/api2/json`) to the served OpenAPI document.
fn add_server_endpoints(doc: &mut Value) {
    let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) else {
        return;
    };
    let json_get = |id: &str, summary: &str| {
        json!({
            "servers": [{"url": "/"}],
            "get": {
                "operationId": id,
                "summary": summary,
                "tags": ["server"],
                "security": [],
                "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}}},
            }
        })
    };
    paths.insert(
        "/health".into(),
        json_get("server_health", "Readiness: status, mode, schema version"),
    );
    paths.insert(
        "/version".into(),
        json_get("server_version", "Server and schema versions"),
    );
    paths.insert(
        "/mode".into(),
        json_get("server_mode", "mock or real (validating proxy)"),
    );
    paths.insert(
        "/versions".into(),
        json_get("server_versions", "Bundled schema versions"),
    );
    paths.insert(
        "/metrics".into(),
        json!({
            "servers": [{"url": "/"}],
            "get": {
                "operationId": "server_metrics",
                "summary": "Prometheus metrics: requests, latency histogram, schema mismatches",
                "tags": ["server"],
                "security": [],
                "responses": {"200": {"description": "OK", "content": {"text/plain": {"schema": {"type": "string"}}}}},
            }
        }),
    );
    paths.insert(
        "/codegen/openapi".into(),
        json!({
            "servers": [{"url": "/"}],
            "post": {
                "operationId": "server_codegen_openapi",
                "summary": "OpenAPI document of an apidoc body (Authorization: Bearer $CODEGEN_API_KEY)",
                "tags": ["server"],
                "security": [],
                "parameters": [{"name": "version_tag", "in": "query", "required": false, "schema": {"type": "string"}}],
                "requestBody": {"required": true, "content": {"text/plain": {"schema": {"type": "string"}}}},
                "responses": {
                    "200": {"description": "The OpenAPI document", "content": {"application/json": {"schema": {"type": "object"}}}},
                    "default": {"$ref": "#/components/responses/Error"},
                },
            }
        }),
    );
}

/// `/_mock/...`: test control of a mock server (enabled with `--admin`): inject failures,
/// add latency, take nodes offline, expire tickets, advance the clock, read the request log.
async fn admin(
    State(app): State<Arc<App>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response<Body> {
    if !app.config.admin {
        return pve_response(Err(ApiError::new(
            404,
            "admin endpoints are disabled (start with --admin)",
        )));
    }
    let params = match request_params(&uri, &headers, &body) {
        Ok(p) => p,
        Err(e) => return pve_response(Err(e)),
    };
    let store = app.mock.store();
    let text = |k: &str| match params.get(k) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Null) | None => None,
        Some(v) => Some(v.to_string()),
    };
    // A number given for `k`, checked against `lo..=hi`: absent -> `default`.
    let number = |k: &str, lo: f64, hi: f64, default: f64| -> Result<f64, ApiError> {
        let Some(raw) = text(k) else {
            return Ok(default);
        };
        match raw.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && (lo..=hi).contains(&v) => Ok(v),
            _ => {
                let mut e = ApiError::new(400, "Parameter verification failed.");
                e.errors = Some(
                    [(
                        k.to_string(),
                        format!("expected a number from {lo} to {hi}, got '{raw}'"),
                    )]
                    .into_iter()
                    .collect(),
                );
                Err(e)
            }
        }
    };
    let rest = uri
        .path()
        .trim_start_matches("/_mock/")
        .trim_end_matches('/');
    let parts: Vec<&str> = rest.split('/').collect();
    let result = match (method.as_str(), parts.as_slice()) {
        ("POST", ["faults"]) => match text("path") {
            Some(path) => (|| {
                store.inject_fault(crate::mock::store::Fault {
                    method: text("method"),
                    path,
                    remaining: number("count", 1.0, f64::from(u32::MAX), 1.0)? as u32,
                    status: number("status", 100.0, 599.0, 500.0)? as u16,
                    message: text("message").unwrap_or_else(|| "injected failure".into()),
                });
                Ok(Value::Null)
            })(),
            None => Err(ApiError::new(
                400,
                "path: required (a concrete path or a template)",
            )),
        },
        ("POST", ["latency"]) => {
            number("ms", 0.0, crate::limits::MAX_SECONDS * 1e3, 0.0).map(|ms| {
                store.set_latency(Duration::from_millis(ms as u64));
                Value::Null
            })
        }
        ("POST", ["nodes", node, "offline"]) => {
            store.set_node_offline(node, true);
            Ok(Value::Null)
        }
        ("DELETE", ["nodes", node, "offline"]) => {
            store.set_node_offline(node, false);
            Ok(Value::Null)
        }
        ("POST", ["time-scale"]) => number("scale", 0.0, 10_000.0, 0.0).map(|scale| {
            store.set_time_scale(scale);
            Value::Null
        }),
        ("POST", ["tickets", "expire"]) => {
            store.expire_tickets();
            Ok(Value::Null)
        }
        ("POST", ["clock", "advance"]) => {
            number("seconds", 0.0, crate::limits::MAX_CLOCK_STEP_SECONDS, 0.0).map(|secs| {
                store.advance_clock(secs as i64);
                json!({"now": store.now()})
            })
        }
        ("GET", ["requests"]) => Ok(serde_json::to_value(store.requests()).unwrap_or_default()),
        ("DELETE", ["requests"]) => {
            store.clear_requests();
            Ok(Value::Null)
        }
        ("POST", ["reset"]) => {
            store.reset();
            Ok(Value::Null)
        }
        _ => Err(ApiError::new(
            501,
            format!("Method '{method} {}' not implemented", uri.path()),
        )),
    };
    pve_response(result)
}
