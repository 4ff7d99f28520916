//! Devices on MQTT: which topic prefix belongs to which device, and what each device's status
//! topic last said.

use crate::db::Db;
use crate::pool::with_db;
use crate::error::{Error, on_conflict};
use hearth_core::device::Device;
use hearth_core::mqtt::{Link, check_prefix};

#[derive(sqlx::FromRow)]
struct LinkRow {
    device_id: i64,
    name: String,
    mqtt_prefix: Option<String>,
    mqtt_online: Option<bool>,
    mqtt_online_at_ms: Option<i64>,
    revoked: bool,
}

/// Every device with its MQTT settings, those with a prefix first.
pub async fn links(db: &Db) -> Result<Vec<Link>, Error> {
    const SQL: &str = "select device_id, name, mqtt_prefix, mqtt_online, mqtt_online_at_ms, \
         revoked_at_ms is not null as revoked from device order by mqtt_prefix is null, name";
    let rows: Vec<LinkRow> = with_db!(db, read, |pool| sqlx::query_as(SQL).fetch_all(pool).await)?;
    Ok(rows
        .into_iter()
        .map(|row| Link {
            device_id: row.device_id,
            name: row.name,
            prefix: row.mqtt_prefix,
            online: row.mqtt_online,
            online_at_ms: row.mqtt_online_at_ms,
            revoked: row.revoked,
        })
        .collect())
}

/// The device whose prefix is `prefix`, if any. Every message asks, so the answer is kept
/// in memory as a token's device is ([`TOKEN_TTL`](crate::recent::TOKEN_TTL); a prefix set
/// or a device revoked on this server is seen at once).
pub async fn device_by_prefix(db: &Db, prefix: &str) -> Result<Option<Device>, Error> {
    if let Some(device) = db.recent.prefixes.get(prefix) {
        return Ok(device);
    }
    let device = stored_device_by_prefix(db, prefix).await?;
    db.recent.prefixes.put(prefix.to_owned(), device.clone());
    Ok(device)
}

/// [`device_by_prefix`] as the database has it now.
async fn stored_device_by_prefix(db: &Db, prefix: &str) -> Result<Option<Device>, Error> {
    const SQL: &str = "select device_id, name, revoked_at_ms is not null as revoked from device where mqtt_prefix = $1";
    let row: Option<(i64, String, bool)> = with_db!(db, read, |pool| sqlx::query_as(SQL).bind(prefix).fetch_optional(pool).await)?;
    Ok(row.map(|(device_id, name, revoked)| Device { device_id, name, revoked }))
}

/// Sets or clears a device's prefix. A prefix that breaks the rules is a 422 and one another
/// device has a 409, both on `prefix`; an unknown device is [`Error::NotFound`].
pub async fn set_prefix(db: &Db, device_id: i64, prefix: Option<&str>) -> Result<(), Error> {
    const SQL: &str = "update device set mqtt_prefix = $1, mqtt_online = null, mqtt_online_at_ms = null \
         where device_id = $2";
    if let Some(prefix) = prefix {
        check_prefix(prefix).map_err(|message| Error::invalid("prefix", message))?;
    }
    let done = with_db!(db, write, |pool| sqlx::query(SQL).bind(prefix).bind(device_id).execute(pool).await.map(|d| d.rows_affected()));
    let rows = done.map_err(|e| on_conflict(e, "prefix", || taken(prefix.unwrap_or_default())))?;
    db.recent.devices_changed();
    if rows == 1 { Ok(()) } else { Err(Error::NotFound("device")) }
}

fn taken(prefix: &str) -> String {
    format!("the prefix {prefix:?} already belongs to another device")
}

/// Registers a device named `name` with the topic prefix `prefix` and returns it with its
/// token (shown once). Nothing is created when the name or the prefix is invalid (422) or
/// taken (409).
pub async fn create_with_prefix(db: &Db, name: &str, prefix: &str) -> Result<(Device, String), Error> {
    check_prefix(prefix).map_err(|message| Error::invalid("prefix", message))?;
    let name = hearth_core::device::check_name(name).map_err(|message| Error::invalid("name", message))?;
    if stored_device_by_prefix(db, prefix).await?.is_some() {
        return Err(Error::Conflict { field: "prefix", message: taken(prefix) });
    }
    let (device, token) = crate::device::create(db, name).await?;
    set_prefix(db, device.device_id, Some(prefix)).await?;
    Ok((device, token))
}

/// Records what a device's last-will or status topic said.
pub async fn set_online(db: &Db, device_id: i64, online: bool, at_ms: i64) -> Result<(), Error> {
    const SQL: &str = "update device set mqtt_online = $1, mqtt_online_at_ms = $2 where device_id = $3";
    with_db!(db, write, |pool| sqlx::query(SQL).bind(online).bind(at_ms).bind(device_id).execute(pool).await.map(|_| ()))?;
    Ok(())
}
