//! `/metrics` in Prometheus' text format: request counts, errors, a latency histogram, and
//! in real mode what was forwarded and how many answers did not match their schema.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Response};

use super::app::App;

/// Request counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: AtomicU64,
    errors: AtomicU64,
    /// Latency histogram buckets (seconds): counts of requests at or below each bound.
    buckets: [AtomicU64; 8],
    latency_micros: AtomicU64,
}

const BUCKETS: [f64; 8] = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 1.0];

impl Metrics {
    /// Counts one answered request.
    pub fn observe(&self, elapsed: Duration, status: u16) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        if status >= 400 {
            self.errors.fetch_add(1, Ordering::Relaxed);
        }
        let secs = elapsed.as_secs_f64();
        for (i, bound) in BUCKETS.iter().enumerate() {
            if secs <= *bound {
                self.buckets[i].fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
    }

    /// The counters as Prometheus text.
    pub fn render(&self) -> String {
        let total = self.requests.load(Ordering::Relaxed);
        let mut out = String::new();
        out.push_str("# HELP proxmox_mock_requests_total API requests served.\n");
        out.push_str("# TYPE proxmox_mock_requests_total counter\n");
        out.push_str(&format!("proxmox_mock_requests_total {total}\n"));
        out.push_str(
            "# HELP proxmox_mock_request_errors_total API requests answered with a 4xx/5xx.\n",
        );
        out.push_str("# TYPE proxmox_mock_request_errors_total counter\n");
        out.push_str(&format!(
            "proxmox_mock_request_errors_total {}\n",
            self.errors.load(Ordering::Relaxed)
        ));
        out.push_str(
            "# HELP proxmox_mock_request_duration_seconds Time to answer an API request.\n",
        );
        out.push_str("# TYPE proxmox_mock_request_duration_seconds histogram\n");
        for (i, bound) in BUCKETS.iter().enumerate() {
            out.push_str(&format!(
                "proxmox_mock_request_duration_seconds_bucket{{le=\"{bound}\"}} {}\n",
                self.buckets[i].load(Ordering::Relaxed)
            ));
        }
        out.push_str(&format!(
            "proxmox_mock_request_duration_seconds_bucket{{le=\"+Inf\"}} {total}\n"
        ));
        out.push_str(&format!(
            "proxmox_mock_request_duration_seconds_sum {}\n",
            self.latency_micros.load(Ordering::Relaxed) as f64 / 1e6
        ));
        out.push_str(&format!(
            "proxmox_mock_request_duration_seconds_count {total}\n"
        ));
        out
    }
}

/// `GET /metrics`.
pub async fn metrics(State(app): State<Arc<App>>) -> Response<Body> {
    let mut text = app.metrics.render();
    if let Some(up) = &app.upstream {
        text.push_str("# HELP proxmox_proxy_forwarded_total Requests forwarded to the real PVE.\n");
        text.push_str("# TYPE proxmox_proxy_forwarded_total counter\n");
        text.push_str(&format!(
            "proxmox_proxy_forwarded_total {}\n",
            up.forwarded.load(Ordering::Relaxed)
        ));
        text.push_str("# HELP proxmox_proxy_schema_mismatches_total Upstream answers that did not match their schema.\n");
        text.push_str("# TYPE proxmox_proxy_schema_mismatches_total counter\n");
        text.push_str(&format!(
            "proxmox_proxy_schema_mismatches_total {}\n",
            up.mismatches.load(Ordering::Relaxed)
        ));
    }
    let mut resp = Response::new(Body::from(text));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4"),
    );
    resp
}
