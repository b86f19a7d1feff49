//! Metrics: request counts and latencies by route, sign-in outcomes.
//!
//! The router reports through the process-global `metrics` facade and never
//! installs a recorder itself: whoever runs it chooses the exporter (the
//! `tessera` binary installs Prometheus's) and hands the router a
//! [`MetricsRenderer`] for `/metrics`. Without one, the counters go to the
//! facade's no-op recorder (or to the embedder's own) and `/metrics` answers
//! 404, so the router pulls in no exporter.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;
use tessera_core::Error;

/// Renders the process's metrics for `/metrics`, in the Prometheus text
/// format (`text/plain; version=0.0.4`); e.g. a Prometheus exporter handle's
/// `render`.
#[derive(Clone)]
pub struct MetricsRenderer(Arc<dyn Fn() -> String + Send + Sync>);

impl MetricsRenderer {
    /// A renderer calling `render` at each scrape.
    pub fn new(render: impl Fn() -> String + Send + Sync + 'static) -> Self {
        MetricsRenderer(Arc::new(render))
    }

    /// The metrics text now.
    pub fn render(&self) -> String {
        (self.0)()
    }
}

impl std::fmt::Debug for MetricsRenderer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsRenderer(..)")
    }
}

/// Count and time every request by matched route, method and status.
pub(crate) async fn track(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().as_str().to_owned();
    let start = Instant::now();
    let res = next.run(req).await;
    let status = res.status().as_u16().to_string();
    let labels = [("route", route), ("method", method), ("status", status)];
    metrics::counter!("tessera_http_requests_total", &labels).increment(1);
    metrics::histogram!("tessera_http_request_duration_seconds", &labels[..2])
        .record(start.elapsed().as_secs_f64());
    res
}

/// Count a sign-in's outcome: `succeeded`, or the error code.
pub(crate) fn sign_in<T>(method: &'static str, result: &Result<T, Error>) {
    sign_in_outcome(
        method,
        result.as_ref().map_or_else(|e| e.code(), |_| "succeeded"),
    );
}

/// Count a sign-in outcome given as its label (`succeeded`, or an error code).
pub(crate) fn sign_in_outcome(method: &'static str, outcome: &str) {
    metrics::counter!("tessera_sign_ins_total", "method" => method, "outcome" => outcome.to_owned()).increment(1);
}
