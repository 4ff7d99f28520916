//! The shapes of the HTTP API's JSON bodies that no handler's own type carries (the error
//! answer, what devices post, health), for the OpenAPI description to name.
//! Nothing here is used at run time.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Hearth's error answer.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// What is wrong, for a person.
    pub error: String,
    /// The reading at fault, by its position in the batch.
    pub index: Option<usize>,
    /// The field or parameter at fault.
    pub field: Option<String>,
}

/// One reading as a device posts it.
#[derive(Serialize, ToSchema)]
pub struct PostedReading {
    /// The device's key for the sensor, `[a-z0-9_.-]{1,64}`.
    #[schema(pattern = "^[a-z0-9_.-]{1,64}$")]
    pub sensor: String,
    /// A finite number, at most 1e15 in magnitude (a switch: 0 or 1).
    #[schema(minimum = -1e15, maximum = 1e15)]
    pub value: f64,
    /// Required for a new sensor; it fixes the unit.
    pub kind: Option<KindName>,
    /// The room of a new sensor.
    #[schema(max_length = 64)]
    pub room: Option<String>,
    /// When it was measured (from 2000 to 5 minutes ahead); the server's time without it.
    pub at: Option<PostedAt>,
}

/// What a sensor measures: `core::sensor::Kind` as the description names it (core does not
/// depend on utoipa).
#[derive(Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum KindName {
    /// °C
    Temperature,
    /// %
    Humidity,
    /// W
    Power,
    /// kWh, a cumulative counter
    Energy,
    /// 0 or 1
    Switch,
    /// L, a cumulative counter
    Water,
    /// L/min
    Flow,
    /// m³, a cumulative counter
    Gas,
    /// ppm of carbon dioxide
    Co2,
    /// a battery's state of charge, %
    Battery,
    /// the price of electricity per kWh, in the tariff's currency (may be negative; up to 48 h ahead)
    Price,
}

/// A reading's time.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum PostedAt {
    /// RFC 3339 text with an offset.
    #[schema(format = DateTime)]
    Text(String),
    /// Unix seconds, fractions allowed.
    Seconds(f64),
}

/// Several readings in one request.
#[derive(Serialize, ToSchema)]
pub struct PostedBatch {
    /// At most 10,000 readings.
    pub readings: Vec<PostedReading>,
}

/// The body of `POST /api/v1/readings`.
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
pub enum PostedBody {
    /// One reading.
    One(PostedReading),
    /// A batch.
    Batch(PostedBatch),
}

/// `/healthz` while healthy.
#[derive(Serialize, ToSchema)]
pub struct Healthy {
    /// `ok`.
    pub status: String,
    /// `sqlite` or `postgres`.
    pub database: String,
}

/// `/healthz` while not.
#[derive(Serialize, ToSchema)]
pub struct Unhealthy {
    /// `unavailable`.
    pub status: String,
    /// `database` or `writer`.
    pub failing: String,
    /// What is wrong.
    pub error: String,
}

#[cfg(test)]
mod tests {
    use super::KindName;
    use hearth_core::sensor::Kind;

    #[test]
    fn the_description_names_every_kind_a_device_may_post() {
        for kind in Kind::ALL {
            assert!(serde_json::from_value::<KindName>(serde_json::json!(kind.as_str())).is_ok(), "{kind} is missing");
        }
    }
}
