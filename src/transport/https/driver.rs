//! The lean path of the HTTPS transport: a pool of keep-alive HTTP/1.1 connections, each a
//! hyper `client::conn::http1` connection over tokio-rustls (or plain TCP), for the requests
//! most calls are: no proxy and no upload, to a server trusted by its pinned fingerprint or
//! reached over plain HTTP. Everything else goes through reqwest ([`super::HttpsTransport`]).
//!
//! Per request it does what correctness needs and no more: the request is written from
//! parts made once (authority, auth headers), an idle connection is taken from the pool
//! and given back once its answer is read, a connection closed while idle is dropped, and
//! a request that a reused connection refused before sending it is sent on a new one.
//! Measured without Python (`benches/src/bin/https-client.rs`), a bare hyper client costs
//! about a third of the CPU per request of reqwest's stack (URL re-parsing in its redirect
//! layer, header map copies, a pool and dispatch task per connection).

use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use parking_lot::Mutex;
use rustls::pki_types::ServerName;

use super::answer::{chain, hinted, within};
use crate::api::Error;

/// How long an idle connection is kept (as the reqwest client's pool).
const IDLE: Duration = Duration::from_secs(60);

/// Connections kept idle at most (more are closed when given back).
const MAX_IDLE: usize = 64;

/// Where and how to connect.
pub(super) struct Driver {
    /// The `Host` header: the base URL's host, and its port unless the scheme's default.
    pub(super) authority: reqwest::header::HeaderValue,
    host: String,
    port: u16,
    /// `None`: plain HTTP.
    tls: Option<(tokio_rustls::TlsConnector, ServerName<'static>)>,
    connect_timeout: Option<Duration>,
    idle: Mutex<Vec<(SendRequest<Full<Bytes>>, Instant)>>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("host", &self.host)
            .field("port", &self.port)
            .finish_non_exhaustive()
    }
}

/// A connection taken from the pool (or made) for one request.
pub(super) struct Lease {
    sender: SendRequest<Full<Bytes>>,
    reused: bool,
}

