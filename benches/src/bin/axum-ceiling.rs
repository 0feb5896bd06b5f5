//! The ceiling for the server benchmark: the least an axum server can do to answer
//! `GET /api2/json/version` (a fixed body of the same size and type as PVE's answer, no
//! routing table, no middleware) on the same runtime our server uses (tokio's multi-thread
//! scheduler, one worker per core). `benches/server_bench.py` runs it beside our server and
//! reports ours as a fraction of it. `/pve/api2/json/version` answers the same body with
//! the headers PVE (and our server) send with every answer (`Server`, `Cache-Control`,
//! `Pragma`, `Expires`; a fixed date, the least work), so that the report can say how much
//! of the gap those headers are. `PORT` and `HOST` as for `proxmox-sdk-mock`.

use axum::http::header;
use axum::routing::get;
use axum::Router;

const VERSION: &str = r#"{"data":{"release":"9.2","repoid":"8ec8bd3e69b4d5e5","version":"9.2.0"}}"#;

fn main() -> std::io::Result<()> {
    let port = std::env::var("PORT").unwrap_or_else(|_| "8000".into());
    let host = std::env::var("HOST").unwrap_or_else(|_| "127.0.0.1".into());
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let app = Router::new()
                .route(
                    "/api2/json/version",
                    get(|| async {
                        (
                            [(header::CONTENT_TYPE, "application/json;charset=UTF-8")],
                            VERSION,
                        )
                    }),
                )
                .route(
                    "/pve/api2/json/version",
                    get(|| async {
                        (
                            [
                                (header::CONTENT_TYPE, "application/json;charset=UTF-8"),
                                (header::SERVER, "pve-api-daemon/3.0"),
                                (header::CACHE_CONTROL, "max-age=0"),
                                (header::PRAGMA, "no-cache"),
                                (header::EXPIRES, "Wed, 02 Dec 2026 18:00:00 GMT"),
                            ],
                            VERSION,
                        )
                    }),
                )
                .route("/health", get(|| async { "ok" }));
            let listener = tokio::net::TcpListener::bind(format!("{host}:{port}")).await?;
            axum::serve(listener, app).await
        })
}
