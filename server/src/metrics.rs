//! `GET /metrics` in the Prometheus text format, through the `metrics` facade and its
//! Prometheus exporter: the code records counters, gauges and histograms where things
//! happen (ingest, the group writer, the live stream, alerts); a scrape adds what is read
//! at that moment (pools, the replay window, the process's memory) and renders them all.
//!
//! Loopback clients may scrape without a token; with `HEARTH_METRICS_TOKEN` set, any client
//! sending it as `Authorization: Bearer <token>` may. Behind a proxy trusted with
//! `HEARTH_TRUSTED_PROXY`, the client is the one the proxy names, not the proxy.

use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

const SECONDS: &[f64] = &[0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0];
const READINGS: &[f64] = &[1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10000.0, 20000.0, 50000.0, 100000.0, 200000.0];
const BATCHES: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// Installs the process's metrics recorder (once; later calls return the same handle), so
/// that what happens from now on is counted.
pub fn install() -> &'static PrometheusHandle {
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Full("hearth_commit_seconds".into()), SECONDS)
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full("hearth_db_pool_wait_seconds".into()), SECONDS))
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full("hearth_db_acquire_seconds".into()), SECONDS))
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full("hearth_commit_readings".into()), READINGS))
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full("hearth_commit_batches".into()), BATCHES))
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full("hearth_rollup_flush_seconds".into()), SECONDS))
            .and_then(|b| b.set_buckets_for_metric(Matcher::Full("hearth_rollup_flush_readings".into()), READINGS))
            .expect("histogram buckets are not empty");
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("another metrics recorder is installed; /metrics will be empty");
        }
        describe();
        handle
    })
}

/// How often [`upkeep`] folds the histograms' samples into their buckets (the exporter's own
/// default).
pub const UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Folds the samples the histograms recorded into their buckets every `every`, as the
/// exporter does itself when it runs its own listener. Without it each sample is held until
/// the next scrape of `/metrics`: a server nobody scrapes grows with every query (about
/// 2.5 KB a page load; BENCHMARKS.md).
pub async fn upkeep(every: Duration) {
    let handle = install();
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        handle.run_upkeep();
    }
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!("hearth_readings_total", "Readings by protocol and what became of them: stored, duplicate, or the status they were refused with");
    describe_counter!("hearth_ingest_requests_total", "Ingest requests by protocol and HTTP status");
    describe_counter!("hearth_mqtt_dropped_total", "QoS 0 MQTT messages dropped because more were waiting than Hearth keeps");
    describe_histogram!("hearth_commit_seconds", Unit::Seconds, "Time of one group commit of the writer, from its connection to COMMIT");
    describe_histogram!("hearth_commit_readings", "Readings in one group commit");
    describe_histogram!("hearth_commit_batches", "Requests (batches) in one group commit");
    describe_histogram!("hearth_rollup_flush_seconds", Unit::Seconds, "Time of one merge of the rollup backlog into the rollups (SQLite)");
    describe_histogram!("hearth_rollup_flush_readings", "Readings of the rollup backlog merged into the rollups at once (SQLite)");
    describe_counter!("hearth_commit_failures_total", "Group commits that failed (every request in them answered 503)");
    describe_histogram!("hearth_db_pool_wait_seconds", Unit::Seconds, "Time waited for a database connection");
    describe_histogram!("hearth_db_acquire_seconds", Unit::Seconds, "Time every query waited for a connection from the database pools");
    describe_gauge!("hearth_db_connections", "Open database connections by pool and state");
    describe_gauge!("hearth_streams_open", "Live streams open");
    describe_gauge!("hearth_replay_window_events", "Events held for live clients that resume");
    describe_gauge!("hearth_replay_window_capacity", "Events the replay window may hold (HEARTH_REPLAY_EVENTS)");
    describe_counter!("hearth_stream_resumes_total", "Live streams resumed with Last-Event-ID, by result: replayed or resync");
    describe_counter!("hearth_alert_evaluations_total", "Evaluations of the alert rules, by result");
    describe_counter!("hearth_alert_changes_total", "Alerts opened and resolved");
    describe_counter!("hearth_alert_deliveries_total", "Attempts to deliver an alert, by channel and result");
    describe_counter!("hearth_alert_deliveries_given_up_total", "Alerts given up after every attempt failed, by channel");
    describe_gauge!("process_resident_memory_bytes", Unit::Bytes, "Resident memory of the server process");
}

