//! Server functions of the Devices page: the devices with their sensors, adding a device,
//! naming a sensor and setting its room, revoking a device's token.

use crate::error::AppResult;
use hearth_core::device::DeviceOverview;
use hearth_core::time::Zone;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
#[cfg(feature = "ssr")]
use {crate::context, crate::error::AppError, crate::session, hearth_store::device as store};

/// What the devices view shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Devices {
    /// The house's time zone.
    pub zone: Zone,
    /// The time the list was read, Unix ms.
    pub now_ms: i64,
    /// Every device, by name.
    pub devices: Vec<DeviceOverview>,
    /// Whether the owner is looking (a read-only share session cannot change anything).
    pub owner: bool,
}

/// Every device with its sensors.
#[server]
pub async fn load_devices() -> AppResult<Devices> {
    let (db, house) = (context::db()?, context::zone());
    let now = hearth_core::time::now_ms();
    let devices = store::overview(&db).await?;
    let oldest = devices.iter().map(|d| d.created_at_ms).min().unwrap_or(now);
    let owner = session::viewer().is_some_and(|v| !v.read_only);
    Ok(Devices { zone: house.zone(oldest, now), now_ms: now, devices, owner })
}

/// Registers a device and returns its token, which is shown this once.
#[server(prefix = "/api/owner", endpoint = "add_device")]
pub async fn add_device(name: String) -> AppResult<String> {
    session::require_owner()?;
    let name = hearth_core::device::check_name(&name).map_err(|e| AppError::invalid("name", e))?;
    let (_, token) = store::create(&context::db()?, name).await?;
    Ok(token)
}

/// Names a sensor, sets its room, whether it meters the whole house and its energy role (a
/// form: an empty text clears the field; the checkbox is absent when unticked; the role
/// `none` (or empty) takes it away, an absent one leaves it).
#[server(prefix = "/api/owner", endpoint = "update_sensor")]
pub async fn update_sensor(sensor_id: i64, name: String, room: String, main: Option<String>, role: Option<String>) -> AppResult<()> {
    use hearth_core::sensor::SensorUpdate;
    session::require_owner()?;
    let text = |t: String| Some(Some(t).filter(|t| !t.trim().is_empty()));
    let role = match role.as_deref() {
        None => None,
        Some("" | "none") => Some(None),
        Some(name) => Some(Some(name.parse().map_err(|e: String| AppError::invalid("role", e))?)),
    };
    let update = SensorUpdate { name: text(name), room: text(room), main: Some(main.is_some()), role };
    hearth_store::sensor::update(&context::db()?, sensor_id, update).await?;
    Ok(())
}

/// Revokes the device `name`'s token: from now on every request with it gets 401. Its
/// readings stay. Issuing a new token (`hearth device add` under another name, or the
/// simulated house's rotation) is how a device comes back.
#[server(prefix = "/api/owner", endpoint = "revoke_device")]
pub async fn revoke_device(name: String) -> AppResult<()> {
    session::require_owner()?;
    match store::revoke(&context::db()?, &name).await? {
        true => Ok(()),
        false => Err(AppError::not_found(format!("no device named {name:?}"))),
    }
}
