//! The server's own endpoints beside the PVE API: `/`, `/health`, `/version`, `/mode`,
//! `/versions`, `/openapi.json` (the schema's document plus these endpoints) and the
//! codegen endpoint behind `CODEGEN_API_KEY`.

use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Response, Uri};
use serde_json::{json, Value};

use super::app::App;
use super::envelope::pve_response;
use crate::api::ApiError;
use crate::mock::access::ticket::secret_hash;

/// `POST /codegen/openapi?version_tag=TAG` with an apidoc body: the OpenAPI document the
/// codegen makes of it. Needs `Authorization: Bearer $CODEGEN_API_KEY`.
pub async fn codegen_openapi(
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
    match crate::codegen::render(&text, crate::schema::Product::Pve, &tag, "request body") {
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

pub async fn index(State(app): State<Arc<App>>) -> axum::Json<Value> {
    let name = if app.upstream.is_some() {
        "proxmox-sdk validating proxy"
    } else {
        "proxmox-sdk mock server"
    };
    axum::Json(json!({
        "name": name,
        "api": "/api2/json",
        "docs": "/docs",
        "openapi": "/openapi.json",
        "health": "/health",
    }))
}

pub async fn health(State(app): State<Arc<App>>) -> axum::Json<Value> {
    axum::Json(json!({
        "status": "ok",
        "mode": if app.upstream.is_some() { "real" } else { "mock" },
        "service": app.config.service.name(),
        "version": app.mock.schema().version(),
        "uptime_seconds": app.started.elapsed().as_secs(),
    }))
}

pub async fn server_version(State(app): State<Arc<App>>) -> axum::Json<Value> {
    axum::Json(json!({
        "server": env!("CARGO_PKG_VERSION"),
        "service": app.config.service.name(),
        "schema_version": app.mock.schema().version(),
        "operations": app.mock.schema().operation_count(),
    }))
}

pub async fn mode(State(app): State<Arc<App>>) -> axum::Json<Value> {
    match &app.upstream {
        Some(up) => axum::Json(json!({
            "mode": "real",
            "credentials": if up.config().credentials == super::proxy::ProxyCredentials::PassThrough { "pass-through" } else { "own" },
            "upstream": up.config().url,
            "strict": up.config().strict,
        })),
        None => axum::Json(
            json!({"mode": "mock", "auth": app.config.auth.enabled, "lenient": app.mock.lenient()}),
        ),
    }
}

pub async fn versions(State(app): State<Arc<App>>) -> axum::Json<Value> {
    axum::Json(json!({
        "service": app.config.service.name(),
        "versions": crate::schema::bundled::versions_of(app.config.service),
        "latest": crate::schema::bundled::latest_of(app.config.service),
        "active": app.mock.schema().version(),
    }))
}

/// `/openapi.json` serialized once, and gzipped once.
#[derive(Debug, Clone)]
pub struct PreparedDocument {
    /// The JSON.
    pub json: Bytes,
    /// The same, gzip-compressed.
    pub gzip: Bytes,
}

impl PreparedDocument {
    /// The document of `app`'s schema plus the server's own endpoints.
    pub fn of(app: &App) -> PreparedDocument {
        use std::io::Write;
        let mut doc = crate::schema::openapi::openapi_document(app.mock.schema());
        add_server_endpoints(&mut doc);
        let json = serde_json::to_vec(&doc).unwrap_or_default();
        let mut gz = flate2::write::GzEncoder::new(
            Vec::with_capacity(json.len() / 8),
            flate2::Compression::new(6),
        );
        let gzip = gz
            .write_all(&json)
            .and_then(|()| gz.finish())
            .unwrap_or_default();
        PreparedDocument {
            json: Bytes::from(json),
            gzip: Bytes::from(gzip),
        }
    }
}

/// Whether an `Accept-Encoding` value admits gzip (`gzip` or `*`, with a q above 0).
pub fn accepts_gzip(value: &str) -> bool {
    value.split(',').any(|part| {
        let mut bits = part.split(';');
        let name = bits.next().unwrap_or_default().trim();
        let q = bits
            .filter_map(|b| b.trim().strip_prefix("q="))
            .find_map(|q| q.trim().parse::<f32>().ok())
            .unwrap_or(1.0);
        (name.eq_ignore_ascii_case("gzip") || name == "*") && q > 0.0
    })
}

pub async fn openapi(State(app): State<Arc<App>>, headers: HeaderMap) -> Response<Body> {
    let doc = if let Some(d) = app.openapi.get() {
        d.clone()
    } else {
        let maker = app.clone();
        tokio::task::spawn_blocking(move || {
            maker
                .openapi
                .get_or_init(|| PreparedDocument::of(&maker))
                .clone()
        })
        .await
        .unwrap_or_else(|_| PreparedDocument::of(&app))
    };
    let gzip = headers
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(accepts_gzip);
    let mut resp = Response::new(Body::from(if gzip { doc.gzip } else { doc.json }));
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
    if gzip {
        h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
    }
    resp
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

#[cfg(test)]
mod tests {
    use super::accepts_gzip;

    #[test]
    fn accept_encoding() {
        assert!(accepts_gzip("gzip"));
        assert!(accepts_gzip("br;q=1.0, gzip;q=0.8, *;q=0.1"));
        assert!(accepts_gzip("*"));
        assert!(!accepts_gzip("gzip;q=0"));
        assert!(!accepts_gzip("identity, br"));
        assert!(!accepts_gzip(""));
    }
}
