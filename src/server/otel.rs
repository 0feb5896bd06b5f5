//! The server's spans over OTLP/HTTP: with `OTEL_EXPORTER_OTLP_ENDPOINT` (or
//! `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, and `OTEL_SDK_DISABLED` not true, every API
//! request becomes one SERVER span, `{METHOD} {template}` (the schema's path template, so
//! spans group by operation), with `http.request.method`, `url.path`,
//! `http.route`, `http.response.status_code` and `proxmox.service`; a 5xx marks it an
//! error. No header, parameter or body goes into a span. Spans leave in batches from a
//! background thread and are flushed when the server stops.

use std::time::SystemTime;

use opentelemetry::trace::{Span, SpanKind, Status, Tracer, TracerProvider};
use opentelemetry::KeyValue;
use opentelemetry_sdk::trace::{SdkTracer, SdkTracerProvider};
use opentelemetry_sdk::Resource;

/// The exporter and tracer of a server.
pub struct Tracing {
    provider: SdkTracerProvider,
    tracer: SdkTracer,
}

impl std::fmt::Debug for Tracing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tracing(otlp)")
    }
}

fn truthy(v: &str) -> bool {
    matches!(
        v.trim().to_ascii_lowercase().as_str(),
        "1" | "true" | "yes" | "on"
    )
}

/// The tracing the environment asks for, if any; an exporter that cannot be built is
/// logged and tracing stays off (it never stops a server from starting).
pub fn from_env() -> Option<Tracing> {
    let env = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
    if env("OTEL_SDK_DISABLED").is_some_and(|v| truthy(&v)) {
        return None;
    }
    env("OTEL_EXPORTER_OTLP_ENDPOINT").or_else(|| env("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))?;
    let service = env("OTEL_SERVICE_NAME").unwrap_or_else(|| "proxmox-sdk-mock".into());
    // The exporter's blocking HTTP client must be made (and later dropped) outside any
    // async runtime: a thread of its own.
    let built = std::thread::spawn(move || {
        crate::tls::install_crypto_provider();
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .build()
            .map_err(|e| e.to_string())?;
        let resource = Resource::builder()
            .with_service_name(service)
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
            .build();
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(resource)
            .build();
        Ok::<_, String>(provider)
    })
    .join();
    match built {
        Ok(Ok(provider)) => {
            let tracer = provider.tracer("proxmox_sdk::server");
            Some(Tracing { provider, tracer })
        }
        Ok(Err(e)) => {
            tracing::warn!(target: "proxmox_sdk::server", "OTLP export disabled: {e}");
            None
        }
        Err(_) => None,
    }
}

/// One finished request, as a span gets it.
pub struct RequestSpan<'a> {
    /// The HTTP method.
    pub method: &'a str,
    /// The path (no query string: it can hold secrets).
    pub path: &'a str,
    /// The operation's path template, when the path is an API path.
    pub template: Option<&'a str>,
    /// The answer's status.
    pub status: u16,
    /// The product served.
    pub service: &'a str,
    /// When the request arrived.
    pub started: SystemTime,
}

impl Tracing {
    /// Records one request.
    pub fn record(&self, r: &RequestSpan<'_>) {
        let route = r.template.map(|t| format!("/api2/json{t}"));
        let name = format!("{} {}", r.method, route.as_deref().unwrap_or(r.path));
        let mut attrs = vec![
            KeyValue::new("http.request.method", r.method.to_string()),
            KeyValue::new("url.path", r.path.to_string()),
            KeyValue::new("http.response.status_code", i64::from(r.status)),
            KeyValue::new("proxmox.service", r.service.to_string()),
        ];
        if let Some(route) = route {
            attrs.push(KeyValue::new("http.route", route));
        }
        let mut span = self
            .tracer
            .span_builder(name)
            .with_kind(SpanKind::Server)
            .with_start_time(r.started)
            .with_attributes(attrs)
            .start(&self.tracer);
        if r.status >= 500 {
            span.set_status(Status::error(format!("HTTP {}", r.status)));
        }
        span.end();
    }

    /// Sends what is still buffered and stops the exporter (from a thread of its own,
    /// outside the server's runtime).
    pub fn shutdown(&self) {
        let provider = self.provider.clone();
        let _ = std::thread::spawn(move || {
            let _ = provider.force_flush();
            let _ = provider.shutdown();
        })
        .join();
    }
}
