//! `GET /healthz`, for systemd, load balancers and monitors: 200 `{"status": "ok"}` while the
//! database answers and the group writer takes its queue, 503 naming the failing part
//! otherwise. It needs no session and says nothing stored.

use crate::AppState;
use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hearth_store::health::{Unhealthy, check};
use serde_json::json;
use std::time::Duration;

/// How long each part may take to answer before it counts as failing.
pub const DEADLINE: Duration = Duration::from_secs(3);

/// `GET /healthz`
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "The database answers and the writer takes its queue", body = crate::schema::Healthy),
        (status = 503, description = "The part failing, named", body = crate::schema::Unhealthy)))]
pub async fn healthz(State(state): State<AppState>) -> Response {
    let headers = [(header::CACHE_CONTROL, HeaderValue::from_static("no-store"))];
    match check(&state.db, DEADLINE).await {
        Ok(()) => (headers, Json(json!({"status": "ok", "database": state.db.backend()}))).into_response(),
        Err(problem) => {
            tracing::warn!(part = problem.part(), error = problem.message(), "health check failed");
            (StatusCode::SERVICE_UNAVAILABLE, headers, Json(body(&problem))).into_response()
        }
    }
}

fn body(problem: &Unhealthy) -> serde_json::Value {
    json!({"status": "unavailable", "failing": problem.part(), "error": problem.message()})
}
