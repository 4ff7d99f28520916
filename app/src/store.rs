//! The database behind Hearth: an embedded SQLite file (the default) or PostgreSQL, chosen by
//! the URL's scheme. The rest of the code talks to [`Db`] and never knows which one it is.

use crate::reading::ssr::GroupCommit;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

/// A connection pool to one of the supported databases.
#[derive(Clone, Debug)]
pub enum Db {
    /// An embedded SQLite file in WAL mode.
    Sqlite(SqliteDb),
    /// A PostgreSQL server, possibly shared by several Hearth servers.
    Postgres(PgDb),
}

/// A PostgreSQL pool and the group writer committing small ingest batches through it.
#[derive(Clone, Debug)]
pub struct PgDb {
    /// Connections for queries and large batches.
    pub pool: PgPool,
    /// Commits small ingest batches, many per transaction.
    pub ingest: GroupCommit,
}

/// SQLite pools: one connection that writes, so writers queue in Hearth rather than fail on
/// the file lock, and several that read alongside it (WAL mode).
#[derive(Clone, Debug)]
pub struct SqliteDb {
    /// The only connection that writes.
    pub write: SqlitePool,
    /// Commits ingested readings through `write`, many batches per commit.
    pub ingest: GroupCommit,
    /// Connections for queries.
    pub read: SqlitePool,
}

/// Runs `$body` with `$pool` bound to the right pool of `$db` (`read` or `write`; PostgreSQL
/// has one pool for both). The body is compiled once per backend, so the SQL in it must be
/// valid in both dialects.
macro_rules! with_db {
    ($db:expr, $role:ident, |$pool:ident| $body:expr) => {
        match $db {
            $crate::store::Db::Sqlite(sqlite) => {
                let $pool = &sqlite.$role;
                $body
            }
            $crate::store::Db::Postgres(pg) => {
                let $pool = &pg.pool;
                $body
            }
        }
    };
}
pub(crate) use with_db;

/// How the pools wait for the database.
#[derive(Clone, Copy, Debug)]
pub struct StoreOptions {
    /// How long a query waits for the database before failing (and ingest answering 503):
    /// SQLite's busy timeout on a locked file, PostgreSQL's wait for a pool connection.
    pub wait: Duration,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions { wait: Duration::from_secs(10) }
    }
}

impl Db {
    /// The database a server function runs against (the server provides it as context).
    pub fn from_context() -> Result<Db, leptos::prelude::ServerFnError> {
        leptos::prelude::use_context::<Db>().ok_or_else(|| leptos::prelude::ServerFnError::new("database missing from context"))
    }

    /// Connects to `url` (`sqlite://path` or `postgres://…`), creating a SQLite file and its
    /// folder if missing, and applies the migrations.
    pub async fn connect(url: &str) -> Result<Db, sqlx::Error> {
        Db::connect_with(url, StoreOptions::default()).await
    }

    /// [`Db::connect`] with `options`.
    pub async fn connect_with(url: &str, options: StoreOptions) -> Result<Db, sqlx::Error> {
        let db = if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(options.wait)
                .connect(url)
                .await?;
            let ingest = GroupCommit::postgres(pool.clone());
            Db::Postgres(PgDb { pool, ingest })
        } else if url.starts_with("sqlite:") {
            Db::Sqlite(SqliteDb::open(url, options).await?)
        } else {
            return Err(sqlx::Error::Configuration(
                format!("unsupported database URL {url:?}: use sqlite://<file> or postgres://…").into(),
            ));
        };
        db.migrate().await?;
        Ok(db)
    }

    /// Applies the migrations of this database's dialect that are not applied yet.
    pub async fn migrate(&self) -> Result<(), sqlx::migrate::MigrateError> {
        match self {
            Db::Sqlite(sqlite) => SQLITE_MIGRATIONS.run(&sqlite.write).await,
            Db::Postgres(pg) => POSTGRES_MIGRATIONS.run(&pg.pool).await,
        }
    }

    /// Which backend this is, for logs.
    pub fn backend(&self) -> &'static str {
        match self {
            Db::Sqlite(_) => "sqlite",
            Db::Postgres(_) => "postgres",
        }
    }

    /// Closes every connection, waiting for those in use.
    pub async fn close(&self) {
        match self {
            Db::Sqlite(sqlite) => {
                sqlite.read.close().await;
                sqlite.write.close().await;
            }
            Db::Postgres(pg) => pg.pool.close().await,
        }
    }
}

impl SqliteDb {
    async fn open(url: &str, store: StoreOptions) -> Result<SqliteDb, sqlx::Error> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a transaction is on disk when COMMIT returns, which is when ingest answers.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(store.wait)
            .foreign_keys(true);
        if let Some(dir) = options.get_filename().parent()
            && !dir.as_os_str().is_empty()
        {
            std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
        }
        let write = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(options.clone())
            .await?;
        let read = SqlitePoolOptions::new()
            .max_connections(8)
            .connect_with(options.read_only(true))
            .await?;
        let ingest = GroupCommit::sqlite(write.clone());
        Ok(SqliteDb { write, read, ingest })
    }
}
