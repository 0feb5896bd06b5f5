//! A running server: its shared state, the router, and [`serve`], the async server loop
//! that takes a listener and a shutdown future (as mini-redis does) and drains requests in
//! flight; [`start`] runs it in the background on a thread of its own.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderValue, Response};
use axum::routing::get;
use axum::Router;

use super::config::{make_tls, ServerConfig};
use super::envelope::{pve_response, AnswerCache};
use super::metrics::Metrics;
use super::{proxy, service, upload, ServerError};
use crate::api::ApiError;
use crate::mock::MockPve;
use crate::tls::Fingerprint;

/// Shared state of a running server.
pub struct App {
    /// The in-memory PVE it answers from (and whose access rules it applies).
    pub mock: MockPve,
    /// How it was started.
    pub config: ServerConfig,
    /// Request counters.
    pub metrics: Metrics,
    /// Serialized GET answers between writes.
    pub answers: AnswerCache,
    /// Real mode's upstream.
    pub upstream: Option<proxy::Upstream>,
    /// When it started.
    pub started: Instant,
    /// The OpenAPI document, plain and gzipped, made once (at start with
    /// `prepare_openapi`, else on first request).
    pub openapi: std::sync::OnceLock<super::service::PreparedDocument>,
    /// OTLP export of the requests' spans, when the environment asks for it.
    pub tracing: Option<super::otel::Tracing>,
    /// Refused requests held back per client.
    pub auth_failures: super::limits::AuthFailures,
    /// The state file's saver (with `--state-file` in mock mode).
    pub persister: Option<Arc<super::persist::Persister>>,
}

