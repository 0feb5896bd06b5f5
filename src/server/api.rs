//! Every `/api2/json/...` request: who is calling (the token header or the ticket cookie,
//! CSRF on writes), then the mock answers as that caller, or in real mode the request is
//! validated and forwarded. GET answers are served from a cache between writes.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method, Response, StatusCode, Uri};

use super::app::App;
use super::auth::parse_token_header_of;
use super::envelope::{
    pve_answer, pve_headers, pve_ok_bytes, pve_response, reason, request_params, AnswerCache,
};
use super::metrics::SeriesHandle;
use super::proxy;
use crate::api::{Answer, ApiError};
use crate::mock::messages::{invalid_csrf, invalid_token};
use crate::mock::Caller;

/// The value of cookie `name`.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get_all(header::COOKIE).iter().find_map(|v| {
        v.to_str().ok()?.split(';').find_map(|part| {
            let (k, val) = part.trim().split_once('=')?;
            (k == name).then_some(val)
        })
    })
}

/// The method of the API (PVE has no other).
pub fn api_method(method: &Method) -> Option<crate::api::Method> {
    Some(match *method {
        Method::GET | Method::HEAD => crate::api::Method::Get,
        Method::POST => crate::api::Method::Post,
        Method::PUT => crate::api::Method::Put,
        Method::DELETE => crate::api::Method::Delete,
        _ => return None,
    })
}

/// Who makes this request, from its headers alone: an API token, else the ticket cookie
/// (a write must carry the ticket's CSRF token), else nobody. Without authentication
/// (`--no-auth`) everyone is `root@pam`. The login itself needs no credentials.
pub fn authenticate(
    app: &App,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
) -> Result<Caller, ApiError> {
    if !app.config.auth.enabled {
        return Ok(Caller::root());
    }
    let rel = crate::schema::index::strip_api_prefix(path);
    if rel == "access/ticket" && method == Method::POST {
        return Ok(Caller::Anonymous);
    }
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let product = app.config.service;
        let token = auth
            .to_str()
            .ok()
            .and_then(|v| parse_token_header_of(product, v))
            .ok_or_else(invalid_token)?;
        return app.mock.token_caller(&token.user, &token.id, &token.secret);
    }
    let Some(ticket) = cookie(headers, app.config.service.auth_cookie()) else {
        return Ok(Caller::Anonymous);
    };
    let ticket = percent_encoding::percent_decode_str(ticket).decode_utf8_lossy();
    let (caller, time) = app.mock.ticket_caller(&ticket)?;
    if method != Method::GET && method != Method::HEAD {
        let csrf = headers
            .get("CSRFPreventionToken")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let user = caller.userid().unwrap_or_default();
        if !app.mock.csrf_matches(csrf, user, time) {
            return Err(invalid_csrf());
        }
    }
    Ok(caller)
}

/// Every `/api2/json/...` request, in PVE's order: the method, then who is calling
/// (from the headers alone), then the body (bounded, of a content type PVE reads), then
/// the answer. A refused caller gets its 401 without a byte of the body being read.
pub async fn api(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
) -> Response<Body> {
    answer(&app, peer, req).await
}

/// Whether `path` is the API's (`/api2/json` and below).
pub fn is_api_path(path: &str) -> bool {
    path == "/api2/json" || path.starts_with("/api2/json/")
}

