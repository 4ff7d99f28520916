//! `POST /api/owner/import`: a CSV file as the request's body (at most [`MAX_BYTES`]),
//! written to a temporary file as it arrives, then imported. With `Accept:
//! application/x-ndjson` the answer is a stream of lines, `{"progress": {...}}` while it
//! works and `{"done": {...}}` or `{"refused": ...}` / `{"error": ...}` at the end, for a
//! progress bar; otherwise one JSON answer: 200 with what was stored, 422 with the refused
//! rows, 400 for a file that is not CSV Hearth reads.

use super::{ImportError, ImportQuery, Progress, Summary, import};
use crate::AppState;
use crate::error::{Error, Result};
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::io::Write;

/// The largest file the page may upload.
pub const MAX_BYTES: u64 = 1 << 30;

/// `POST /api/owner/import?device=&sensor=&kind=&room=`
#[utoipa::path(post, path = "/api/owner/import", tag = "csv", security(("session" = [])),
    params(("device" = Option<String>, Query, description = "For a time,value file: its sensor's device"),
        ("sensor" = Option<String>, Query, description = "For a time,value file: its sensor's key"),
        ("kind" = Option<String>, Query, description = "For a time,value file of a new sensor: its kind"),
        ("room" = Option<String>, Query, description = "For a time,value file of a new sensor: its room")),
    request_body(content = String, content_type = "text/csv", description = "Hearth's export, or time,value"),
    responses((status = 200, description = "What was stored (with `Accept: application/x-ndjson`, progress lines then the result)", body = crate::import::Summary),
        (status = 400, description = "Not CSV Hearth reads, or a bad parameter", body = crate::schema::ErrorBody),
        (status = 401, description = "No session", body = crate::schema::ErrorBody),
        (status = 403, description = "A read-only session", body = crate::schema::ErrorBody),
        (status = 413, description = "Over 1 GiB", body = crate::schema::ErrorBody),
        (status = 422, description = "Rows refused, by line; nothing stored", body = Refusal),
        (status = 503, description = "The database is unavailable", body = crate::schema::ErrorBody)))]
pub async fn upload(State(state): State<AppState>, Query(query): Query<ImportQuery>, headers: HeaderMap, body: Body) -> Result<Response> {
    let target = query.target()?;
    let file = spool(body).await?;
    let streaming = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("application/x-ndjson"));
    if !streaming {
        let result = import(&state.db, &state.zone, file.path(), target.as_ref(), |_| {}).await;
        return Ok(match result {
            Ok(summary) => Json(summary).into_response(),
            Err(ImportError::Store(e)) => e.into_response(),
            Err(e) => {
                let (status, body) = outcome(&e);
                (status, Json(body)).into_response()
            }
        });
    }
    let (progress_tx, progress_rx) = tokio::sync::watch::channel(None::<Progress>);
    let work = tokio::spawn(async move {
        let result = import(&state.db, &state.zone, file.path(), target.as_ref(), |p| {
            progress_tx.send_replace(Some(p));
        })
        .await;
        drop(file);
        result
    });
    let lines = futures_util::stream::unfold((Some(progress_rx), Some(work)), |(rx, work)| async move {
        let mut rx = rx?;
        if rx.changed().await.is_ok() {
            let progress = *rx.borrow_and_update();
            let line = json!({ "progress": progress });
            return Some((Ok::<_, std::io::Error>(Bytes::from(format!("{line}\n"))), (Some(rx), work)));
        }
        // The import ended (its sender is dropped): the last line says how.
        let line = match work?.await {
            Ok(Ok(summary)) => done(&summary),
            Ok(Err(e)) => outcome(&e).1,
            Err(e) => json!({ "error": format!("the import stopped: {e}") }),
        };
        Some((Ok(Bytes::from(format!("{line}\n"))), (None, None)))
    });
    // Fused: the compression layer polls a body again after its end.
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson")], Body::from_stream(lines.fuse())).into_response())
}

fn done(summary: &Summary) -> Value {
    json!({ "done": summary })
}

/// The status and body of a failed import.
fn outcome(e: &ImportError) -> (StatusCode, Value) {
    match e {
        ImportError::Format(message) => (StatusCode::BAD_REQUEST, json!({ "error": message, "field": "file" })),
        ImportError::Refused { rows, count } => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "error": e.to_string(), "field": "file", "refused": rows, "count": count }),
        ),
        ImportError::Store(inner) => (inner.status(), json!({ "error": inner.to_string() })),
    }
}

/// Writes the body to a temporary file as it arrives; 413 beyond [`MAX_BYTES`].
async fn spool(body: Body) -> Result<tempfile::NamedTempFile> {
    let internal = |e: std::io::Error| Error::Internal(Box::new(e));
    let file = tempfile::NamedTempFile::new().map_err(internal)?;
    let mut out = std::io::BufWriter::new(file);
    let mut stream = body.into_data_stream();
    let mut length = 0u64;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| Error::Malformed(format!("the upload was cut short: {e}")))?;
        length += chunk.len() as u64;
        if length > MAX_BYTES {
            return Err(Error::TooLarge { message: format!("a file to import may have at most {MAX_BYTES} bytes"), field: Some("file") });
        }
        out.write_all(&chunk).map_err(internal)?;
    }
    out.into_inner().map_err(|e| internal(e.into_error()))
}

/// A refused import: every refused row (the first 100), by line.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub struct Refusal {
    /// A summary.
    pub error: String,
    /// `file`.
    pub field: String,
    /// The refused rows.
    pub refused: Vec<super::Refused>,
    /// How many rows were refused.
    pub count: u64,
}
