//! The Tariffs page's data: the tariffs as they are stored, the price sensors a dynamic
//! tariff may read, and saving a new list (the owner only).

use crate::error::AppResult;
use hearth_core::tariff::Tariff;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// What the Tariffs page shows.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Tariffs {
    /// Every tariff, oldest first.
    pub tariffs: Vec<Tariff>,
    /// The house's date today, `YYYY-MM-DD` (a new tariff's first day in the form).
    pub today: String,
    /// The price sensors: id and title.
    pub price_sensors: Vec<(i64, String)>,
    /// Whether the caller may change them.
    pub owner: bool,
}

/// The tariffs.
#[server]
pub async fn load_tariffs() -> AppResult<Tariffs> {
    use hearth_core::sensor::Kind;
    let db = crate::context::db()?;
    let tariffs = hearth_store::tariff::list(&db).await?;
    let today = crate::context::zone().day_of(hearth_core::time::now_ms()).iso();
    let price_sensors = hearth_store::sensor::list_by_kind(&db, Kind::Price).await?.into_iter().map(|s| (s.sensor_id, s.title())).collect();
    let owner = crate::session::viewer().is_some_and(|v| !v.read_only);
    Ok(Tariffs { tariffs, today, price_sensors, owner })
}

/// Replaces every tariff by the JSON list `json` (what the form sends, as `PUT
/// /api/v1/tariffs` takes it), checked field by field (a refusal names the field:
/// `tariffs[0].import.zones[1]`).
#[server(prefix = "/api/owner", endpoint = "save_tariffs")]
pub async fn save_tariffs(json: String) -> AppResult<()> {
    use crate::error::AppError;
    use hearth_core::sensor::Kind;
    crate::session::require_owner()?;
    let db = crate::context::db()?;
    let tariffs: Vec<Tariff> = serde_json::from_str(&json).map_err(|e| AppError::invalid("tariffs", format!("tariffs are not a list of tariffs: {e}")))?;
    let sensors = hearth_store::sensor::list_by_kind(&db, Kind::Price).await?;
    let checked = hearth_core::tariff::check(tariffs, |id| sensors.iter().any(|s| s.sensor_id == id)).map_err(|r| AppError::invalid(&r.field, r.message))?;
    hearth_store::tariff::replace(&db, checked).await?;
    Ok(())
}
