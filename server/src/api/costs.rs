//! Tariffs and costs in the read API: `GET /api/v1/tariffs` (any session), `PUT
//! /api/v1/tariffs` (the owner; replaces them all) and `GET /api/v1/costs?from=&to=`, what
//! each local day cost and where its energy came from, with each device's kWh and cost.

use super::{DEFAULT_DAYS, MAX_DAYS, range, tidy};
use crate::error::{Error, Result};
use axum::body::Bytes;
use axum::extract::{Extension, Query, State};
use axum::Json;
use hearth_core::sensor::Kind;
use hearth_core::tariff::{Tariff, check};
use hearth_core::time::HOUR_MS;
use hearth_core::time::house::{HouseZone, rfc3339};
use hearth_store::Db;
use hearth_store::account::Session;
use jiff::{Timestamp, ToSpan};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The body of the tariff routes.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Tariffs {
    /// Every tariff, oldest first: `{"from": "2026-01-01", "currency": "EUR", "import": {"price":
    /// 0.25} | {"price": 0.20, "zones": [{"days": ["mon"], "from": "07:00", "to": "22:00", "price":
    /// 0.32}]} | {"price_sensor": 12}, "standing_per_day", "export": {"price"}, "gas": {"price",
    /// "standing_per_day", "kwh_per_m3"}, "water": {"price_per_m3", "standing_per_day"}}` (README).
    #[schema(value_type = Vec<Object>)]
    pub tariffs: Vec<Tariff>,
}

/// `GET /api/v1/tariffs`
#[utoipa::path(get, path = "/api/v1/tariffs", tag = "read", security(("session" = [])),
    responses((status = 200, description = "Every tariff, oldest first", body = Tariffs),
        (status = 401, description = "No session", body = crate::schema::ErrorBody),
        (status = 503, description = "The database is unavailable", body = crate::schema::ErrorBody)))]
pub async fn list(State(db): State<Db>) -> Result<Json<Tariffs>> {
    Ok(Json(Tariffs { tariffs: hearth_store::tariff::list(&db).await? }))
}

/// `PUT /api/v1/tariffs`: replaces every tariff (the owner only). A body that is not the
/// shape of a tariff list, or a tariff that breaks a rule, is a 400 naming the field.
#[utoipa::path(put, path = "/api/v1/tariffs", tag = "read", security(("session" = [])),
    request_body(content = Tariffs, description = "Every tariff; the stored list is replaced"),
    responses((status = 200, description = "The tariffs stored", body = Tariffs),
        (status = 400, description = "Not a tariff list, or a tariff that breaks a rule, named in `field`", body = crate::schema::ErrorBody),
        (status = 401, description = "No session", body = crate::schema::ErrorBody),
        (status = 403, description = "A read-only session, or a request from another site", body = crate::schema::ErrorBody),
        (status = 413, description = "Body too large", body = crate::schema::ErrorBody),
        (status = 503, description = "The database is unavailable", body = crate::schema::ErrorBody)))]
pub async fn replace(State(db): State<Db>, session: Option<Extension<Session>>, body: Bytes) -> Result<Json<Tariffs>> {
    if session.is_none_or(|Extension(s)| s.viewer.read_only) {
        return Err(Error::ReadOnly);
    }
    let mut de = serde_json::Deserializer::from_slice(&body);
    let posted: Tariffs = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "tariffs".to_owned() } else { path };
        Error::BadField { message: format!("{field}: {}", e.inner()), field }
    })?;
    let sensors = hearth_store::sensor::list_by_kind(&db, Kind::Price).await?;
    let checked = check(posted.tariffs, |id| sensors.iter().any(|s| s.sensor_id == id))
        .map_err(|r| Error::BadField { field: r.field, message: r.message })?;
    Ok(Json(Tariffs { tariffs: hearth_store::tariff::replace(&db, checked).await? }))
}

/// The query of a costs request.
#[derive(Debug, Default, Deserialize)]
pub struct CostsQuery {
    from: Option<String>,
    to: Option<String>,
}

/// What `GET /api/v1/costs` answers.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CostsResponse {
    /// The tariffs' currency (`null` without tariffs).
    pub currency: Option<String>,
    /// The house's time zone, whose days these are.
    pub zone: String,
    /// The days, oldest first, each whole.
    pub days: Vec<CostDay>,
    /// Each device's energy counter over the days.
    pub devices: Vec<DeviceOut>,
}

