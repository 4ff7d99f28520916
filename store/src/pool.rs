//! The pools behind a [`Db`](crate::Db): an embedded SQLite file (the default) or PostgreSQL,
//! chosen by the URL's scheme. Only this crate sees which one it is: the pools live in
//! [`Backend`], and a query written once for both runs through [`with_db!`].

use sqlx::migrate::{MigrateError, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// The pools of one of the supported databases.
#[derive(Clone, Debug)]
pub(crate) enum Backend {
    /// An embedded SQLite file in WAL mode: one connection that writes, so writers queue in
    /// Hearth rather than fail on the file lock, and several that read alongside it.
    Sqlite {
        /// The only connection that writes.
        write: SqlitePool,
        /// Connections for queries.
        read: SqlitePool,
    },
    /// A PostgreSQL server, possibly shared by several Hearth servers: one pool for all.
    Postgres {
        /// Connections for queries, large batches and the group writer.
        pool: PgPool,
    },
}

/// Runs `$body` with `$pool` bound to the right pool of `$db` (`read` or `write`; PostgreSQL
/// has one pool for both). The body is compiled once per backend, so the SQL in it must be
/// valid in both dialects.
macro_rules! with_db {
    ($db:expr, $role:ident, |$pool:ident| $body:expr) => {
        match &$db.backend {
            $crate::pool::Backend::Sqlite { $role: pool, .. } => {
                let $pool = pool;
                $body
            }
            $crate::pool::Backend::Postgres { pool } => {
                let $pool = pool;
                $body
            }
        }
    };
}
pub(crate) use with_db;

/// The level of the event every pool emits when it hands out a connection (tracing target
/// [`ACQUIRE_TARGET`], field `acquired_after_secs`): trace, so that it costs nothing unless a
/// subscriber asks for it, as the server's metrics do.
const ACQUIRE_EVENTS: log::LevelFilter = log::LevelFilter::Trace;

/// The tracing target of the pools' events on handing out a connection; their field
/// `acquired_after_secs` is how long the query waited for it.
pub const ACQUIRE_TARGET: &str = "sqlx::pool::acquire";

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

impl Backend {
    /// Opens the pools for `url` (`sqlite://path` or `postgres://…`), creating a SQLite file
    /// and its folder if missing.
    pub(crate) async fn open(url: &str, options: StoreOptions) -> Result<Backend, sqlx::Error> {
        if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(options.wait)
                .acquire_time_level(ACQUIRE_EVENTS)
                .connect(url)
                .await?;
            Ok(Backend::Postgres { pool })
        } else if url.starts_with("sqlite:") {
            open_sqlite(url, options).await
        } else {
            Err(sqlx::Error::Configuration(format!("unsupported database URL {url:?}: use sqlite://<file> or postgres://…").into()))
        }
    }

    /// Applies the migrations of this database's dialect that are not applied yet.
    pub(crate) async fn migrate(&self) -> Result<(), MigrateError> {
        match self {
            Backend::Sqlite { write, .. } => SQLITE_MIGRATIONS.run(write).await,
            Backend::Postgres { pool } => POSTGRES_MIGRATIONS.run(pool).await,
        }
    }
}

/// Rows a SQLite read connection hands over before it waits for them to be taken: more than
/// the buckets of any range query (1,000 at most through the read API, 720 for a chart).
const ROW_BUFFER: usize = 2048;

async fn open_sqlite(url: &str, store: StoreOptions) -> Result<Backend, sqlx::Error> {
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
    // No ping before handing out a connection: it is a file on this machine, and the ping is
    // a hand-over to the connection's thread that costs the writer a tenth of a millisecond
    // per group (BENCHMARKS.md, ingest profile).
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .test_before_acquire(false)
        .acquire_time_level(ACQUIRE_EVENTS)
        .connect_with(options.clone())
        .await?;
    // A range query's thousand rows cross from the connection's thread to the request's task
    // without the thread stopping every fifty (sqlx's default buffer) for the task to catch up.
    let read = SqlitePoolOptions::new()
        .max_connections(8)
        .test_before_acquire(false)
        .acquire_time_level(ACQUIRE_EVENTS)
        .connect_with(options.read_only(true).row_buffer_size(ROW_BUFFER))
        .await?;
    Ok(Backend::Sqlite { write, read })
}
