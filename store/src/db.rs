//! The database behind Hearth, as the rest of it sees it: a [`Db`] to connect, to hand to the
//! store's functions, and to [`subscribe`](Db::subscribe) to what the store commits.

use crate::bus::{self, Bus, Event, Handler, Subscription};
use crate::pool::Backend;
use crate::recent::Recent;
use crate::writer::GroupCommit;
use sqlx::postgres::PgListener;
use std::sync::Arc;

pub use crate::pool::StoreOptions;

/// A connection to Hearth's database, cheap to clone: its pools, the group writer committing
/// ingested readings, and the bus announcing what was stored.
#[derive(Clone, Debug)]
pub struct Db {
    pub(crate) backend: Backend,
    pub(crate) writer: GroupCommit,
    pub(crate) bus: Bus,
    pub(crate) recent: Arc<Recent>,
}

impl Db {
    /// Connects to `url` (`sqlite://path` or `postgres://…`), creating a SQLite file and its
    /// folder if missing, and applies the migrations.
    pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
        Db::connect_with(url, StoreOptions::default()).await
    }

    /// [`Db::connect`] with `options`.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Db, sqlx::Error> {
        let backend = Backend::open(url, options).await?;
        let bus = Bus::default();
        let writer = GroupCommit::spawn(&backend);
        let db = Db { backend, writer, bus, recent: Arc::default() };
        db.migrate().await?;
        // Merges what a crash left in the rollup backlog before anything reads the rollups.
        db.settle().await.map_err(|e| sqlx::Error::Protocol(format!("the rollup backlog could not be merged: {e}")))?;
        Ok(db)
    }

    /// Applies the migrations of this database's dialect that are not applied yet.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        self.backend.migrate().await
    }

    /// Which database this is, for logs: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match &self.backend {
            Backend::Sqlite { .. } => "sqlite",
            Backend::Postgres { .. } => "postgres",
        }
    }

    /// Each pool's connections, for metrics: (name, open, idle).
    pub fn pools(&self) -> Vec<(&'static str, u32, usize)> {
        match &self.backend {
            Backend::Sqlite { write, read } => {
                vec![("write", write.size(), write.num_idle()), ("read", read.size(), read.num_idle())]
            }
            Backend::Postgres { pool } => vec![("postgres", pool.size(), pool.num_idle())],
        }
    }

    /// Waits until every reading committed so far is merged into the rollups (on SQLite
    /// their buckets may wait in the [backlog](crate::rollup::backlog) a moment): called
    /// before any query that reads rollups.
    pub(crate) async fn settle(&self) -> Result<(), crate::error::Error> {
        self.writer.settle().await
    }

    /// Merges the rollup backlog (SQLite), then closes every connection, waiting for those in
    /// use. A backlog left by a process that did not get here is merged at the next open.
    pub async fn close(&self) {
        if let Err(e) = self.settle().await {
            tracing::warn!(error = %e, "the rollup backlog is merged at the next start instead");
        }
        match &self.backend {
            Backend::Sqlite { write, read } => {
                read.close().await;
                write.close().await;
            }
            Backend::Postgres { pool } => pool.close().await,
        }
    }
    /// Announces `event`, which happened in a transaction committed already: to this process's
    /// subscribers on SQLite, by NOTIFY to every server's on PostgreSQL.
    pub(crate) async fn announce_committed(&self, event: &Event) -> Result<(), sqlx::Error> {
        match &self.backend {
            Backend::Sqlite { .. } => {
                self.bus.deliver(event);
                Ok(())
            }
            Backend::Postgres { pool } => {
                let mut connection = pool.acquire().await?;
                bus::notify(&mut connection, event).await
            }
        }
    }

    /// Calls `handler` with every event the store commits from now on, until the returned
    /// [`Subscription`] is dropped: on SQLite, those of this process; on PostgreSQL, those of
    /// every server sharing the database (this one's included). Listening has begun when this
    /// returns.
    pub async fn subscribe(&self, handler: impl Fn(&Event) + Send + Sync + 'static) -> Result<Subscription, sqlx::Error> {
        let handler: Handler = Arc::new(handler);
        match &self.backend {
            Backend::Sqlite { .. } => {
                Ok(self.bus.add(handler))
            }
            Backend::Postgres { pool } => {
                let mut listener = PgListener::connect_with(pool).await?;
                listener.listen_all([bus::READINGS_CHANNEL, bus::ALERTS_CHANNEL, bus::SESSIONS_CHANNEL]).await?;
                let task = tokio::spawn(async move {
                    loop {
                        match listener.recv().await {
                            Ok(n) => match bus::decode(n.channel(), n.payload()) {
                                Ok(event) => handler(&event),
                                Err(e) => tracing::error!(error = %e, channel = n.channel(), "unreadable notification"),
                            },
                            // PgListener reconnects by itself on the next recv.
                            Err(e) => {
                                tracing::warn!(error = %e, "lost the PostgreSQL notification connection; reconnecting");
                                tokio::time::sleep(std::time::Duration::from_millis(500)).await;
                            }
                        }
                    }
                });
                Ok(Subscription::ending(move || task.abort()))
            }
        }
    }
}
