//! Hearth's server: the HTTP API devices post to, the live stream, and the server-rendered
//! app. `app(state)` builds the router; `serve` runs it on a listener until shutdown.
//!
//! The data path runs through these modules in order: [`ingest`] (parse and check) →
//! `app::reading::ssr::store` (commit) → [`broadcast`] (fan out) → [`stream`] (SSE to
//! browsers) → the chart in `app`.

#![recursion_limit = "512"]

pub mod alerts;
pub mod api;
pub mod auth;
pub mod broadcast;
pub mod config;
pub mod error;
pub mod ingest;
pub mod limit;
pub mod retention;
pub mod simulate;
pub mod stream;

use app::account::ssr::Auth;
use app::mqtt::ssr::Activity;
use app::store::Db;
use app::time::ssr::HouseZone;
use axum::Router;
use axum::extract::{ConnectInfo, DefaultBodyLimit, FromRef};
use axum::http::StatusCode;
use axum::middleware;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use limit::Limits;
use std::time::Duration;
use tower::ServiceExt;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use axum::routing::{get, post};
use broadcast::Hub;
use config::Config;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use std::future::Future;
use std::sync::Arc;
use tokio::net::TcpListener;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

/// Everything handlers share.
#[derive(Clone, FromRef)]
pub struct AppState {
    /// Where the site's files are and how to render pages.
    pub leptos_options: LeptosOptions,
    /// The database.
    pub db: Db,
    /// Fans stored readings out to live streams.
    pub hub: Arc<Hub>,
    /// Limits and settings.
    pub config: Arc<Config>,
    /// The house's time zone.
    pub zone: HouseZone,
    /// Login settings and the login rate limit.
    pub auth: Auth,
    /// Ingest rate and live-stream limits.
    pub limits: Arc<Limits>,
    /// What the protocol front doors have seen: broker connection, discovered MQTT prefixes,
    /// skipped inputs.
    pub activity: Arc<Activity>,
}

impl AppState {
    /// State for a server on `db` with `config`.
    pub fn new(leptos_options: LeptosOptions, db: Db, config: Config) -> AppState {
        let zone = config.zone();
        let auth = auth::settings(&config);
        let hub = Arc::new(Hub::new(config.stream_buffer, config.replay_events));
        let limits = Arc::new(Limits::new(&config));
        AppState { leptos_options, db, hub, config: Arc::new(config), zone, auth, activity: Arc::default(), limits }
    }
}

