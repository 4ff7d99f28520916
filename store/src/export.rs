//! Reading stored history back a page at a time for export, by keyset (after the last time
//! read, never by offset), so that an export of any size holds one page in memory and each
//! page is found through the primary key; all pages of one export through one connection.

use crate::db::Db;
use crate::error::Error;
use crate::pool::Backend;
use sqlx::pool::PoolConnection;

/// One rollup bucket as exported: start, count, mean, min and max.
#[derive(Debug, Clone, Copy, PartialEq, sqlx::FromRow)]
pub struct BucketRow {
    /// Start of the bucket, Unix ms.
    pub bucket_ms: i64,
    /// Readings in it.
    pub count: i64,
    /// Their sum (the mean is `sum / count`).
    pub sum: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
}

/// The pages of one export. On SQLite all are read through one connection of the read pool,
/// taken at the first page and kept until the export is dropped: an export of any size then
/// warms that connection's page cache alone, not each pooled connection's in turn. On
/// PostgreSQL, whose cache is the server's and whose pool the group writer shares, each page
/// takes a connection and gives it back, so that slow downloads never hold the writer's.
pub struct Pages {
    db: Db,
    held: Option<Held>,
}

enum Held {
    Sqlite(PoolConnection<sqlx::Sqlite>),
    Postgres(PoolConnection<sqlx::Postgres>),
}

/// Runs `$query` (a built query) on the held connection, whichever database it is.
macro_rules! on_held {
    ($held:expr, $query:expr) => {
        match $held {
            Held::Sqlite(conn) => $query.fetch_all(&mut **conn).await,
            Held::Postgres(conn) => $query.fetch_all(&mut **conn).await,
        }
    };
}

impl Pages {
    /// The pages of an export from `db`; no connection is taken yet.
    pub fn new(db: Db) -> Pages {
        Pages { db, held: None }
    }

    async fn held(&mut self) -> Result<&mut Held, Error> {
        let held = match self.held.take() {
            Some(held) => held,
            None => match &self.db.backend {
                Backend::Sqlite { read, .. } => Held::Sqlite(read.acquire().await?),
                Backend::Postgres { pool } => Held::Postgres(pool.acquire().await?),
            },
        };
        Ok(self.held.insert(held))
    }

    /// At most `limit` raw readings `(at_ms, value)` of `sensor_id` with `after_ms < at_ms <
    /// to_ms`, oldest first.
    pub async fn readings_after(&mut self, sensor_id: i64, after_ms: i64, to_ms: i64, limit: i64) -> Result<Vec<(i64, f64)>, Error> {
        const SQL: &str = "select at_ms, value from reading where sensor_id = $1 and at_ms > $2 and at_ms < $3 \
             order by at_ms limit $4";
        let held = self.held().await?;
        let rows = on_held!(held, sqlx::query_as(SQL).bind(sensor_id).bind(after_ms).bind(to_ms).bind(limit));
        self.after_page(rows)
    }

    /// At most `limit` buckets of `sensor_id`'s `tier_ms` rollup with `after_ms < bucket_ms <
    /// to_ms`, oldest first.
    pub async fn buckets_after(
        &mut self,
        sensor_id: i64,
        tier_ms: i64,
        after_ms: i64,
        to_ms: i64,
        limit: i64,
    ) -> Result<Vec<BucketRow>, Error> {
        const SQL: &str = "select bucket_ms, value_count as count, value_sum as sum, value_min as min, value_max as max \
             from rollup where sensor_id = $1 and tier_ms = $2 and bucket_ms > $3 and bucket_ms < $4 \
             order by bucket_ms limit $5";
        self.db.settle().await?;
        let held = self.held().await?;
        let rows = on_held!(held, sqlx::query_as(SQL).bind(sensor_id).bind(tier_ms).bind(after_ms).bind(to_ms).bind(limit));
        self.after_page(rows)
    }

    /// The rows read, or the error. The connection is kept for the next page only on SQLite,
    /// and only after a page read without error (a later page then takes a sound one).
    fn after_page<T>(&mut self, rows: Result<T, sqlx::Error>) -> Result<T, Error> {
        if rows.is_err() || matches!(self.held, Some(Held::Postgres(_))) {
            self.held = None;
        }
        Ok(rows?)
    }
}
