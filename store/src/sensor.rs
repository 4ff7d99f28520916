//! Sensor queries: listing sensors with their newest readings, finding one, and the
//! homeowner's changes to a sensor's name, room, main-meter flag and energy role.

use crate::db::Db;
use crate::pool::with_db;
use crate::error::Error;
use hearth_core::sensor::{Kind, Listed, Sensor, SensorUpdate};
use std::collections::HashSet;
use std::sync::Arc;

/// The columns every query that builds a [`Sensor`] selects, from `sensor s` joined with
/// `device d`.
macro_rules! sensor_columns {
    () => {
        "s.sensor_id, d.name as device, s.key, s.kind, s.room, s.name, s.main, s.role"
    };
}

/// A sensor as its columns hold it.
#[derive(sqlx::FromRow)]
pub(crate) struct SensorRow {
    sensor_id: i64,
    device: String,
    key: String,
    kind: String,
    room: Option<String>,
    name: Option<String>,
    main: bool,
    role: Option<String>,
}

impl SensorRow {
    pub(crate) fn sensor(self) -> Result<Sensor, Error> {
        Ok(Sensor {
            sensor_id: self.sensor_id,
            device: self.device,
            key: self.key,
            kind: kind(self.kind)?,
            room: self.room,
            name: self.name,
            main: self.main,
            role: self.role.map(|r| r.parse().map_err(|e: String| Error::Database(sqlx::Error::Decode(e.into())))).transpose()?,
        })
    }
}

/// A stored kind name as a [`Kind`]; an unknown one is a database error.
pub(crate) fn kind(name: String) -> Result<Kind, Error> {
    name.try_into().map_err(|e| Error::Database(sqlx::Error::Decode(Box::new(e))))
}

#[derive(sqlx::FromRow)]
struct ListedRow {
    #[sqlx(flatten)]
    sensor: SensorRow,
    last_at_ms: Option<i64>,
    last_value: Option<f64>,
}

fn sensors(rows: Vec<SensorRow>) -> Result<Vec<Sensor>, Error> {
    rows.into_iter().map(SensorRow::sensor).collect()
}

/// Every sensor of one kind, ordered by room and key.
pub async fn list_by_kind(db: &Db, kind: Kind) -> Result<Vec<Sensor>, Error> {
    const SQL: &str = concat!(
        "select ",
        sensor_columns!(),
        " from sensor s join device d on d.device_id = s.device_id \
         where s.kind = $1 order by s.room, s.key, s.sensor_id"
    );
    sensors(with_db!(db, read, |pool| sqlx::query_as(SQL).bind(kind.as_str()).fetch_all(pool).await)?)
}

/// Every sensor with its newest reading, ordered by room and key.
pub async fn list_all(db: &Db) -> Result<Vec<Listed>, Error> {
    const SQL: &str = concat!(
        "select ",
        sensor_columns!(),
        ", (select max(at_ms) from reading r where r.sensor_id = s.sensor_id) as last_at_ms, \
         (select value from reading r where r.sensor_id = s.sensor_id order by at_ms desc limit 1) as last_value \
         from sensor s join device d on d.device_id = s.device_id \
         order by s.room, s.key, s.sensor_id"
    );
    let rows: Vec<ListedRow> = with_db!(db, read, |pool| sqlx::query_as(SQL).fetch_all(pool).await)?;
    rows.into_iter()
        .map(|row| Ok(Listed { sensor: row.sensor.sensor()?, last_at_ms: row.last_at_ms, last_value: row.last_value }))
        .collect()
}

/// The keys of a device's sensors.
pub async fn keys(db: &Db, device_id: i64) -> Result<Vec<String>, Error> {
    const SQL: &str = "select key from sensor where device_id = $1";
    Ok(with_db!(db, read, |pool| sqlx::query_scalar(SQL).bind(device_id).fetch_all(pool).await)?)
}

/// Which of `wanted` are keys of the device's sensors: from memory when every one of them is
/// known to exist (sensors are never deleted), else read from the database.
pub async fn existing<'k>(db: &Db, device_id: i64, wanted: impl Iterator<Item = &'k str> + Clone) -> Result<Arc<HashSet<String>>, Error> {
    if let Some(known) = db.recent.keys_with(device_id, wanted.clone()) {
        return Ok(known);
    }
    let keys: Arc<HashSet<String>> = Arc::new(keys(db, device_id).await?.into_iter().collect());
    db.recent.put_keys(device_id, keys.clone());
    Ok(keys)
}

/// Every sensor of the device that sensor `sensor_id` belongs to, itself included, ordered
/// by key.
pub async fn same_device(db: &Db, sensor_id: i64) -> Result<Vec<Sensor>, Error> {
    const SQL: &str = concat!(
        "select ",
        sensor_columns!(),
        " from sensor s join device d on d.device_id = s.device_id \
         where s.device_id = (select device_id from sensor where sensor_id = $1) order by s.key, s.sensor_id"
    );
    sensors(with_db!(db, read, |pool| sqlx::query_as(SQL).bind(sensor_id).fetch_all(pool).await)?)
}

/// One sensor, if it exists.
pub async fn find(db: &Db, sensor_id: i64) -> Result<Option<Sensor>, Error> {
    const SQL: &str = concat!(
        "select ",
        sensor_columns!(),
        " from sensor s join device d on d.device_id = s.device_id where s.sensor_id = $1"
    );
    let row: Option<SensorRow> = with_db!(db, read, |pool| sqlx::query_as(SQL).bind(sensor_id).fetch_optional(pool).await)?;
    row.map(SensorRow::sensor).transpose()
}

/// Applies `update` to the sensor `sensor_id` and returns the sensor as it is now. Texts are
/// cleaned first (see [`SensorUpdate::cleaned`]); an invalid one changes nothing (422 naming
/// `name` or `room`); an unknown sensor is [`Error::NotFound`].
pub async fn update(db: &Db, sensor_id: i64, update: SensorUpdate) -> Result<Sensor, Error> {
    const SQL: &str = "update sensor set \
         name = case when $2 then $3 else name end, \
         room = case when $4 then $5 else room end, \
         main = case when $6 then $7 else main end, \
         role = case when $8 then $9 else role end \
         where sensor_id = $1";
    let update = update.cleaned().map_err(|(field, message)| Error::invalid(field, message))?;
    if let Some(Some(role)) = update.role {
        let sensor = find(db, sensor_id).await?.ok_or(Error::NotFound("sensor"))?;
        if !sensor.kind.plays(role) {
            return Err(Error::invalid("role", format!("role {role} needs an energy or power sensor (battery_soc: a battery sensor), not a {} sensor", sensor.kind)));
        }
    }
    let changed = with_db!(db, write, |pool| sqlx::query(SQL)
        .bind(sensor_id)
        .bind(update.name.is_some())
        .bind(update.name.flatten())
        .bind(update.room.is_some())
        .bind(update.room.flatten())
        .bind(update.main.is_some())
        .bind(update.main.unwrap_or_default())
        .bind(update.role.is_some())
        .bind(update.role.flatten().map(|r| r.as_str()))
        .execute(pool)
        .await
        .map(|done| done.rows_affected()))?;
    if changed == 0 {
        return Err(Error::NotFound("sensor"));
    }
    db.writer.sensors_changed();
    find(db, sensor_id).await?.ok_or(Error::NotFound("sensor"))
}
