//! For tests, here and in the server: a fresh database of each kind ([`sqlite`], [`postgres`],
//! [`on_both_databases!`](crate::on_both_databases)), and plain SQL against one, to look at (or
//! damage) what is stored the way a test must, beside the store's own functions. Hearth itself
//! never calls it.

use crate::db::Db;
use crate::pool::with_db;
use sqlx::postgres::PgRow;
use sqlx::sqlite::SqliteRow;
use sqlx::{AssertSqlSafe, FromRow};
use std::sync::atomic::{AtomicU32, Ordering};

/// The PostgreSQL server the tests use; `HEARTH_TEST_POSTGRES_URL` overrides it.
pub fn postgres_admin_url() -> String {
    std::env::var("HEARTH_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into())
}

/// A database that lives as long as the test: a SQLite file in a temporary folder, or a
/// PostgreSQL database dropped afterwards.
pub struct TestDb {
    pub db: Db,
    /// The URL a separate `hearth` process can open it with.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

/// A new, migrated SQLite database in a temporary folder.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("hearth.db").display());
    let db = Db::connect(&url).await.expect("SQLite opens");
    TestDb { db, url, _dir: Some(dir), pg_name: None }
}

/// A new, migrated database on the test PostgreSQL server. Panics, failing the test, when the
/// server cannot be reached: the PostgreSQL path is never skipped silently.
pub async fn postgres() -> TestDb {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!("hearth_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let admin_url = postgres_admin_url();
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at {admin_url} is unreachable ({e}); start it (see README) to run the PostgreSQL tests")
    });
    sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists {name}"))).execute(&admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}"))).execute(&admin).await.unwrap();
    admin.close().await;
    let (base, _) = admin_url.rsplit_once('/').expect("URL with a database");
    let url = format!("{base}/{name}");
    let db = Db::connect(&url).await.expect("PostgreSQL test database opens");
    TestDb { db, url, _dir: None, pg_name: Some(name) }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else { return };
        // Drop runs outside any runtime guarantee, so drop the database from a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok(admin) = sqlx::PgPool::connect(&postgres_admin_url()).await {
                    let sql = format!("drop database if exists {name} with (force)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&admin).await;
                }
            });
        })
        .join();
    }
}


/// The rows `sql` selects once the rollup backlog is merged, read through the pool that reads
/// (SQLite) or the pool (PostgreSQL). Panics, failing the test, when the query fails.
pub async fn rows<T>(db: &Db, sql: impl Into<String>) -> Vec<T>
where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    let sql = sql.into();
    db.settle().await.unwrap_or_else(|e| panic!("merging the rollup backlog: {e}"));
    let rows = with_db!(db, read, |pool| sqlx::query_as(AssertSqlSafe(sql.clone())).fetch_all(pool).await);
    rows.unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// The one row `sql` selects. Panics when there is not exactly one or the query fails.
pub async fn row<T>(db: &Db, sql: impl Into<String>) -> T
where
    T: for<'r> FromRow<'r, SqliteRow> + for<'r> FromRow<'r, PgRow> + Send + Unpin,
{
    let mut rows = rows(db, sql).await;
    assert_eq!(rows.len(), 1, "one row expected");
    rows.remove(0)
}

/// Runs the statements of `sql` through the pool that writes, once the rollup backlog is
/// merged. Panics when they fail.
pub async fn execute(db: &Db, sql: impl Into<String>) {
    let sql = sql.into();
    db.settle().await.unwrap_or_else(|e| panic!("merging the rollup backlog: {e}"));
    let done = with_db!(db, write, |pool| sqlx::raw_sql(AssertSqlSafe(sql.clone())).execute(pool).await.map(|_| ()));
    done.unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// Defines one `#[tokio::test]` per listed `async fn(TestDb)` in a `sqlite` module and
/// another in a `postgres` module, so every storage behaviour is checked on both databases.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name($crate::testing::sqlite().await).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name($crate::testing::postgres().await).await })*
        }
    };
}

/// One stored reading with its sensor: (device, key, kind, room, at_ms, value).
pub type StoredReading = (String, String, String, Option<String>, i64, f64);

/// Every stored reading, by device, sensor key and time.
pub async fn readings(db: &Db) -> Vec<StoredReading> {
    const SQL: &str = "select d.name, s.key, s.kind, s.room, r.at_ms, r.value from reading r \
         join sensor s on s.sensor_id = r.sensor_id join device d on d.device_id = s.device_id \
         order by d.name, s.key, r.at_ms";
    rows(db, SQL).await
}

/// Ends `db`'s group writer, as a panic in it would: every later batch is answered 503.
pub async fn stop_writer(db: &Db) {
    db.settle().await.unwrap_or_else(|e| panic!("merging the rollup backlog: {e}"));
    db.writer.stop().await;
}
