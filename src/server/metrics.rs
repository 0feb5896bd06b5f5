//! `/metrics` in Prometheus' text format: requests by method, route template and status
//! with a latency histogram (100 µs to 60 s), and in real mode what was forwarded, the
//! upstream's answers by status, and how many did not match their schema. Mock mode keeps
//! the `proxmox_mock_` prefix; real mode uses the neutral `proxmox_server_`.

use std::collections::HashMap;
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::extract::State;
use axum::http::{header, HeaderValue, Method, Response};
use parking_lot::{Mutex, RwLock};

use super::app::App;

/// Upper bounds of the latency buckets, in seconds.
pub const BUCKETS: [f64; 18] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0, 60.0,
];

/// The route label of a request whose path matches no operation.
pub const UNMATCHED: &str = "unmatched";

/// One (method, route, status) series: its count, latency sum and buckets (each counting
/// the requests that fell in it, made cumulative when rendered).
#[derive(Debug, Default)]
struct Series {
    count: AtomicU64,
    micros: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len() + 1],
}

type Routes = HashMap<Box<str>, Arc<Series>, foldhash::fast::RandomState>;

/// One (method, route, status) series, found once and counted into many times (the
/// answer cache keeps the series of each answer it holds).
#[derive(Debug, Clone)]
pub struct SeriesHandle(Arc<Series>);

/// Request metrics for `/metrics`: a read lock and three atomic adds per request once its
/// series exists.
#[derive(Debug)]
pub struct Metrics {
    prefix: &'static str,
    series: RwLock<HashMap<(&'static str, u16), Routes, foldhash::fast::RandomState>>,
    /// Real mode: the upstream's answers by status (0: no answer at all).
    upstream: Mutex<std::collections::BTreeMap<u16, u64>>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new(false)
    }
}

