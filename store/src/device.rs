//! Devices: registering one with a new token (only its hash is stored), finding one by its
//! token or Emoncms API key, revoking, and the Devices page's overview.

use crate::db::Db;
use crate::pool::with_db;
use crate::error::{Error, on_conflict};
use hearth_core::device::{Device, DeviceOverview};
use hearth_core::time::now_ms;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A device as its columns hold it.
#[derive(sqlx::FromRow)]
struct DeviceRow {
    device_id: i64,
    name: String,
    /// Queries that leave out the `revoked` column read `false`.
    #[sqlx(default)]
    revoked: bool,
}

impl From<DeviceRow> for Device {
    fn from(row: DeviceRow) -> Device {
        Device { device_id: row.device_id, name: row.name, revoked: row.revoked }
    }
}

/// Prefix of every device token, so a token is recognisable in a config file or a leak scan.
pub const TOKEN_PREFIX: &str = "hth_";

/// A new random device token: the prefix and 32 random bytes in hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    format!("{TOKEN_PREFIX}{}", hex::encode(bytes))
}

/// The stored form of a token. Tokens carry 256 random bits, so a fast hash is enough:
/// no password-style stretching is needed to resist guessing.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Registers a device and returns it with its token, which is not stored and cannot be
/// shown again.
/// A name taken already is a 409 on `name`.
pub async fn create(db: &Db, name: &str) -> Result<(Device, String), Error> {
    let token = new_token();
    let device = insert(db, name, &token_hash(&token)).await?;
    Ok((device, token))
}

/// Gives the device `name` a new token (creating the device if needed) and returns it.
/// The old token stops working.
pub async fn rotate_token(db: &Db, name: &str) -> Result<(Device, String), Error> {
    const SQL: &str = "insert into device (name, token_hash, created_at_ms) values ($1, $2, $3) \
         on conflict (name) do update set token_hash = excluded.token_hash, revoked_at_ms = null \
         returning device_id, name";
    let token = new_token();
    let hash = token_hash(&token);
    let device: DeviceRow = with_db!(db, write, |pool| sqlx::query_as(SQL)
        .bind(name)
        .bind(&hash)
        .bind(now_ms())
        .fetch_one(pool)
        .await)?;
    db.recent.devices_changed();
    Ok((device.into(), token))
}

async fn insert(db: &Db, name: &str, hash: &str) -> Result<Device, Error> {
    const SQL: &str = "insert into device (name, token_hash, created_at_ms) values ($1, $2, $3) \
         returning device_id, name";
    let result: Result<DeviceRow, sqlx::Error> = with_db!(db, write, |pool| sqlx::query_as(SQL)
        .bind(name)
        .bind(hash)
        .bind(now_ms())
        .fetch_one(pool)
        .await);
    result.map(Device::from).map_err(|e| on_conflict(e, "name", || format!("a device named {name:?} already exists")))
}

/// The device whose token is `token`, if any, revoked or not. Found devices are remembered
/// for [`TOKEN_TTL`](crate::TOKEN_TTL) (forgotten at once when this process revokes or
/// replaces a token).
pub async fn find_by_token(db: &Db, token: &str) -> Result<Option<Device>, Error> {
    const SQL: &str = "select device_id, name, revoked_at_ms is not null as revoked from device where token_hash = $1";
    let hash = token_hash(token);
    if let Some(device) = db.recent.tokens.get(&hash) {
        return Ok(Some(device));
    }
    let row: Option<DeviceRow> = with_db!(db, read, |pool| sqlx::query_as(SQL).bind(&hash).fetch_optional(pool).await)?;
    let device = row.map(Device::from);
    if let Some(device) = &device {
        db.recent.tokens.put(hash, device.clone());
    }
    Ok(device)
}