/// Builds the app state (mock store, state file, root's password) for `config`.
pub fn build_app(config: ServerConfig) -> Result<Arc<App>, ServerError> {
    let mock = MockPve::shared_of(
        config.service,
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
    mock.set_password("root@pam", &config.auth.root_password)
        .map_err(|e| ServerError::Io(e.to_string()))?;
    let upstream = config
        .upstream
        .clone()
        .map(proxy::Upstream::new)
        .transpose()
        .map_err(ServerError::Io)?;
    let auth_failures = super::limits::AuthFailures::new(config.limits.auth_fail_delay);
    let persister = match (&config.state_file, &config.upstream) {
        (Some(path), None) => Some(
            super::persist::Persister::start(mock.store().clone(), path.clone())
                .map_err(|e| ServerError::Io(format!("state file saver: {e}")))?,
        ),
        _ => None,
    };
    let app = Arc::new(App {
        mock,
        auth_failures,
        persister,
        config,
        metrics: Metrics::new(upstream.is_some()),
        answers: AnswerCache::default(),
        upstream,
        started: Instant::now(),
        openapi: std::sync::OnceLock::new(),
        tracing: super::otel::from_env(),
    });
    if app.config.prepare_openapi {
        let prep = app.clone();
        // A second's work: /docs should not wait for it. Failing to start the thread only
        // means the first request makes it.
        let _ = std::thread::Builder::new()
            .name("openapi".into())
            .spawn(move || {
                prep.openapi
                    .get_or_init(|| super::service::PreparedDocument::of(&prep));
            });
    }
    Ok(app)
}

type KeyedLimiter = governor::DefaultKeyedRateLimiter<std::net::IpAddr>;

/// The requests per second per client the router limits to, if any.
fn rate_limit(config: &ServerConfig) -> Option<std::num::NonZeroU32> {
    config.rate_limit.and_then(std::num::NonZeroU32::new)
}

/// Whether [`router`] wraps API calls in middleware (a rate limit, CORS), so that they
/// must go through it rather than straight to the API handler.
pub fn api_middleware(config: &ServerConfig) -> bool {
    rate_limit(config).is_some() || !config.cors_origins.is_empty()
}

/// The router: API fallback plus the service endpoints, docs and middleware.
pub fn router(app: Arc<App>) -> Router {
    let mut r = Router::new()
        .route("/", get(service::index))
        .route("/health", get(service::health))
        .route("/version", get(service::server_version))
        .route("/mode", get(service::mode))
        .route("/versions", get(service::versions))
        .route("/openapi.json", get(service::openapi))
        .route("/metrics", get(super::metrics::metrics))
        .route(
            "/codegen/openapi",
            axum::routing::post(service::codegen_openapi),
        )
        .route("/_mock/{*rest}", axum::routing::any(super::admin::admin))
        .fallback(super::api::api)
        .layer(tower_http::limit::RequestBodyLimitLayer::new(
            64 * 1024 * 1024,
        ))
        // Uploads stream any size and take as long as they take (PVE sets no limit).
        .merge(
            Router::new()
                .route(upload::UPLOAD_ROUTE, axum::routing::post(upload::upload))
                .layer(axum::extract::DefaultBodyLimit::disable()),
        );
    if let Some(rps) = rate_limit(&app.config) {
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
    r.with_state(app).merge(super::docs::router())
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

/// A server ready to run: its state and TLS material are made (so the certificate's
/// fingerprint is known), the listener is bound.
pub struct Prepared {
    listener: std::net::TcpListener,
    app: Arc<App>,
    tls: Option<(rustls::ServerConfig, Fingerprint)>,
}

impl Prepared {
    /// Builds the state and TLS material of `config` for `listener`.
    pub fn new(
        listener: std::net::TcpListener,
        config: ServerConfig,
    ) -> Result<Prepared, ServerError> {
        listener
            .set_nonblocking(true)
            .map_err(|e| ServerError::Io(e.to_string()))?;
        let tls = config.tls.as_ref().map(make_tls).transpose()?;
        Ok(Prepared {
            listener,
            app: build_app(config)?,
            tls,
        })
    }

    /// The certificate's SHA-256 fingerprint, with TLS.
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        self.tls.as_ref().map(|(_, fp)| *fp)
    }

    /// Serves until `shutdown` completes, then lets requests in flight finish (up to
    /// 10 s) and writes the state file.
    pub async fn serve(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServerError> {
        let state_file = self.app.config.state_file.clone();
        let store = self.app.mock.store().clone();
        let tracing_app = self.app.clone();
        let handle = axum_server::Handle::new();
        let stopper = handle.clone();
        tokio::spawn(async move {
            shutdown.await;
            stopper.graceful_shutdown(Some(Duration::from_secs(10)));
        });
        let limits = self.app.config.limits.clone();
        let connections = super::limits::ConnectionLimit::new(limits.max_connections);
        // HTTP/1.1 only (as PVE); a connection that takes longer than the header timeout
        // to send a request's headers, or stays idle that long between requests, is closed
        // (axum-server installs hyper's timer).
        let service = super::front::MakeFront(super::front::Front::new(self.app));
        let served = if let Some((config, _)) = self.tls {
            let config = axum_server::tls_rustls::RustlsConfig::from_config(Arc::new(config));
            let mut server = axum_server::from_tcp_rustls(self.listener, config)
                .map_err(|e| ServerError::Io(e.to_string()))?
                .map(|tls| {
                    tls.handshake_timeout(limits.header_timeout)
                        .acceptor(connections)
                })
                .http1_only()
                .first_request_timeout(limits.header_timeout)
                .handle(handle);
            server
                .http_builder()
                .http1()
                .header_read_timeout(limits.header_timeout);
            server.serve(service).await
        } else {
            let mut server = axum_server::from_tcp(self.listener)
                .map_err(|e| ServerError::Io(e.to_string()))?
                .acceptor(connections)
                .http1_only()
                .first_request_timeout(limits.header_timeout)
                .handle(handle);
            server
                .http_builder()
                .http1()
                .header_read_timeout(limits.header_timeout);
            server.serve(service).await
        };
        if let Some(t) = &tracing_app.tracing {
            t.shutdown();
        }
        served.map_err(|e| ServerError::Io(e.to_string()))?;
        if let Some(path) = state_file {
            store
                .save(&path)
                .map_err(|e| ServerError::Io(format!("{}: {e}", path.display())))?;
        }
        if let Some(p) = &tracing_app.persister {
            p.stop();
        }
        Ok(())
    }
}

/// Serves `config` on `listener` until `shutdown` completes, then drains requests in
/// flight and writes the state file (the async server loop; [`start`] wraps it).
pub async fn serve(
    listener: std::net::TcpListener,
    config: ServerConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), ServerError> {
    Prepared::new(listener, config)?.serve(shutdown).await
}

/// A server started in the background: its address and how to stop it.
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// `http` or `https`.
    pub scheme: &'static str,
    /// The certificate fingerprint with TLS.
    pub fingerprint: Option<Fingerprint>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
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
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
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

/// Starts the server on `listener` in a background thread with its own runtime: [`serve`]
/// until [`RunningServer::stop`].
pub fn start(
    listener: std::net::TcpListener,
    config: ServerConfig,
) -> Result<RunningServer, ServerError> {
    let addr = listener
        .local_addr()
        .map_err(|e| ServerError::Io(e.to_string()))?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let prepared = Prepared::new(listener, config)?;
    let fingerprint = prepared.fingerprint();
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("proxmox-sdk-server".into())
        .spawn(move || -> Result<(), ServerError> {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(|e| ServerError::Io(e.to_string()))?;
            runtime.block_on(prepared.serve(async {
                let _ = stop_rx.await;
            }))
        })
        .map_err(|e| ServerError::Io(e.to_string()))?;
    Ok(RunningServer {
        addr,
        scheme,
        fingerprint,
        stop: Some(stop_tx),
        thread: Some(thread),
    })
}
