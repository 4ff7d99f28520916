//! Running the app: [`serve`] accepts connections on a listener with hyper (for its header
//! read timeout), starts the background jobs and the bus subscription, and shuts down
//! gracefully; [`shutdown_signal`] completes on ctrl-c or SIGTERM. [`connections`] bounds the
//! connections held at once and closes those that send nothing.

pub mod connections;

use crate::jobs::{alerts, backup, outbox, retention};
use crate::{AppState, app, ingest};
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Serves `state`'s app on `listener` until `shutdown` completes, then closes live streams
/// and waits (up to 10 s) for requests in flight. Retention and the alert evaluator run in
/// the background meanwhile, and so does the MQTT subscriber when a broker is configured. It
/// first subscribes the hub to the store's bus, so that what the store commits (on PostgreSQL,
/// what any server sharing the database commits) reaches this server's live streams, and
/// sessions ended anywhere end their streams here.
///
/// Connections are served by hyper directly rather than `axum::serve`, for its header read
/// timeout: a client that sends its headers slower than `header_timeout_secs` is cut off, and
/// so is one that sends nothing at all (hyper's protocol detection would wait for it forever).
/// The open-file limit is raised to the hard limit first, and at most `max_connections` are
/// held at once (see [`connections`]).
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let hub = state.hub.clone();
    let stored = {
        let (hub, limits) = (hub.clone(), state.limits.clone());
        state
            .db
            .subscribe(move |event| match event {
                hearth_store::Event::SessionsEnded(sessions) => limits.end_sessions(sessions),
                event => hub.publish_stored(event),
            })
            .await
            .map_err(std::io::Error::other)?
    };
    let webhook_url = state.config.alert_webhook_url.as_ref().map(|url| url.0.clone());
    let (outbox, senders) = outbox::Outbox::start(&state.db, &state.reach, webhook_url);
    let judging = tokio::spawn(alerts::run(
        state.db.clone(),
        state.zone.clone(),
        outbox,
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
    let upkeep = tokio::spawn(crate::metrics::upkeep(crate::metrics::UPKEEP_EVERY));
    let pruning = tokio::spawn(retention::run(
        state.db.clone(),
        retention::from_config(&state.config),
        std::time::Duration::from_secs(3600),
    ));
    let backups = match &state.config.backup_dir {
        Some(dir) if state.db.backend() == "sqlite" => {
            let (every, keep) = (state.config.backup_every.0, state.config.backup_keep);
            tracing::info!(dir = %dir.display(), every_seconds = every.as_secs(), keep, "scheduled backups");
            Some(tokio::spawn(backup::run(state.db.clone(), dir.clone(), every, keep)))
        }
        Some(_) => {
            tracing::warn!("HEARTH_BACKUP_DIR is set but the database is PostgreSQL: back it up with pg_dump (see README)");
            None
        }
        None => None,
    };
    let header_timeout = Duration::from_secs(state.config.header_timeout_secs);
    let held = connections::Connections::new(
        connections::bound(state.config.max_connections, connections::raise_open_file_limit()),
        header_timeout,
    );
    tracing::info!(max_connections = held.bound(), "connections held at once");
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
        let permit = tokio::select! {
            permit = held.admit() => permit,
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = router.clone().map_request(move |mut request: axum::extract::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            request
        });
        let (held, connections, watcher) = (held.clone(), connections.clone(), graceful.watcher());
        tokio::spawn(async move {
            let _permit = permit;
            if held.first_byte(&stream).await == connections::FirstByte::Closed {
                tracing::debug!(%peer, "connection closed before its first byte");
                return;
            }
            let connection = connections.serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service));
            if let Err(e) = watcher.watch(connection.into_owned()).await {
                tracing::debug!(error = %e, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    held.close_waiting();
    hub.close();
    if tokio::time::timeout(Duration::from_secs(10), graceful.shutdown()).await.is_err() {
        tracing::warn!("some connections were still open 10 s after shutdown began");
    }
    pruning.abort();
    upkeep.abort();
    judging.abort();
    if let Some(backups) = backups {
        backups.abort();
    }
    for sender in senders {
        sender.abort();
    }
    if let Some(mqtt) = mqtt {
        mqtt.abort();
    }
    drop(stored);
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