/// The answer to one request from `peer` (what [`api`] does, called by the router or
/// straight from [`super::front::Front`]).
pub async fn answer(app: &App, peer: SocketAddr, req: Request) -> Response<Body> {
    let started = Instant::now();
    let (parts, body) = req.into_parts();
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    let path = uri.path();
    // A cached answer's metrics series, found when the answer was made.
    let mut series = None;
    let resp = if !is_api_path(path) {
        let mut r = Response::new(Body::from("Not Found"));
        *r.status_mut() = StatusCode::NOT_FOUND;
        r
    } else if let Some(upstream) = &app.upstream {
        match upstream.admits(&headers) {
            Err(e) => pve_response(Err(e)),
            Ok(()) => match read_body(app, &method, &headers, body).await {
                Ok(body) => forward(app, upstream, &method, &uri, &headers, &body).await,
                Err(e) => pve_response(Err(e)),
            },
        }
    } else {
        let result = mock_answer(app, &method, &uri, &headers, body, &mut series).await;
        if result.status() == StatusCode::UNAUTHORIZED {
            app.auth_failures.hold(peer.ip(), started.elapsed()).await;
        }
        durable(app, &method, result).await
    };
    let elapsed = started.elapsed();
    // The cache's series are GET's (a HEAD is counted as itself).
    if let Some(series) = series.filter(|_| method == Method::GET && app.tracing.is_none()) {
        app.metrics.observe_in(&series, elapsed);
    } else {
        let template = route_template(app, uri.path());
        app.metrics
            .observe(&method, template, resp.status().as_u16(), elapsed);
        if let Some(t) = &app.tracing {
            t.record(&super::otel::RequestSpan {
                method: method.as_str(),
                path: uri.path(),
                template,
                status: resp.status().as_u16(),
                service: app.config.service.name(),
                started: std::time::SystemTime::now() - elapsed,
            });
        }
    }
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

/// The metrics label of `path`: its operation's path template.
fn route_template<'a>(app: &'a App, path: &str) -> Option<&'a str> {
    app.mock
        .schema()
        .resolve(path)
        .map(|(e, _)| e.template.as_str())
}

/// With a state file, a write's answer waits until the write is on disk.
pub async fn durable(app: &App, method: &Method, resp: Response<Body>) -> Response<Body> {
    let Some(persister) = &app.persister else {
        return resp;
    };
    if *method == Method::GET || *method == Method::HEAD || resp.status().is_client_error() {
        return resp;
    }
    match persister.commit(app.mock.store().generation()).await {
        Ok(()) => resp,
        Err(e) => pve_response(Err(e)),
    }
}

/// The mock's answer: method, caller, body, then the request itself.
async fn mock_answer(
    app: &App,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: Body,
    series: &mut Option<SeriesHandle>,
) -> Response<Body> {
    let Some(m) = api_method(method) else {
        return pve_response(Err(ApiError::new(
            501,
            format!("method '{method}' not available"),
        )));
    };
    let caller = match authenticate(app, method, uri.path(), headers) {
        Ok(c) => c,
        Err(e) => return pve_response(Err(e)),
    };
    if matches!(caller, Caller::Anonymous) {
        if let Err(e) = app.mock.refuse_anonymous(m, uri.path()) {
            return pve_response(Err(e));
        }
    }
    let body = match read_body(app, method, headers, body).await {
        Ok(b) => b,
        Err(e) => return pve_response(Err(e)),
    };
    // Copied out so that no lock is held across the sleep.
    let latency = app.mock.latency();
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    } else if m == crate::api::Method::Get && body.is_empty() {
        return cached_read(app, uri, headers, caller, series);
    }
    pve_answer(handle_api(app, m, uri, headers, &body, caller))
}

/// Bodies over the limit up to this size are read (and dropped) before the refusal.
const DRAIN_MAX: u64 = 4 << 20;