/// Whether an environment variable names a proxy reqwest would use.
fn proxy_in_env(https: bool) -> bool {
    let names: &[&str] = if https {
        &["HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
    };
    names
        .iter()
        .any(|n| std::env::var_os(n).is_some_and(|v| !v.is_empty()))
}

impl Driver {
    /// The driver for `base` (a parsed base URL), or `None` where reqwest must serve: a
    /// proxy (configured or in the environment) or a certificate checked otherwise than
    /// by its pinned fingerprint (`tls`: the pinned client config, `None` for plain HTTP).
    pub(super) fn new(
        base: &reqwest::Url,
        tls: Option<rustls::ClientConfig>,
        proxies: bool,
        connect_timeout: Option<Duration>,
    ) -> Option<Driver> {
        let https = match base.scheme() {
            "https" => true,
            "http" => false,
            _ => return None,
        };
        if proxies || proxy_in_env(https) || https != tls.is_some() {
            return None;
        }
        let bracketed = base.host_str()?;
        let authority = match base.port() {
            Some(p) => format!("{bracketed}:{p}"),
            None => bracketed.to_string(),
        };
        let authority = reqwest::header::HeaderValue::from_str(&authority).ok()?;
        let host = bracketed.trim_start_matches('[').trim_end_matches(']');
        let port = base.port_or_known_default()?;
        let tls = match tls {
            Some(config) => {
                let name = ServerName::try_from(host.to_string()).ok()?;
                Some((tokio_rustls::TlsConnector::from(Arc::new(config)), name))
            }
            None => None,
        };
        Some(Driver {
            authority,
            host: host.to_string(),
            port,
            tls,
            connect_timeout,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// An idle connection that is still open, or a new one.
    pub(super) async fn lease(&self, what: &str) -> Result<Lease, Error> {
        loop {
            let taken = self.idle.lock().pop();
            let Some((mut sender, since)) = taken else {
                break;
            };
            if sender.is_closed() || since.elapsed() >= IDLE {
                continue;
            }
            // A connection given back as its answer ended may still be finishing it.
            if sender.ready().await.is_ok() {
                return Ok(Lease {
                    sender,
                    reused: true,
                });
            }
        }
        let sender = match self.connect_timeout {
            Some(t) => tokio::time::timeout(t, self.connect(what))
                .await
                .map_err(|_| Error::Timeout(format!("{what}: timed out (connecting)")))??,
            None => self.connect(what).await?,
        };
        Ok(Lease {
            sender,
            reused: false,
        })
    }

    async fn connect(&self, what: &str) -> Result<SendRequest<Full<Bytes>>, Error> {
        let failed = |e: &dyn std::error::Error| {
            Error::Connection(format!("{what}: cannot connect: {}", hinted(e)))
        };
        let tcp = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| failed(&e))?;
        let _ = tcp.set_nodelay(true);
        let sender = match &self.tls {
            Some((connector, name)) => {
                let stream = connector
                    .connect(name.clone(), tcp)
                    .await
                    .map_err(|e| Error::Tls(format!("{what}: TLS failed: {}", hinted(&e))))?;
                handshake(TokioIo::new(stream)).await
            }
            None => handshake(TokioIo::new(tcp)).await,
        };
        sender.map_err(|e| failed(&e))
    }

    /// Sends `request` on `lease`; a reused connection that closed before taking it is
    /// replaced by a new one (`rebuild` makes the request again).
    pub(super) async fn send(
        &self,
        mut lease: Lease,
        request: hyper::Request<Full<Bytes>>,
        rebuild: impl Fn() -> hyper::Request<Full<Bytes>>,
        what: &str,
    ) -> Result<(hyper::Response<Incoming>, Lease), Error> {
        match lease.sender.send_request(request).await {
            Ok(resp) => Ok((resp, lease)),
            Err(e) if lease.reused && (e.is_canceled() || e.is_closed()) => {
                // The server closed the idle connection as this request was queued on it:
                // nothing was sent, so it goes on a new connection.
                let mut fresh = Lease {
                    sender: self.connect(what).await?,
                    reused: false,
                };
                let resp = fresh
                    .sender
                    .send_request(rebuild())
                    .await
                    .map_err(|e| sending_failed(&e, what))?;
                Ok((resp, fresh))
            }
            Err(e) => Err(sending_failed(&e, what)),
        }
    }

    /// Gives a connection whose answer was read in full back to the pool.
    pub(super) fn give_back(&self, lease: Lease) {
        if lease.sender.is_closed() {
            return;
        }
        let mut idle = self.idle.lock();
        if idle.len() < MAX_IDLE {
            idle.push((lease.sender, Instant::now()));
        }
    }
}

/// The HTTP/1.1 handshake on a connected stream; the connection runs as its own task (it
/// ends when the connection closes or its sender is dropped).
async fn handshake<T>(io: TokioIo<T>) -> Result<SendRequest<Full<Bytes>>, hyper::Error>
where
    T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let (sender, conn) = hyper::client::conn::http1::handshake(io).await?;
    tokio::spawn(async move {
        let _ = conn.await;
    });
    Ok(sender)
}

fn sending_failed(e: &hyper::Error, what: &str) -> Error {
    let text = chain(e);
    Error::Connection(format!("{what}: {text}"))
}

/// Reads a body in full, refusing one larger than `limit`.
pub(super) async fn read_body(
    mut body: Incoming,
    size_hint: Option<u64>,
    limit: Option<usize>,
) -> Result<Vec<u8>, Error> {
    let mut bytes = Vec::with_capacity(size_hint.unwrap_or(0).min(1 << 20) as usize);
    while let Some(frame) = body.frame().await {
        let frame =
            frame.map_err(|e| Error::Connection(format!("reading the answer: {}", chain(&e))))?;
        if let Ok(chunk) = frame.into_data() {
            bytes.extend_from_slice(&chunk);
            within(limit, bytes.len())?;
        }
    }
    Ok(bytes)
}

/// A gzip body decoded, refusing one that decodes to more than `limit`.
pub(super) fn gunzip(bytes: &[u8], limit: Option<usize>) -> Result<Vec<u8>, Error> {
    use std::io::Read;
    let cap = limit.map_or(u64::MAX, |l| l as u64 + 1);
    let mut out = Vec::with_capacity(bytes.len().saturating_mul(4).min(1 << 20));
    flate2::read::GzDecoder::new(bytes)
        .take(cap)
        .read_to_end(&mut out)
        .map_err(|e| Error::Encoding(format!("cannot decode the answer: {e}")))?;
    within(limit, out.len())?;
    Ok(out)
}
