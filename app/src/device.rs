//! Devices: the things that post readings, each holding a secret token. Only a hash of the
//! token is stored, so a leaked database does not let anyone post as a device.

use crate::sensor::Listed;
use serde::{Deserialize, Serialize};

/// A registered device.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Device {
    /// Database id.
    pub device_id: i64,
    /// Unique name chosen by the homeowner.
    pub name: String,
    /// Whether its token was revoked: it is refused everywhere (queries that leave out the
    /// `revoked` column read `false`).
    #[cfg_attr(feature = "ssr", sqlx(default))]
    #[serde(default)]
    pub revoked: bool,
}

/// Revokes the device `name`'s token: from now on every request with it gets 401. Its
/// readings stay. Issuing a new token (`hearth device add` under another name, or the
/// simulated house's rotation) is how a device comes back.
#[leptos::server(prefix = "/api/owner", endpoint = "revoke_device")]
pub async fn revoke_device(name: String) -> Result<(), leptos::prelude::ServerFnError> {
    use crate::account::ssr::{fail, internal, require_owner};
    require_owner()?;
    let db = leptos::prelude::use_context::<crate::store::Db>()
        .ok_or_else(|| leptos::prelude::ServerFnError::new("database missing from context"))?;
    match ssr::revoke(&db, &name).await.map_err(internal)? {
        true => Ok(()),
        false => Err(fail(404, &format!("no device named {name:?}"))),
    }
}

/// A device with its sensors, as the Devices page shows it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DeviceOverview {
    /// The device.
    pub device: Device,
    /// When it was registered, Unix milliseconds.
    pub created_at_ms: i64,
    /// Time of the newest reading of any of its sensors, Unix milliseconds.
    pub last_seen_ms: Option<i64>,
    /// Its sensors with their newest readings, by key.
    pub sensors: Vec<Listed>,
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Device tokens and queries.

    use super::{Device, DeviceOverview};
    use crate::store::{Db, with_db};
    use rand::RngCore;
    use sha2::{Digest, Sha256};

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

    /// Why a device could not be created.
    #[derive(Debug, thiserror::Error)]
    pub enum CreateError {
        /// Another device already has this name.
        #[error("a device named {0:?} already exists")]
        NameTaken(String),
        /// The database failed.
        #[error(transparent)]
        Db(#[from] sqlx::Error),
    }

    /// Registers a device and returns it with its token, which is not stored and cannot be
    /// shown again.
    pub async fn create(db: &Db, name: &str) -> Result<(Device, String), CreateError> {
        let token = new_token();
        let device = insert(db, name, &token_hash(&token)).await?;
        Ok((device, token))
    }

    /// Gives the device `name` a new token (creating the device if needed) and returns it.
    /// The old token stops working.
    pub async fn rotate_token(db: &Db, name: &str) -> Result<(Device, String), sqlx::Error> {
        const SQL: &str = "insert into device (name, token_hash, created_at_ms) values ($1, $2, $3) \
             on conflict (name) do update set token_hash = excluded.token_hash, revoked_at_ms = null \
             returning device_id, name";
        let token = new_token();
        let hash = token_hash(&token);
        let device = with_db!(db, write, |pool| sqlx::query_as(SQL)
            .bind(name)
            .bind(&hash)
            .bind(now_ms())
            .fetch_one(pool)
            .await)?;
        Ok((device, token))
    }

    async fn insert(db: &Db, name: &str, hash: &str) -> Result<Device, CreateError> {
        const SQL: &str = "insert into device (name, token_hash, created_at_ms) values ($1, $2, $3) \
             returning device_id, name";
        let result = with_db!(db, write, |pool| sqlx::query_as(SQL)
            .bind(name)
            .bind(hash)
            .bind(now_ms())
            .fetch_one(pool)
            .await);
        result.map_err(|e| match e {
            sqlx::Error::Database(d) if d.is_unique_violation() => CreateError::NameTaken(name.to_owned()),
            e => CreateError::Db(e),
        })
    }

    /// The device whose token is `token`, if any, revoked or not.
    pub async fn find_by_token(db: &Db, token: &str) -> Result<Option<Device>, sqlx::Error> {
        const SQL: &str = "select device_id, name, revoked_at_ms is not null as revoked from device where token_hash = $1";
        let hash = token_hash(token);
        with_db!(db, read, |pool| sqlx::query_as(SQL).bind(&hash).fetch_optional(pool).await)
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
    pub async fn rotate_apikey(db: &Db, name: &str) -> Result<Option<(Device, String)>, sqlx::Error> {
        const SQL: &str = "update device set apikey_hash = $1 where name = $2 returning device_id, name";
        let key = new_apikey();
        let hash = token_hash(&key);
        let device = with_db!(db, write, |pool| sqlx::query_as(SQL).bind(&hash).bind(name).fetch_optional(pool).await)?;
        Ok(device.map(|device| (device, key)))
    }

    /// The device whose Emoncms API key is `key`, if any.
    pub async fn find_by_apikey(db: &Db, key: &str) -> Result<Option<Device>, sqlx::Error> {
        const SQL: &str = "select device_id, name, revoked_at_ms is not null as revoked from device where apikey_hash = $1";
        let hash = token_hash(key);
        with_db!(db, read, |pool| sqlx::query_as(SQL).bind(&hash).fetch_optional(pool).await)
    }

    /// Every device, by name.
    pub async fn list(db: &Db) -> Result<Vec<Device>, sqlx::Error> {
        const SQL: &str = "select device_id, name, revoked_at_ms is not null as revoked from device order by name";
        with_db!(db, read, |pool| sqlx::query_as(SQL).fetch_all(pool).await)
    }

    /// Revokes the token of the device `name`; `false` if there is no such device.
    pub async fn revoke(db: &Db, name: &str) -> Result<bool, sqlx::Error> {
        const SQL: &str = "update device set revoked_at_ms = coalesce(revoked_at_ms, $2) where name = $1";
        with_db!(db, write, |pool| Ok(sqlx::query(SQL).bind(name).bind(now_ms()).execute(pool).await?.rows_affected() > 0))
    }

    /// The device `device_id`, if it exists.
    pub async fn find(db: &Db, device_id: i64) -> Result<Option<Device>, sqlx::Error> {
        const SQL: &str = "select device_id, name, revoked_at_ms is not null as revoked from device where device_id = $1";
        with_db!(db, read, |pool| sqlx::query_as(SQL).bind(device_id).fetch_optional(pool).await)
    }

    /// Every device by name, with its sensors (by key) and when it was last heard from.
    pub async fn overview(db: &Db) -> Result<Vec<DeviceOverview>, sqlx::Error> {
        const SQL: &str = "select device_id, name, created_at_ms, revoked_at_ms from device order by name";
        let devices: Vec<(i64, String, i64, Option<i64>)> = with_db!(db, read, |pool| sqlx::query_as(SQL).fetch_all(pool).await)?;
        let mut sensors = crate::sensor::ssr::list_all(db).await?;
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

    fn now_ms() -> i64 {
        jiff::Timestamp::now().as_millisecond()
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
}
