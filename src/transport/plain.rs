//! One HTTP(S) request to a service that is not a Proxmox API (the Ceph Dashboard, RGW's
//! admin API): no login, no envelope, redirects never followed, TLS verified unless told
//! otherwise. The Python edge's Ceph providers send their requests through it.

use std::sync::OnceLock;
use std::time::Duration;

use crate::api::Error;
use crate::transport::https::transport_error;

/// A request.
#[derive(Debug, Clone)]
pub struct PlainRequest {
    /// `GET`, `POST`, ...
    pub method: String,
    /// The absolute URL (with its query string).
    pub url: String,
    /// Headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body, if any.
    pub body: Option<Vec<u8>>,
    /// Verify the server's certificate.
    pub verify_tls: bool,
    /// Total time allowed.
    pub timeout: Duration,
}

/// The answer: status, headers, body (at most `MAX_BODY` bytes).
#[derive(Debug, Clone)]
pub struct PlainAnswer {
    /// The status code.
    pub status: u16,
    /// The headers, in order.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

/// The largest body read (64 MiB).
pub const MAX_BODY: usize = 64 * 1024 * 1024;

fn client(verify_tls: bool) -> Result<reqwest::Client, Error> {
    static VERIFIED: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    static UNVERIFIED: OnceLock<Result<reqwest::Client, String>> = OnceLock::new();
    let slot = if verify_tls { &VERIFIED } else { &UNVERIFIED };
    slot.get_or_init(|| {
        crate::tls::install_crypto_provider();
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .danger_accept_invalid_certs(!verify_tls)
            .build()
            .map_err(|e| e.to_string())
    })
    .clone()
    .map_err(Error::Connection)
}

/// Sends `req`.
pub async fn send(req: PlainRequest) -> Result<PlainAnswer, Error> {
    let method = reqwest::Method::from_bytes(req.method.as_bytes())
        .map_err(|_| Error::Invalid(format!("method: not an HTTP method: {:?}", req.method)))?;
    let mut builder = client(req.verify_tls)?
        .request(method, &req.url)
        .timeout(req.timeout);
    for (k, v) in &req.headers {
        builder = builder.header(k, v);
    }
    if let Some(body) = req.body {
        builder = builder.body(body);
    }
    let resp = builder
        .send()
        .await
        .map_err(|e| transport_error(&e, &req.url))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    let mut resp = resp;
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| transport_error(&e, &req.url))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(Error::TooLarge {
                limit: MAX_BODY,
                size: body.len() + chunk.len(),
            });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(PlainAnswer {
        status,
        headers,
        body,
    })
}