/// The body of an API request as PVE takes it: only POST and PUT carry one, of at most
/// the configured size (PVE: 64 KiB), form-encoded or JSON (or without a content type),
/// not chunked. PVE's answers otherwise: `501 for data too large`, `501 Unexpected
/// content for method 'GET'`, `501 chunked transfer encoding not supported`, `506
/// upload 'Content-Type 'text/plain' not implemented`.
pub async fn read_body(
    app: &App,
    method: &Method,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, ApiError> {
    let limit = app.config.limits.max_body;
    if let Some(te) = headers.get(header::TRANSFER_ENCODING) {
        let te = te.to_str().unwrap_or_default();
        return Err(if te.eq_ignore_ascii_case("chunked") {
            ApiError::new(501, "chunked transfer encoding not supported")
        } else {
            ApiError::new(501, format!("Unknown transfer encoding '{te}'"))
        });
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .unwrap_or(0);
    if declared == 0 {
        return Ok(Bytes::new());
    }
    if *method != Method::POST && *method != Method::PUT {
        return Err(ApiError::new(
            501,
            format!("Unexpected content for method '{method}'"),
        ));
    }
    if declared > limit as u64 {
        // Read and dropped (not kept) when modest, so that the client, which is still
        // sending, reads the answer rather than a reset connection.
        if declared <= DRAIN_MAX {
            let mut stream = body.into_data_stream();
            while let Some(Ok(_)) = futures_util::StreamExt::next(&mut stream).await {}
        }
        return Err(ApiError::new(501, "for data too large"));
    }
    if let Some(ctype) = headers.get(header::CONTENT_TYPE) {
        let text = ctype.to_str().unwrap_or_default();
        let bare = text.split(';').next().unwrap_or_default().trim();
        let known = ["application/x-www-form-urlencoded", "application/json"];
        if !known.iter().any(|k| bare.eq_ignore_ascii_case(k)) {
            return Err(ApiError::new(
                506,
                format!("upload 'Content-Type '{text}' not implemented"),
            ));
        }
    }
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::new(501, "for data too large"))
}

/// A GET answered from the answer cache while nothing it read was written (per caller:
/// lists depend on what the caller may see), or made and kept there; `series` is set to
/// the answer's metrics series when it came from the cache.
fn cached_read(
    app: &App,
    uri: &Uri,
    headers: &HeaderMap,
    caller: Caller,
    series: &mut Option<SeriesHandle>,
) -> Response<Body> {
    let pq = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
    let store = app.mock.store();
    // Answers that change with time alone (running tasks, uptimes) are never cached.
    let cacheable = store.time_scale() == 0.0 && !uri.path().ends_with("/status/current");
    let cached = cacheable
        .then(|| AnswerCache::with_key(&caller, pq, |key| app.answers.get(key, store)))
        .flatten();
    if let Some((body, kept)) = cached {
        *series = Some(kept);
        return pve_ok_bytes(body);
    }
    let (result, stamp) = store.stamped(|| {
        request_params(uri, headers, &[]).and_then(|params| {
            app.mock
                .answer_for_wire(&caller, crate::api::Method::Get, uri.path(), &params)
        })
    });
    match result {
        Ok(data) => {
            let body = Bytes::from(data.to_envelope());
            // Only if no write happened meanwhile (no stamp): the answer is of one state.
            if let Some(stamp) = stamp.filter(|_| cacheable) {
                let key = AnswerCache::with_key(&caller, pq, str::to_string);
                let kept = app.metrics.series(
                    &Method::GET,
                    route_template(app, uri.path()),
                    StatusCode::OK.as_u16(),
                );
                app.answers.put(key, stamp, body.clone(), kept, store);
            }
            pve_ok_bytes(body)
        }
        Err(e) => pve_response(Err(e)),
    }
}

fn handle_api(
    app: &App,
    m: crate::api::Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
    caller: Caller,
) -> Result<Answer, ApiError> {
    let path = uri.path();
    let params = request_params(uri, headers, body)?;
    let rel = crate::schema::index::strip_api_prefix(path);
    if !app.config.auth.enabled && rel == "access/ticket" && m == crate::api::Method::Post {
        // Without authentication any login succeeds, as root, so that clients which always
        // log in (the SDK, the CLI, proxmoxer) reach the server.
        return Ok(app.mock.full_login("root@pam").into());
    }
    app.mock.answer_for_wire(&caller, m, path, &params)
}

/// The header that reports a schema mismatch of an upstream answer.
pub const MISMATCH_HEADER: &str = "x-proxmox-sdk-schema-mismatch";

/// Real mode: validate locally, forward, check the answer against `returns`.
pub async fn forward(
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
    let fwd = match upstream.forward(method, rel, &params, headers).await {
        Ok(f) => {
            app.metrics.observe_upstream(Some(f.status));
            f
        }
        Err(e) => {
            app.metrics.observe_upstream(None);
            return pve_response(Err(e));
        }
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
