//! The shapes of the HTTP API's JSON bodies that no handler's own type carries (the error
//! answer, what devices post, health), for the OpenAPI description to name.
//! Nothing here is used at run time.

use serde::Serialize;
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

/// What a sensor measures.
#[derive(Serialize, ToSchema)]
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
