//! The HTTPS client's own cost, without Python: 2,000 `GET /api2/json/nodes` at 50 concurrent
//! over TLS against a running server, on a one-worker runtime, as CPU time per request of
//! this process. Twice: through our transport (its lean path, with the session and the
//! pool), and through a bare hyper HTTP/1 client (one connection per concurrent task, no
//! pool, no timeout; the body parsed into a `serde_json::Value` as ours is): the floor.
//!
//! Usage: `https-client URL PASSWORD FINGERPRINT` (the server of `proxmox_sdk.server.start`
//! with `tls=True`, as `benches/https_bench.py` starts it).

use std::sync::Arc;
use std::time::Instant;

use http_body_util::{BodyExt, Empty};
use hyper::body::Bytes;
use proxmox_sdk::api::{Call, Method};
use proxmox_sdk::tls::{install_crypto_provider, pinned_client_config, Fingerprint};
use proxmox_sdk::transport::https::{HttpsAuth, HttpsConfig, HttpsTransport};

const N: usize = 2000;
const C: usize = 50;

fn cpu_seconds() -> f64 {
    // SAFETY: getrusage writes the struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// Runs `round` once with 200 requests (connections made, code warm), then with `N`, and
/// prints that one's requests per second and CPU time per request.
async fn measure<F, Fut>(name: &str, round: F)
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    round(200).await;
    let (c0, w0) = (cpu_seconds(), Instant::now());
    round(N).await;
    let (cpu, wall) = (cpu_seconds() - c0, w0.elapsed().as_secs_f64());
    println!(
        "| {name} | {:.0} | {:.1} |",
        N as f64 / wall,
        cpu / N as f64 * 1e6
    );
}

/// Waits for every task (a panicking one fails the benchmark).
async fn join(tasks: Vec<tokio::task::JoinHandle<()>>) {
    for task in tasks {
        task.await.expect("task");
    }
}

async fn ours(url: &str, password: &str, fp: Fingerprint) -> Result<String, String> {
    let mut cfg = HttpsConfig::new(
        url.to_string(),
        HttpsAuth::Password {
            user: "root@pam".into(),
            password: password.into(),
            otp: None,
            otptype: "totp".into(),
            cookie: "PVEAuthCookie".into(),
        },
    );
    cfg.fingerprint = Some(fp);
    let t = Arc::new(HttpsTransport::new(cfg)?);
    let nodes = Call::new(Method::Get, "/api2/json/nodes", Default::default());
    let round = |n: usize| {
        let t = t.clone();
        let nodes = nodes.clone();
        async move {
            let per = n / C;
            let tasks: Vec<_> = (0..C)
                .map(|_| {
                    let (t, nodes) = (t.clone(), nodes.clone());
                    tokio::spawn(async move {
                        for _ in 0..per {
                            t.call(&nodes).await.expect("GET /nodes");
                        }
                    })
                })
                .collect();
            join(tasks).await;
        }
    };
    measure("our transport", round).await;
    // The ticket, for the bare client.
    let ticket = Call::new(
        Method::Post,
        "/api2/json/access/ticket",
        serde_json::from_value(serde_json::json!({"username": "root@pam", "password": password}))
            .map_err(|e| e.to_string())?,
    );
    let answer = t.call(&ticket).await.map_err(|e| e.to_string())?;
    Ok(answer["ticket"].as_str().unwrap_or_default().to_string())
}

async fn bare(addr: &str, ticket: &str, fp: Fingerprint) {
    let tls = tokio_rustls::TlsConnector::from(Arc::new(pinned_client_config(fp)));
    let cookie = format!("PVEAuthCookie={ticket}");
    let mut senders = Vec::new();
    for _ in 0..C {
        let tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
        tcp.set_nodelay(true).expect("nodelay");
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").expect("name");
        let stream = tls.connect(name.to_owned(), tcp).await.expect("TLS");
        let (sender, conn) =
            hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
                .await
                .expect("handshake");
        tokio::spawn(conn);
        senders.push(sender);
    }
    let senders: Vec<_> = senders
        .into_iter()
        .map(|s| Arc::new(tokio::sync::Mutex::new(s)))
        .collect();
    let round = |n: usize| {
        let senders = senders.clone();
        let cookie = cookie.clone();
        async move {
            let per = n / C;
            let tasks: Vec<_> = senders
                .into_iter()
                .map(|s| {
                    let cookie = cookie.clone();
                    tokio::spawn(async move {
                        let mut s = s.lock().await;
                        for _ in 0..per {
                            let req = hyper::Request::get("/api2/json/nodes")
                                .header("host", "127.0.0.1")
                                .header("cookie", &cookie)
                                .body(Empty::<Bytes>::new())
                                .expect("request");
                            let resp = s.send_request(req).await.expect("send");
                            let body = resp.into_body().collect().await.expect("body");
                            let v: serde_json::Value =
                                serde_json::from_slice(&body.to_bytes()).expect("JSON");
                            assert!(v["data"].is_array());
                        }
                    })
                })
                .collect();
            join(tasks).await;
        }
    };
    measure("bare hyper HTTP/1 (floor)", round).await;
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, password, fp] = &args[..] else {
        eprintln!("usage: https-client URL PASSWORD FINGERPRINT");
        std::process::exit(2);
    };
    install_crypto_provider();
    let fp = Fingerprint::parse(fp).expect("fingerprint");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        println!("| client (Rust only, {N} GET /nodes at {C}) | req/s | CPU µs/request |");
        println!("|---|---|---|");
        let ticket = ours(url, password, fp).await.expect("our transport");
        let addr = url.trim_start_matches("https://").to_string();
        bare(&addr, &ticket, fp).await;
    });
}
