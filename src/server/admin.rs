//! `/_mock/...`: test control of a mock server (with `--admin`): inject failures, add
//! latency, take nodes offline, expire tickets, advance the clock, read the request log.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, Method, Response, Uri};
use serde_json::{json, Value};

use super::app::App;
use super::envelope::{pve_response, request_params};
use crate::api::ApiError;

/// Bodies of the test-control endpoints (a seed can be a whole state).
const ADMIN_BODY_MAX: usize = 64 << 20;

/// Whether the caller may use the test-control endpoints: anyone without authentication
/// (`--no-auth`), else root@pam's ticket (with its CSRF token on writes) or the admin
/// token as `Authorization: Bearer <token>`. Decided from the headers alone.
fn admitted(app: &App, method: &Method, uri: &Uri, headers: &HeaderMap) -> Result<(), ApiError> {
    if !app.config.auth.enabled {
        return Ok(());
    }
    let bearer = super::auth::bearer(headers);
    if let (Some(given), Some(token)) = (bearer, app.config.admin_token.as_deref()) {
        if super::auth::same_secret(given, token) {
            return Ok(());
        }
        return Err(ApiError::new(401, "invalid admin token"));
    }
    match super::api::authenticate(app, method, uri.path(), headers)? {
        c if c.is_root() => Ok(()),
        crate::mock::Caller::Anonymous => Err(ApiError::new(
            401,
            "the test-control endpoints need root@pam's ticket or the admin token",
        )),
        _ => Err(ApiError::new(
            403,
            "the test-control endpoints are for root@pam (or the admin token)",
        )),
    }
}

/// `/_mock/...`: test control of a mock server (enabled with `--admin`): inject failures,
/// add latency, take nodes offline, expire tickets, advance the clock, read the request log.
pub async fn admin(State(app): State<Arc<App>>, req: axum::extract::Request) -> Response<Body> {
    let (parts, body) = req.into_parts();
    let (method, uri, headers) = (parts.method, parts.uri, parts.headers);
    if !app.config.admin {
        return pve_response(Err(ApiError::new(
            404,
            "admin endpoints are disabled (start with --admin)",
        )));
    }
    if let Err(e) = admitted(&app, &method, &uri, &headers) {
        return pve_response(Err(e));
    }
    let Ok(body) = axum::body::to_bytes(body, ADMIN_BODY_MAX).await else {
        return pve_response(Err(ApiError::new(501, "for data too large")));
    };
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
                store.inject_fault(crate::mock::control::Fault {
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
    super::api::durable(&app, &method, pve_response(result)).await
}
