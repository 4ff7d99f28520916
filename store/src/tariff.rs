//! Tariffs as the homeowner set them, and the price readings a dynamic tariff reads.

use crate::db::Db;
use crate::error::Error;
use crate::pool::with_db;
use hearth_core::cost::PriceReadings;
use hearth_core::tariff::Tariff;

/// Every tariff, oldest first.
pub async fn list(db: &Db) -> Result<Vec<Tariff>, Error> {
    const SQL: &str = "select body from tariff order by from_date";
    let bodies: Vec<String> = with_db!(db, read, |pool| sqlx::query_scalar(SQL).fetch_all(pool).await)?;
    bodies
        .iter()
        .map(|body| serde_json::from_str(body).map_err(|e| Error::Database(sqlx::Error::Decode(Box::new(e)))))
        .collect()
}

/// Replaces every tariff by `tariffs`, in one transaction; they must have been checked
/// ([`hearth_core::tariff::check`]). Returns them as stored.
pub async fn replace(db: &Db, tariffs: Vec<Tariff>) -> Result<Vec<Tariff>, Error> {
    const DELETE: &str = "delete from tariff";
    const INSERT: &str = "insert into tariff (from_date, body) values ($1, $2)";
    let rows: Vec<(String, String)> = tariffs
        .iter()
        .map(|t| Ok((t.from.clone(), serde_json::to_string(t).map_err(|e| Error::Database(sqlx::Error::Encode(Box::new(e))))?)))
        .collect::<Result<_, Error>>()?;
    with_db!(db, write, |pool| async {
        let mut tx = pool.begin().await?;
        sqlx::query(DELETE).execute(&mut *tx).await?;
        for (from, body) in &rows {
            sqlx::query(INSERT).bind(from).bind(body).execute(&mut *tx).await?;
        }
        tx.commit().await
    }
    .await)?;
    list(db).await
}

/// The readings of each price sensor in `sensor_ids` in `[from_ms, to_ms)`, with the last one
/// before `from_ms` (the price in force then), oldest first.
pub async fn prices(db: &Db, sensor_ids: &[i64], from_ms: i64, to_ms: i64) -> Result<PriceReadings, Error> {
    const SQL: &str = "select at_ms, value from reading where sensor_id = $1 and at_ms >= $2 and at_ms < $3 order by at_ms";
    const BEFORE: &str = "select at_ms, value from reading where sensor_id = $1 and at_ms < $2 order by at_ms desc limit 1";
    let mut out = PriceReadings::new();
    for &id in sensor_ids {
        let (before, mut readings): (Option<(i64, f64)>, Vec<(i64, f64)>) = with_db!(db, read, |pool| async {
            let before = sqlx::query_as(BEFORE).bind(id).bind(from_ms).fetch_optional(pool).await?;
            let readings = sqlx::query_as(SQL).bind(id).bind(from_ms).bind(to_ms).fetch_all(pool).await?;
            Ok::<_, sqlx::Error>((before, readings))
        }
        .await)?;
        readings.splice(0..0, before);
        out.insert(id, readings);
    }
    Ok(out)
}