fn method_label(m: &Method) -> &'static str {
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::PATCH => "PATCH",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// A label value with Prometheus' escapes.
fn escaped(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

impl Metrics {
    /// Metrics named for mock mode (`proxmox_mock_*`) or real mode (`proxmox_server_*`).
    pub fn new(real: bool) -> Metrics {
        Metrics {
            prefix: if real {
                "proxmox_server"
            } else {
                "proxmox_mock"
            },
            series: RwLock::default(),
            upstream: Mutex::default(),
        }
    }

    /// Counts one answered request; `route` is its operation's path template.
    pub fn observe(&self, method: &Method, route: Option<&str>, status: u16, elapsed: Duration) {
        self.observe_in(&self.series(method, route, status), elapsed);
    }

    /// The series of `method`, `route` and `status`, made if new.
    pub fn series(&self, method: &Method, route: Option<&str>, status: u16) -> SeriesHandle {
        let key = (method_label(method), status);
        let route = route.unwrap_or(UNMATCHED);
        let found = self
            .series
            .read()
            .get(&key)
            .and_then(|r| r.get(route))
            .cloned();
        let series = found.unwrap_or_else(|| {
            self.series
                .write()
                .entry(key)
                .or_default()
                .entry(route.into())
                .or_default()
                .clone()
        });
        SeriesHandle(series)
    }

    /// Counts one answered request of `series`.
    pub fn observe_in(&self, series: &SeriesHandle, elapsed: Duration) {
        let series = &series.0;
        let secs = elapsed.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|b| secs <= *b)
            .unwrap_or(BUCKETS.len());
        series.count.fetch_add(1, Ordering::Relaxed);
        series
            .micros
            .fetch_add(elapsed.as_micros() as u64, Ordering::Relaxed);
        series.buckets[bucket].fetch_add(1, Ordering::Relaxed);
    }

    /// Counts one upstream answer (real mode); `None`: the upstream gave none.
    pub fn observe_upstream(&self, status: Option<u16>) {
        *self.upstream.lock().entry(status.unwrap_or(0)).or_default() += 1;
    }

    /// The metrics as Prometheus text.
    pub fn render(&self) -> String {
        let p = self.prefix;
        let mut rows: Vec<(&'static str, String, u16, Arc<Series>)> = self
            .series
            .read()
            .iter()
            .flat_map(|((m, status), routes)| {
                routes
                    .iter()
                    .map(move |(r, s)| (*m, r.to_string(), *status, s.clone()))
            })
            .collect();
        rows.sort_by(|a, b| (&a.1, a.0, a.2).cmp(&(&b.1, b.0, b.2)));
        let mut out = String::new();
        let labels = |m: &str, r: &str, s: u16| {
            format!("method=\"{m}\",route=\"{}\",status=\"{s}\"", escaped(r))
        };
        let _ = writeln!(out, "# HELP {p}_requests_total API requests answered.");
        let _ = writeln!(out, "# TYPE {p}_requests_total counter");
        for (m, r, s, series) in &rows {
            let _ = writeln!(
                out,
                "{p}_requests_total{{{}}} {}",
                labels(m, r, *s),
                series.count.load(Ordering::Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "# HELP {p}_request_errors_total API requests answered with a 4xx/5xx."
        );
        let _ = writeln!(out, "# TYPE {p}_request_errors_total counter");
        let errors: u64 = rows
            .iter()
            .filter(|r| r.2 >= 400)
            .map(|r| r.3.count.load(Ordering::Relaxed))
            .sum();
        let _ = writeln!(out, "{p}_request_errors_total {errors}");
        let _ = writeln!(
            out,
            "# HELP {p}_request_duration_seconds Time to answer an API request."
        );
        let _ = writeln!(out, "# TYPE {p}_request_duration_seconds histogram");
        for (m, r, s, series) in &rows {
            let l = labels(m, r, *s);
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += series.buckets[i].load(Ordering::Relaxed);
                let _ = writeln!(
                    out,
                    "{p}_request_duration_seconds_bucket{{{l},le=\"{bound}\"}} {cumulative}"
                );
            }
            let count = series.count.load(Ordering::Relaxed);
            let _ = writeln!(
                out,
                "{p}_request_duration_seconds_bucket{{{l},le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(
                out,
                "{p}_request_duration_seconds_sum{{{l}}} {}",
                series.micros.load(Ordering::Relaxed) as f64 / 1e6
            );
            let _ = writeln!(out, "{p}_request_duration_seconds_count{{{l}}} {count}");
        }
        let upstream = self.upstream.lock();
        if !upstream.is_empty() {
            let _ = writeln!(
                out,
                "# HELP {p}_upstream_responses_total Answers of the real PVE by status (0: none, the connection failed)."
            );
            let _ = writeln!(out, "# TYPE {p}_upstream_responses_total counter");
            for (status, n) in upstream.iter() {
                let _ = writeln!(
                    out,
                    "{p}_upstream_responses_total{{status=\"{status}\"}} {n}"
                );
            }
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labelled_series_and_cumulative_buckets() {
        let m = Metrics::new(false);
        m.observe(
            &Method::GET,
            Some("/version"),
            200,
            Duration::from_micros(50),
        );
        m.observe(
            &Method::GET,
            Some("/version"),
            200,
            Duration::from_millis(3),
        );
        m.observe(
            &Method::PUT,
            Some("/nodes/{node}/qemu/{vmid}/config"),
            400,
            Duration::from_secs(45),
        );
        m.observe(&Method::GET, None, 501, Duration::from_secs(120));
        let text = m.render();
        assert!(
            text.contains(
                "proxmox_mock_requests_total{method=\"GET\",route=\"/version\",status=\"200\"} 2\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("proxmox_mock_request_errors_total 2\n"),
            "{text}"
        );
        let l = "method=\"GET\",route=\"/version\",status=\"200\"";
        assert!(text.contains(&format!(
            "proxmox_mock_request_duration_seconds_bucket{{{l},le=\"0.0001\"}} 1\n"
        )));
        assert!(text.contains(&format!(
            "proxmox_mock_request_duration_seconds_bucket{{{l},le=\"0.005\"}} 2\n"
        )));
        let put = "method=\"PUT\",route=\"/nodes/{node}/qemu/{vmid}/config\",status=\"400\"";
        assert!(text.contains(&format!(
            "proxmox_mock_request_duration_seconds_bucket{{{put},le=\"30\"}} 0\n"
        )));
        assert!(text.contains(&format!(
            "proxmox_mock_request_duration_seconds_bucket{{{put},le=\"60\"}} 1\n"
        )));
        let un = "method=\"GET\",route=\"unmatched\",status=\"501\"";
        assert!(text.contains(&format!(
            "proxmox_mock_request_duration_seconds_bucket{{{un},le=\"60\"}} 0\n"
        )));
        assert!(text.contains(&format!(
            "proxmox_mock_request_duration_seconds_bucket{{{un},le=\"+Inf\"}} 1\n"
        )));
        let real = Metrics::new(true);
        real.observe(&Method::GET, Some("/nodes"), 200, Duration::from_millis(1));
        real.observe_upstream(Some(200));
        real.observe_upstream(None);
        let text = real.render();
        assert!(!text.contains("proxmox_mock_"), "{text}");
        assert!(text.contains("proxmox_server_upstream_responses_total{status=\"0\"} 1\n"));
        assert!(text.contains("proxmox_server_upstream_responses_total{status=\"200\"} 1\n"));
    }
}
