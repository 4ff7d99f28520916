//! The OpenAPI 3.1 description of Hearth's HTTP API, generated from the handlers' `#[utoipa::path]`
//! attributes and the types they answer with, served at `/api/openapi.json` and as a page at
//! `/api/docs`.

use axum::Json;
use axum::response::Html;
use serde::Serialize;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi, ToSchema};

/// Hearth's API.
#[derive(OpenApi)]
#[openapi(
    info(title = "Hearth", description = "A self-hosted, real-time home monitor: devices post readings, people read them back."),
    paths(
        crate::ingest::post_readings,
        crate::ingest::influx::write_v2,
        crate::ingest::influx::write_v1,
        crate::ingest::influx::query,
        crate::ingest::influx::ping,
        crate::ingest::emoncms::post,
        crate::ingest::emoncms::post_to_node,
        crate::ingest::emoncms::bulk,
        crate::api::sensors,
        crate::api::series,
        crate::api::daily,
        crate::stream::stream,
        crate::export::sensor_csv,
        crate::export::export_csv,
        crate::import::http::upload,
        crate::health::healthz,
        crate::metrics::metrics,
        openapi_json,
    ),
    modifiers(&Security),
    tags(
        (name = "ingest", description = "How devices post readings: Hearth's JSON, InfluxDB's line protocol, Emoncms's input API"),
        (name = "read", description = "Sensors, their history and the live stream (a session: the `hearth_session` cookie of a login)"),
        (name = "csv", description = "CSV out and in"),
        (name = "operations", description = "Health, metrics and this description"),
    )
)]
pub struct ApiDoc;

/// The security schemes the paths name.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = |description: &str| {
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).description(Some(description)).build())
        };
        components.add_security_scheme("device_token", bearer("A device's token, from `hearth device add`"));
        components.add_security_scheme("metrics_token", bearer("HEARTH_METRICS_TOKEN (loopback clients need none)"));
        components.add_security_scheme(
            "influx_token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description("Authorization", "`Token <device token>`"))),
        );
        components.add_security_scheme(
            "influx_basic",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Basic).description(Some("Any user, the device token as password")).build()),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description("hearth_session", "The session of a login or a share link"))),
        );
    }
}

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

/// A refused import: every refused row (the first 100), by line.
#[derive(Serialize, ToSchema)]
pub struct Refusal {
    /// A summary.
    pub error: String,
    /// `file`.
    pub field: String,
    /// The refused rows.
    pub refused: Vec<crate::import::Refused>,
    /// How many rows were refused.
    pub count: u64,
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

/// `GET /api/openapi.json`
#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "This description", body = Object)))]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}

/// `GET /api/docs`: the description as a page a person reads, drawn on the server from the
/// same description.
pub async fn docs() -> Html<String> {
    let api = ApiDoc::openapi();
    let mut page = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Hearth API</title><link rel=\"stylesheet\" href=\"/pkg/hearth.css\"></head><body><main class=\"api-docs\">",
    );
    page += &format!("<h1>{} API</h1><p>{}</p>", escape(&api.info.title), escape(api.info.description.as_deref().unwrap_or("")));
    page += "<p>Machine-readable: <a href=\"/api/openapi.json\">/api/openapi.json</a> (OpenAPI 3.1).</p>";
    for (path, item) in &api.paths.paths {
        for (method, operation) in operations(item) {
            page += "<section class=\"panel\">";
            page += &format!("<h2><code>{method} {}</code></h2>", escape(path));
            // A doc comment's first line that only repeats the route is left out.
            let said = [operation.summary.as_deref(), operation.description.as_deref()];
            for description in said.into_iter().flatten().filter(|d| !d.starts_with('`')) {
                page += &format!("<p>{}</p>", escape(description));
            }
            let params = operation.parameters.as_deref().unwrap_or_default();
            if !params.is_empty() {
                page += "<h3>Parameters</h3><ul>";
                for p in params {
                    let utoipa::openapi::RefOr::T(p) = p else { continue };
                    let description = p.description.as_deref().unwrap_or("");
                    let place = serde_json::to_value(&p.parameter_in).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default();
                    page += &format!("<li><code>{}</code> ({place}): {}</li>", escape(&p.name), escape(description));
                }
                page += "</ul>";
            }
            page += "<h3>Answers</h3><ul>";
            for (status, response) in &operation.responses.responses {
                let description = match response {
                    utoipa::openapi::RefOr::T(r) => r.description.clone(),
                    utoipa::openapi::RefOr::Ref(r) => r.ref_location.clone(),
                };
                page += &format!("<li><strong>{}</strong>: {}</li>", escape(status), escape(&description));
            }
            page += "</ul></section>";
        }
    }
    page += "</main></body></html>";
    Html(page)
}

fn operations(item: &utoipa::openapi::PathItem) -> Vec<(&'static str, &utoipa::openapi::path::Operation)> {
    [("GET", &item.get), ("POST", &item.post), ("PUT", &item.put), ("DELETE", &item.delete), ("HEAD", &item.head)]
        .into_iter()
        .filter_map(|(method, op)| op.as_ref().map(|op| (method, op)))
        .collect()
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