/// One day of a [`CostsResponse`]. Money is in the currency, not rounded.
#[derive(Debug, Serialize, Deserialize, PartialEq, ToSchema)]
#[allow(missing_docs)]
pub struct CostDay {
    pub date: String,
    pub start: String,
    pub end: String,
    pub hours: f64,
    pub import_kwh: f64,
    pub export_kwh: f64,
    pub solar_kwh: f64,
    pub consumption_kwh: f64,
    pub self_sufficiency: Option<f64>,
    pub import_cost: Option<f64>,
    pub export_credit: Option<f64>,
    pub gas_kwh: Option<f64>,
    pub gas_cost: Option<f64>,
    pub water_l: f64,
    pub water_cost: Option<f64>,
    pub standing: Option<f64>,
    pub total: Option<f64>,
}

/// One device of a [`CostsResponse`].
#[derive(Debug, Serialize, Deserialize, PartialEq, ToSchema)]
pub struct DeviceOut {
    /// Its energy counter.
    pub sensor_id: i64,
    /// kWh over the days.
    pub kwh: f64,
    /// What it cost at the import price of each moment (`null` where not known).
    pub cost: Option<f64>,
}

/// `GET /api/v1/costs?from=&to=`: `from` and `to` as for the daily route; the days
/// overlapping `[from, to)`, by default the last 7 including today, at most [`MAX_DAYS`].
#[utoipa::path(get, path = "/api/v1/costs", tag = "read", security(("session" = [])),
    params(("from" = Option<String>, Query, description = "A local date (2026-12-01) or an RFC 3339 time; by default 7 days before `to`"),
        ("to" = Option<String>, Query, description = "A local date (the day is included) or an RFC 3339 time; by default now")),
    responses((status = 200, description = "Each local day's energy and costs, and each device's", body = CostsResponse),
        (status = 400, description = "A bad parameter, named in `field`", body = crate::schema::ErrorBody),
        (status = 401, description = "No session", body = crate::schema::ErrorBody),
        (status = 503, description = "The database is unavailable", body = crate::schema::ErrorBody)))]
pub async fn costs(State(db): State<Db>, State(zone): State<HouseZone>, Query(query): Query<CostsQuery>) -> Result<Json<CostsResponse>> {
    let before = |to: Timestamp| {
        let last = zone.day_of(to.as_millisecond() - 1);
        let first = last.date.checked_sub((DEFAULT_DAYS - 1).days()).unwrap_or(last.date);
        Timestamp::from_millisecond(zone.day(first).start_ms).unwrap_or(to)
    };
    let (from, to) = range(&zone, query.from.as_deref(), query.to.as_deref(), before)?;
    let too_many = || Error::BadParameter { field: "from", message: format!("a costs request covers at most {MAX_DAYS} days") };
    if to.as_millisecond() - from.as_millisecond() > MAX_DAYS as i64 * 25 * HOUR_MS {
        return Err(too_many());
    }
    let days = zone.days(from.as_millisecond(), to.as_millisecond());
    let (Some(first), Some(last)) = (days.first(), days.last()) else { return Err(too_many()) };
    if days.len() > MAX_DAYS {
        return Err(too_many());
    }
    let sensors = hearth_store::sensor::list_all(&db).await?;
    let costs = hearth_store::cost::costs(&db, &zone, &sensors, first.start_ms, last.end_ms).await?;
    let money = |m: Option<f64>| m.map(tidy);
    Ok(Json(CostsResponse {
        currency: costs.currency,
        zone: zone.name(),
        days: costs
            .days
            .into_iter()
            .map(|d| CostDay {
                date: d.date,
                start: rfc3339(d.start_ms),
                end: rfc3339(d.end_ms),
                hours: d.hours,
                import_kwh: tidy(d.import_kwh),
                export_kwh: tidy(d.export_kwh),
                solar_kwh: tidy(d.solar_kwh),
                consumption_kwh: tidy(d.consumption_kwh),
                self_sufficiency: money(d.self_sufficiency),
                import_cost: money(d.import_cost),
                export_credit: money(d.export_credit),
                gas_kwh: money(d.gas_kwh),
                gas_cost: money(d.gas_cost),
                water_l: tidy(d.water_l),
                water_cost: money(d.water_cost),
                standing: money(d.standing),
                total: money(d.total),
            })
            .collect(),
        devices: costs.devices.into_iter().map(|d| DeviceOut { sensor_id: d.sensor_id, kwh: tidy(d.kwh), cost: money(d.cost) }).collect(),
    }))
}
