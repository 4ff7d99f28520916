//! The OpenAPI 3.1 description of Hearth's HTTP API, generated from the handlers' `#[utoipa::path]`
//! attributes and the types they answer with, served at `/api/openapi.json` and as a page at
//! `/api/docs`.

use axum::Json;
use axum::response::Html;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

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
        crate::api::costs::list,
        crate::api::costs::replace,
        crate::api::costs::costs,
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
