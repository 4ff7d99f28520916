//! Hearth's server: the HTTP API devices post to, the live stream, the read API, the
//! server-rendered app, and the background jobs. [`app`] builds the router from the state;
//! [`serve()`] runs it on a listener until shutdown.
//!
//! The data path runs through these modules in order: [`ingest`] (parse and check) →
//! `hearth_store::reading::store` (commit, announce on the bus) → [`broadcast`] (fan out) →
//! [`stream`] (SSE to browsers) → the chart in `hearth-app`.
//!
//! It is the top layer: it may depend on `hearth-app`, `hearth-store` and `hearth-core`, and
//! nothing depends on it. It never talks SQL: only the store knows the database.

#![recursion_limit = "512"]

pub mod api;
pub mod auth;
pub mod broadcast;
pub mod cache;
pub mod config;
pub mod error;
pub mod export;
pub mod headers;
pub mod health;
pub mod import;
pub mod ingest;
pub mod jobs;
pub mod limit;
pub mod metrics;
pub mod openapi;
pub mod schema;
pub mod serve;
pub mod simulate;
pub mod stream;

pub use serve::{serve, shutdown_signal};

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRef};
use axum::http::StatusCode;
use axum::middleware;
use axum::routing::{get, post};
use axum::handler::Handler;
use broadcast::Hub;
use config::Config;
use hearth_app::context::Shared;
use hearth_app::session::Auth;
use hearth_core::mqtt::Activity;
use hearth_core::time::house::HouseZone;
use hearth_store::Db;
use leptos::prelude::*;
use leptos_axum::{LeptosRoutes, generate_route_list};
use limit::Limits;
use std::ops::Deref;
use std::sync::Arc;
use std::time::Duration;
use tower_http::compression::predicate::{DefaultPredicate, Predicate};
use tower_http::compression::CompressionLayer;
use tower_http::decompression::RequestDecompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;
use tower_http::trace::TraceLayer;

/// Everything handlers share, behind one pointer: axum clones the state for every request
/// (and every middleware that takes it), and cloning each part was 3 % of the server's CPU
/// under single-reading ingest (BENCHMARKS.md). Its parts are reached through [`Deref`].
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

/// The parts of [`AppState`].
pub struct AppParts {
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
    /// How alerts reach people (time zone, trusted roots, retries).
    pub reach: jobs::reach::Reach,
}

impl AppState {
    /// State for a server on `db` with `config`.
    pub fn new(leptos_options: LeptosOptions, db: Db, config: Config) -> AppState {
        metrics::install();
        let zone = config.zone();
        let auth = auth::settings(&config);
        let hub = Arc::new(Hub::new(config.stream_buffer, config.replay_events));
        let limits = Arc::new(Limits::new(&config));
        let reach = jobs::reach::Reach {
            zone: zone.clone(),
            extra_roots: Arc::new(config.alert_ca_file.iter().map(|f| f.pem.clone()).collect()),
            public_url: config.public_url.clone(),
            retry: jobs::reach::Retry::default(),
        };
        AppState(Arc::new(AppParts { leptos_options, db, hub, config: Arc::new(config), zone, auth, activity: Arc::default(), limits, reach }))
    }

    /// What server functions and server-rendered pages get as context.
    pub fn shared(&self) -> Shared {
        let (db, reach) = (self.db.clone(), self.reach.clone());
        let channel_test = hearth_app::context::ChannelTest(Arc::new(move |kind| {
            let (db, reach) = (db.clone(), reach.clone());
            Box::pin(async move { jobs::outbox::send_test(&db, &reach, kind).await }) as hearth_app::context::TestSent
        }));
        Shared { db: self.db.clone(), zone: self.zone.clone(), auth: self.auth.clone(), activity: self.activity.clone(), channel_test }
    }
}

impl Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

/// The parts handlers and layers extract on their own (`State<Db>`, …).
macro_rules! from_state {
    ($($part:ident: $type:ty),* $(,)?) => {
        $(impl FromRef<AppState> for $type {
            fn from_ref(state: &AppState) -> $type {
                state.$part.clone()
            }
        })*
    };
}
from_state!(leptos_options: LeptosOptions, db: Db, hub: Arc<Hub>, config: Arc<Config>, zone: HouseZone, auth: Auth, limits: Arc<Limits>, activity: Arc<Activity>, reach: jobs::reach::Reach);

/// The whole HTTP surface: ingest (device tokens), and behind the session middleware
/// ([`auth::require_session`]) the read API, the stream, server functions, pages and files.
/// Every request but the live stream is answered 408 past the request timeout, body
/// included; bodies are limited to `max_body_bytes`. Every answer carries the security
/// headers ([`headers::security`]); what browsers may keep, and for how long, is [`cache`]'s.
pub fn app(state: AppState) -> Router {
    let routes = generate_route_list(hearth_app::App);
    let shared = state.shared();
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
        .layer(middleware::from_fn(metrics::count_ingest))
        .layer(timeout);
    // For systemd, load balancers and monitors: no session.
    let operations = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/metrics", get(metrics::metrics))
        .route("/api/openapi.json", get(openapi::openapi_json))
        .route("/api/docs", get(openapi::docs))
        .layer(timeout);
    let options_pkg = state.leptos_options.clone();
    let hashed = options_pkg.hash_files;
    let compiled = tower::ServiceBuilder::new()
        .layer(middleware::from_fn(move |request, next| cache::compiled_files(hashed, request, next)))
        .service(cache::files(std::path::Path::new(&*options_pkg.site_root).join(&*options_pkg.site_pkg_dir)));
    let not_found = leptos_axum::file_and_error_handler::<AppState, _>(hearth_app::shell).with_state(state.clone());
    let site_files = cache::files(&*options_pkg.site_root).call_fallback_on_method_not_allowed(true).fallback(not_found);
    let with_session = Router::new()
        .route("/api/v1/sensors", get(api::sensors))
        .route("/api/v1/sensors/{id}/series", get(api::series))
        .route("/share/{token}", get(auth::open_share))
        .route("/api/v1/sensors/{id}/daily", get(api::daily))
        .route("/api/v1/sensors/{id}/readings.csv", get(export::sensor_csv))
        .route("/api/v1/export.csv", get(export::export_csv))
        .route("/api/v1/tariffs", get(api::costs::list).put(api::costs::replace))
        .route("/api/v1/costs", get(api::costs::costs))
        .leptos_routes_with_context(&state, routes, move || hearth_app::context::provide(shared.clone()), move || {
            hearth_app::shell(options.clone())
        })
        .fallback_service(site_files)
        .layer(middleware::from_fn(cache::validators))
        .nest_service(&format!("/{}", options_pkg.site_pkg_dir), compiled)
        .layer(RequestBodyLimitLayer::new(state.config.max_body_bytes))
        .layer(timeout)
        // Pages and server functions go out compressed; the site's files are compressed once,
        // at build time, and leave as they are.
        .layer(CompressionLayer::new().compress_when(DefaultPredicate::new().and(cache::has_body)))
        .route("/api/v1/stream", get(stream::stream))
        // Files larger than the body limit, imported for longer than the request timeout.
        .route("/api/owner/import", post(import::http::upload))
        .layer(middleware::from_fn_with_state(state.clone(), auth::require_session));
    ingest
        .merge(operations)
        .merge(with_session)
        .layer(middleware::from_fn(headers::security))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