/// The whole HTTP surface: ingest (device tokens), and behind the session middleware
/// ([`auth::require_session`]) the read API, the stream, server functions, pages and files.
/// Every request but the live stream is answered 408 past the request timeout, body
/// included; bodies are limited to `max_body_bytes`.
pub fn app(state: AppState) -> Router {
    let routes = generate_route_list(app::App);
    let (db, zone, auth, activity) = (state.db.clone(), state.zone.clone(), state.auth.clone(), state.activity.clone());
    let options = state.leptos_options.clone();
    let timeout = TimeoutLayer::with_status_code(
        StatusCode::REQUEST_TIMEOUT,
        Duration::from_secs(state.config.request_timeout_secs),
    );
    let body_limit = DefaultBodyLimit::max(state.config.max_body_bytes);
    // Telegraf gzips line protocol by default; the limit applies to the decompressed body.
    let line_protocol = Router::new()
        .route("/api/v2/write", post(ingest::influx::write_v2))
        .route("/write", post(ingest::influx::write_v1))
        .layer(RequestDecompressionLayer::new())
        .layer(body_limit);
    let emoncms = Router::new()
        .route("/input/post", get(ingest::emoncms::post).post(ingest::emoncms::post))
        .route("/input/post.json", get(ingest::emoncms::post).post(ingest::emoncms::post))
        .route("/input/post/{node}", get(ingest::emoncms::post_to_node).post(ingest::emoncms::post_to_node))
        .route("/input/bulk", get(ingest::emoncms::bulk).post(ingest::emoncms::bulk))
        .route("/input/bulk.json", get(ingest::emoncms::bulk).post(ingest::emoncms::bulk))
        .layer(body_limit);
    // Every way devices post in, with their own credentials and no session.
    let ingest = Router::new()
        .route("/api/v1/readings", post(ingest::post_readings).layer(body_limit))
        .merge(line_protocol)
        .route("/query", post(ingest::influx::query))
        .route("/ping", get(ingest::influx::ping).head(ingest::influx::ping))
        .merge(emoncms)
        .layer(timeout);
    let with_session = Router::new()
        .route("/api/v1/sensors", get(api::sensors))
        .route("/api/v1/sensors/{id}/series", get(api::series))
        .route("/share/{token}", get(auth::open_share))
        .route("/api/v1/sensors/{id}/daily", get(api::daily))
        .leptos_routes_with_context(&state, routes, move || {
            provide_context(db.clone());
            provide_context(zone.clone());
            provide_context(auth.clone());
            provide_context(activity.clone());
        }, move || {
            app::shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(app::shell))
        .layer(RequestBodyLimitLayer::new(state.config.max_body_bytes))
        .layer(timeout)
        // Pages, server functions and the WASM (1.9 MB, 0.7 MB gzipped) go out compressed.
        .layer(CompressionLayer::new())
        .route("/api/v1/stream", get(stream::stream))
        .layer(middleware::from_fn_with_state(state.clone(), auth::require_session));
    ingest.merge(with_session).layer(TraceLayer::new_for_http()).with_state(state)
}

/// Serves `state`'s app on `listener` until `shutdown` completes, then closes live streams
/// and waits (up to 10 s) for requests in flight. Retention and the alert evaluator run in
/// the background meanwhile, and so does the MQTT subscriber when a broker is configured. On PostgreSQL it
/// first starts relaying the readings every server stores to this server's live streams.
///
/// Connections are served by hyper directly rather than `axum::serve`, for its header read
/// timeout: a client that sends its headers slower than `header_timeout_secs` is cut off.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hub = state.hub.clone();
    let relay = match &state.db {
        Db::Postgres(pg) => Some(broadcast::relay_postgres(&pg.pool, hub.clone()).await.map_err(std::io::Error::other)?),
        Db::Sqlite(_) => None,
    };
    let alert_relay = match &state.db {
        Db::Postgres(pg) => Some(broadcast::relay_alerts_postgres(&pg.pool, hub.clone()).await.map_err(std::io::Error::other)?),
        Db::Sqlite(_) => None,
    };
    let webhook = state.config.alert_webhook_url.as_ref().map(|url| alerts::Webhook::new(url.0.clone()).spawn());
    let judging = tokio::spawn(alerts::run(
        state.db.clone(),
        state.zone.clone(),
        hub.clone(),
        webhook.as_ref().map(|(queue, _)| queue.clone()),
        Duration::from_secs(state.config.alert_interval_seconds.max(1)),
    ));
    let mqtt = match &state.config.mqtt_url {
        Some(url) => {
            let port = listener.local_addr()?.port();
            let host = gethostname::gethostname().to_string_lossy().into_owned();
            let client_id = state.config.mqtt_client_id.clone().unwrap_or_else(|| format!("hearth-{host}-{port}"));
            let options = ingest::mqtt::options(&url.0, &client_id, state.config.mqtt_session_seconds)
                .map_err(std::io::Error::other)?;
            state.activity.broker_configured(url.to_string());
            tracing::info!(broker = %url, client_id, group = state.config.mqtt_group, "subscribing to MQTT");
            Some(tokio::spawn(ingest::mqtt::run(state.clone(), options, state.config.mqtt_group.clone())))
        }
        None => None,
    };
    let pruning = tokio::spawn(retention::run(
        state.db.clone(),
        retention::Retention::from_config(&state.config),
        std::time::Duration::from_secs(3600),
    ));
    let header_timeout = Duration::from_secs(state.config.header_timeout_secs);
    let router = app(state);
    let mut connections = conn::auto::Builder::new(TokioExecutor::new());
    connections.http1().timer(TokioTimer::new()).header_read_timeout(header_timeout);
    connections.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                // Out of file descriptors and the like: wait rather than spin.
                Err(e) => {
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(move |mut request: axum::extract::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let connection = connections.serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection.into_owned());
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    hub.close();
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await.is_err() {
        tracing::warn!("some connections were still open 10 s after shutdown began");
    }
    pruning.abort();
    judging.abort();
    if let Some((_, sender)) = webhook {
        sender.abort();
    }
    if let Some(relay) = alert_relay {
        relay.abort();
    }
    if let Some(mqtt) = mqtt {
        mqtt.abort();
    }
    if let Some(relay) = relay {
        relay.abort();
    }
    Ok(())
}

/// Completes on ctrl-c or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