/// `GET /metrics`
#[utoipa::path(get, path = "/metrics", tag = "operations", security((), ("metrics_token" = [])),
    responses((status = 200, description = "Prometheus text format", content_type = "text/plain", body = String),
        (status = 401, description = "A token is set and was not sent", body = crate::schema::ErrorBody),
        (status = 403, description = "Not loopback, and no token is set", body = crate::schema::ErrorBody)))]
pub async fn metrics(State(state): State<AppState>, request: Request) -> Response {
    if let Err(refusal) = allowed(&state, &request) {
        return refusal;
    }
    let handle = install();
    for (pool, open, idle) in state.db.pools() {
        metrics::gauge!("hearth_db_connections", "pool" => pool, "state" => "idle").set(idle as f64);
        metrics::gauge!("hearth_db_connections", "pool" => pool, "state" => "busy").set(open.saturating_sub(idle as u32) as f64);
    }
    let (held, capacity) = state.hub.window_use();
    metrics::gauge!("hearth_replay_window_events").set(held as f64);
    metrics::gauge!("hearth_replay_window_capacity").set(capacity as f64);
    if let Some(rss) = resident_bytes() {
        metrics::gauge!("process_resident_memory_bytes").set(rss as f64);
    }
    handle.run_upkeep();
    let content_type = HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
    ([(header::CONTENT_TYPE, content_type)], handle.render()).into_response()
}

/// Whether the request may scrape: a loopback client, or the bearer token when one is set.
fn allowed(state: &AppState, request: &Request) -> Result<(), Response> {
    if let Some(token) = &state.config.metrics_token
        && let Some(given) = crate::ingest::credentials(request.headers(), "bearer")
        && same(given.as_bytes(), token.0.as_bytes())
    {
        return Ok(());
    }
    if crate::auth::client_ip(state, request).is_some_and(|ip| ip.is_loopback()) {
        return Ok(());
    }
    let (status, message) = match &state.config.metrics_token {
        Some(_) => (StatusCode::UNAUTHORIZED, "send the metrics token: \"Authorization: Bearer <HEARTH_METRICS_TOKEN>\""),
        None => (StatusCode::FORBIDDEN, "metrics are answered to loopback clients only; set HEARTH_METRICS_TOKEN to open them to others"),
    };
    let mut response = (status, axum::Json(serde_json::json!({ "error": message }))).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    Err(response)
}

/// Compares two secrets in time that depends only on their lengths.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The process's resident memory (Linux's `/proc/self/status`, `VmRSS`), in bytes.
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// A tracing layer that turns the database pools' events on handing out a connection into
/// the `hearth_db_acquire_seconds` histogram: every query's wait for its connection, where
/// `hearth_db_pool_wait_seconds` has only the group writer's. Install it with a filter that
/// lets [`hearth_store::ACQUIRE_TARGET`] through at trace level (see [`pool_waits_filter`]).
#[derive(Debug, Default)]
pub struct PoolWaits;

/// What [`PoolWaits`] must see: the pools' acquire events, nothing else.
pub fn pool_waits_filter() -> tracing_subscriber::filter::Targets {
    tracing_subscriber::filter::Targets::new().with_target(hearth_store::ACQUIRE_TARGET, tracing::Level::TRACE)
}

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for PoolWaits {
    fn on_event(&self, event: &tracing::Event<'_>, _: tracing_subscriber::layer::Context<'_, S>) {
        struct Waited(Option<f64>);
        impl tracing::field::Visit for Waited {
            fn record_f64(&mut self, field: &tracing::field::Field, value: f64) {
                if field.name() == "acquired_after_secs" {
                    self.0 = Some(value);
                }
            }
            fn record_debug(&mut self, _: &tracing::field::Field, _: &dyn std::fmt::Debug) {}
        }
        let mut waited = Waited(None);
        event.record(&mut waited);
        if let Some(seconds) = waited.0 {
            metrics::histogram!("hearth_db_acquire_seconds").record(seconds);
        }
    }
}

/// Which protocol an ingest path belongs to, for the ingest counters.
pub fn protocol_of(path: &str) -> &'static str {
    match path {
        "/api/v1/readings" => "json",
        "/api/v2/write" | "/write" | "/query" | "/ping" => "influx",
        p if p.starts_with("/input/") => "emoncms",
        _ => "other",
    }
}

/// Middleware of the ingest routes: counts each request by protocol and status.
pub async fn count_ingest(request: Request, next: axum::middleware::Next) -> Response {
    let protocol = protocol_of(request.uri().path());
    let response = next.run(request).await;
    metrics::counter!("hearth_ingest_requests_total", "protocol" => protocol, "status" => response.status().as_u16().to_string())
        .increment(1);
    response
}
