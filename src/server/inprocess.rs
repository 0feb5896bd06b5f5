//! The server's front (router and API) called in-process, without a socket: what the ASGI
//! apps of the Python package hand each request to, so `uvicorn proxmox_sdk.mock_main:app`
//! (or the app mounted in a FastAPI application) answers exactly as the native server does.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{to_bytes, Body, Bytes};
use axum::http::{HeaderName, HeaderValue, Method, Request};

use super::app::{build_app, App};
use super::front::Front;
use super::{ServerConfig, ServerError};

/// The largest answer an in-process call returns (the API's answers are far smaller).
const MAX_ANSWER: usize = 256 * 1024 * 1024;

/// One answer: status, reason phrase (PVE's message for errors), headers, body.
#[derive(Debug)]
pub struct Answer {
    /// The status code.
    pub status: u16,
    /// The reason phrase (the canonical one unless the server set its own).
    pub reason: String,
    /// The headers, in order.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The body.
    pub body: Bytes,
}

/// The front of one server state, called per request.
#[derive(Clone)]
pub struct InProcess {
    front: Front,
}

impl std::fmt::Debug for InProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InProcess")
            .field("service", &self.app().config.service)
            .finish_non_exhaustive()
    }
}

/// Why a request could not be made from the caller's parts.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct BadRequest(pub String);

impl InProcess {
    /// The state and router of `config` (no listener, no TLS: the embedding server has them).
    pub fn new(config: ServerConfig) -> Result<InProcess, ServerError> {
        Ok(InProcess {
            front: Front::new(build_app(config)?),
        })
    }

    /// The state (its mock and configuration).
    pub fn app(&self) -> &Arc<App> {
        self.front.app()
    }

    /// Answers one request: `target` is the path with its query string.
    pub async fn handle(
        &self,
        method: &str,
        target: &str,
        headers: &[(Vec<u8>, Vec<u8>)],
        body: Vec<u8>,
        peer: Option<SocketAddr>,
    ) -> Result<Answer, BadRequest> {
        let method = Method::from_bytes(method.as_bytes())
            .map_err(|_| BadRequest(format!("method: not an HTTP method: {method:?}")))?;
        let mut req = Request::builder()
            .method(method)
            .uri(target)
            .body(Body::from(body))
            .map_err(|e| BadRequest(format!("target {target:?}: {e}")))?;
        for (k, v) in headers {
            let name = HeaderName::from_bytes(k)
                .map_err(|_| BadRequest(format!("header name {:?}", String::from_utf8_lossy(k))))?;
            let value = HeaderValue::from_bytes(v)
                .map_err(|_| BadRequest(format!("header {name}: invalid value")))?;
            req.headers_mut().append(name, value);
        }
        let peer = peer.unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)));
        let resp = match self.front.answer(req, peer).await {
            Ok(r) => r,
            Err(never) => match never {},
        };
        let status = resp.status().as_u16();
        let reason = resp
            .extensions()
            .get::<hyper::ext::ReasonPhrase>()
            .map_or_else(
                || resp.status().canonical_reason().unwrap_or("").to_string(),
                |r| String::from_utf8_lossy(r.as_bytes()).into_owned(),
            );
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.as_bytes().to_vec()))
            .collect();
        let body = to_bytes(resp.into_body(), MAX_ANSWER)
            .await
            .map_err(|e| BadRequest(format!("answer: {e}")))?;
        Ok(Answer {
            status,
            reason,
            headers,
            body,
        })
    }

    /// Writes the state file, if the configuration names one, and sends the spans still
    /// buffered (what an embedding server's shutdown calls).
    pub fn save_state(&self) -> Result<(), ServerError> {
        if let Some(t) = &self.app().tracing {
            t.shutdown();
        }
        match &self.app().config.state_file {
            Some(path) => self
                .app()
                .mock
                .store()
                .save(path)
                .map(drop)
                .map_err(|e| ServerError::Io(format!("{}: {e}", path.display()))),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::AuthConfig;

    #[test]
    fn answers_like_the_server() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        crate::mock::store::forget_store("9.2", "inprocess-unit");
        let ip = InProcess::new(ServerConfig::mock(
            "latest",
            "inprocess-unit",
            AuthConfig {
                enabled: false,
                root_password: "x".into(),
            },
        ))
        .unwrap();
        let a = rt
            .block_on(ip.handle("GET", "/api2/json/version", &[], Vec::new(), None))
            .unwrap();
        assert_eq!(a.status, 200);
        assert!(String::from_utf8_lossy(&a.body).contains("\"release\""));
        let a = rt
            .block_on(ip.handle(
                "GET",
                "/api2/json/nodes/pve1/qemu/999/config",
                &[],
                Vec::new(),
                None,
            ))
            .unwrap();
        assert_eq!(a.status, 500);
        assert!(a.reason.contains("does not exist"), "{}", a.reason);
        assert!(rt
            .block_on(ip.handle("GE T", "/", &[], Vec::new(), None))
            .is_err());
    }
}
