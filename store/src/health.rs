//! Whether the database can serve: it answers a query, and the group writer takes its queue.
//! `/healthz` answers by it.

use crate::db::Db;
use crate::pool::with_db;
use std::time::Duration;

/// What keeps the store from serving.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unhealthy {
    /// The database did not answer a query (within the deadline, or with an error).
    Database(String),
    /// The group writer has stopped, or did not take a message within the deadline.
    Writer(String),
}

impl Unhealthy {
    /// Which part is failing: `database` or `writer`.
    pub fn part(&self) -> &'static str {
        match self {
            Unhealthy::Database(_) => "database",
            Unhealthy::Writer(_) => "writer",
        }
    }

    /// What is wrong, for a person.
    pub fn message(&self) -> &str {
        match self {
            Unhealthy::Database(m) | Unhealthy::Writer(m) => m,
        }
    }
}

/// Checks that the database answers `select 1` and that the writer takes a message from its
/// queue, each within `within`.
pub async fn check(db: &Db, within: Duration) -> Result<(), Unhealthy> {
    let query = async { with_db!(db, read, |pool| sqlx::query_scalar::<_, i32>("select 1").fetch_one(pool).await) };
    match tokio::time::timeout(within, query).await {
        Ok(Ok(_)) => {}
        Ok(Err(e)) => return Err(Unhealthy::Database(format!("the database does not answer: {e}"))),
        Err(_) => return Err(Unhealthy::Database(format!("the database did not answer within {} ms", within.as_millis()))),
    }
    match tokio::time::timeout(within, db.writer.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(e)) => Err(Unhealthy::Writer(e.into())),
        Err(_) => Err(Unhealthy::Writer(format!("the writer did not take its queue within {} ms", within.as_millis()))),
    }
}
