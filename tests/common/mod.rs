//! Helpers the integration tests share: servers on 127.0.0.1 (plain or TLS with a fresh
//! store), an HTTP client that accepts their self-signed certificates, a runtime, and a
//! response's status, reason phrase and body.

#![allow(dead_code)] // each test binary uses a different part

use std::net::TcpListener;
use std::time::Duration;

use proxmox_sdk::server::{start, AuthConfig, RunningServer, ServerConfig, TlsSource};
use serde_json::{Map, Value};

/// root@pam's password on the servers these helpers start.
pub const ROOT_PASSWORD: &str = "correct horse";

/// A mock-mode configuration over a fresh store in namespace `ns`.
pub fn config(ns: &str, auth: bool) -> ServerConfig {
    proxmox_sdk::mock::store::forget_store("9.2", ns);
    let mut cfg = ServerConfig::mock(
        "latest",
        ns,
        AuthConfig {
            enabled: auth,
            root_password: ROOT_PASSWORD.into(),
        },
    );
    // Refusals are answered at once here; tests/server_limits.rs checks the delay.
    cfg.limits.auth_fail_delay = Duration::ZERO;
    cfg
}

/// Starts `cfg` on a free port.
pub fn run(cfg: ServerConfig) -> RunningServer {
    start(TcpListener::bind("127.0.0.1:0").unwrap(), cfg).unwrap()
}

/// A TLS server with authentication over a fresh store in namespace `ns`.
pub fn tls_server(ns: &str) -> RunningServer {
    let mut cfg = config(ns, true);
    cfg.tls = Some(TlsSource::SelfSigned(vec!["localhost".into()]));
    run(cfg)
}

/// An HTTP client that accepts any certificate (the servers' are self-signed).
pub fn client() -> reqwest::Client {
    proxmox_sdk::tls::install_crypto_provider();
    reqwest::Client::builder()
        .tls_danger_accept_invalid_certs(true)
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// A current-thread runtime for one test.
pub fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// (status, reason phrase, body) of a response.
pub async fn answer(resp: reqwest::Response) -> (u16, String, Value) {
    let status = resp.status().as_u16();
    // reqwest keeps the raw reason phrase in the response extensions of hyper.
    let reason = resp
        .extensions()
        .get::<hyper::ext::ReasonPhrase>()
        .map_or_else(
            || resp.status().canonical_reason().unwrap_or("").to_string(),
            |r| String::from_utf8_lossy(r.as_bytes()).into_owned(),
        );
    let body = resp.json::<Value>().await.unwrap_or(Value::Null);
    (status, reason, body)
}

/// A JSON object as a parameter map.
pub fn params(v: Value) -> Map<String, Value> {
    v.as_object().cloned().unwrap_or_default()
}

/// A mock over its own namespace (a fresh store), so tests running in parallel share nothing.
pub fn fresh_mock(ns: &str) -> proxmox_sdk::mock::MockPve {
    proxmox_sdk::mock::store::forget_store("9.2", ns);
    proxmox_sdk::mock::MockPve::shared("latest", ns, None, false).unwrap()
}

/// One request to `m` as its own caller (root), the method as text.
pub fn mock_req(
    m: &proxmox_sdk::mock::MockPve,
    method: &str,
    path: &str,
    params: Value,
) -> Result<Value, proxmox_sdk::api::ApiError> {
    let params: Map<String, Value> = params.as_object().cloned().unwrap_or_default();
    m.handle(m.caller(), method.parse().unwrap(), path, &params)
}

/// A task id as a path segment.
pub fn enc(upid: &str) -> String {
    percent_encoding::utf8_percent_encode(upid, percent_encoding::NON_ALPHANUMERIC).to_string()
}

/// The exit status of the task a worker call on node pve1 started.
pub fn task_outcome(m: &proxmox_sdk::mock::MockPve, upid: &Value) -> String {
    let path = format!("/nodes/pve1/tasks/{}/status", enc(upid.as_str().unwrap()));
    mock_req(m, "GET", &path, serde_json::json!({})).unwrap()["exitstatus"]
        .as_str()
        .unwrap()
        .to_string()
}