/// A new Emoncms API key: 32 random lowercase hex characters (128 bits), the only length
/// emonhub accepts. It works only on the Emoncms endpoints, beside the device's token.
pub fn new_apikey() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Gives the device `name` a new Emoncms API key, replacing any earlier one, and returns it
/// (shown once; only its hash is stored). `None` when there is no such device.
pub async fn rotate_apikey(db: &Db, name: &str) -> Result<Option<(Device, String)>, Error> {
    const SQL: &str = "update device set apikey_hash = $1 where name = $2 returning device_id, name";
    let key = new_apikey();
    let hash = token_hash(&key);
    let device: Option<DeviceRow> = with_db!(db, write, |pool| sqlx::query_as(SQL).bind(&hash).bind(name).fetch_optional(pool).await)?;
    db.recent.devices_changed();
    Ok(device.map(|device| (device.into(), key)))
}

/// The device whose Emoncms API key is `key`, if any; remembered as [`find_by_token`] does.
pub async fn find_by_apikey(db: &Db, key: &str) -> Result<Option<Device>, Error> {
    const SQL: &str = "select device_id, name, revoked_at_ms is not null as revoked from device where apikey_hash = $1";
    let hash = token_hash(key);
    if let Some(device) = db.recent.apikeys.get(&hash) {
        return Ok(Some(device));
    }
    let row: Option<DeviceRow> = with_db!(db, read, |pool| sqlx::query_as(SQL).bind(&hash).fetch_optional(pool).await)?;
    let device = row.map(Device::from);
    if let Some(device) = &device {
        db.recent.apikeys.put(hash, device.clone());
    }
    Ok(device)
}

/// Every device, by name.
pub async fn list(db: &Db) -> Result<Vec<Device>, Error> {
    const SQL: &str = "select device_id, name, revoked_at_ms is not null as revoked from device order by name";
    let rows: Vec<DeviceRow> = with_db!(db, read, |pool| sqlx::query_as(SQL).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(Device::from).collect())
}

/// Revokes the token of the device `name`; `false` if there is no such device.
pub async fn revoke(db: &Db, name: &str) -> Result<bool, Error> {
    const SQL: &str = "update device set revoked_at_ms = coalesce(revoked_at_ms, $2) where name = $1";
    let revoked = with_db!(db, write, |pool| sqlx::query(SQL).bind(name).bind(now_ms()).execute(pool).await?.rows_affected() > 0);
    db.recent.devices_changed();
    Ok(revoked)
}

/// The device `device_id`, if it exists.
pub async fn find(db: &Db, device_id: i64) -> Result<Option<Device>, Error> {
    const SQL: &str = "select device_id, name, revoked_at_ms is not null as revoked from device where device_id = $1";
    let row: Option<DeviceRow> = with_db!(db, read, |pool| sqlx::query_as(SQL).bind(device_id).fetch_optional(pool).await)?;
    Ok(row.map(Device::from))
}

/// Every device by name, with its sensors (by key) and when it was last heard from.
pub async fn overview(db: &Db) -> Result<Vec<DeviceOverview>, Error> {
    const SQL: &str = "select device_id, name, created_at_ms, revoked_at_ms from device order by name";
    let devices: Vec<(i64, String, i64, Option<i64>)> = with_db!(db, read, |pool| sqlx::query_as(SQL).fetch_all(pool).await)?;
    let mut sensors = crate::sensor::list_all(db).await?;
    sensors.sort_by(|a, b| (&a.sensor.device, &a.sensor.key).cmp(&(&b.sensor.device, &b.sensor.key)));
    Ok(devices
        .into_iter()
        .map(|(device_id, name, created_at_ms, revoked_at_ms)| {
            let from = sensors.partition_point(|l| l.sensor.device < name);
            let to = sensors.partition_point(|l| l.sensor.device <= name);
            let own = sensors[from..to].to_vec();
            DeviceOverview {
                last_seen_ms: own.iter().filter_map(|l| l.last_at_ms).max(),
                device: Device { device_id, name, revoked: revoked_at_ms.is_some() },
                created_at_ms,
                sensors: own,
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_prefixed() {
        let (a, b) = (new_token(), new_token());
        assert_ne!(a, b);
        assert!(a.starts_with(TOKEN_PREFIX));
        assert_eq!(a.len(), TOKEN_PREFIX.len() + 64);
    }

    #[test]
    fn the_hash_is_not_the_token() {
        let token = new_token();
        let hash = token_hash(&token);
        assert_eq!(hash, token_hash(&token));
        assert!(!hash.contains(&token[TOKEN_PREFIX.len()..]));
    }
}