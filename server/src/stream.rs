//! `GET /api/v1/stream`: the live stream as server-sent events. Each stored reading is one
//! `event: reading` whose `id:` is its stream id (a number that increases by one per event). A new stream starts with
//! `event: hello` carrying the current id; a client that reconnects with `Last-Event-ID` (or
//! `?last_event_id=`) gets every event it missed if they are still in the replay window, and
//! `event: resync` (refetch) if not. A subscriber that fell behind and lost events also gets
//! `event: resync`. A stream ends when its session does (logged out, revoked, expired).

use crate::broadcast::{Event, Hub, Start};
use crate::error::{Error, Result};
use crate::limit::Limits;
use hearth_store::account::Session;
use axum::Extension;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::sse::{self, KeepAlive, Sse};
use futures_util::{Stream, StreamExt, future, stream};
use serde::Deserialize;
use std::convert::Infallible;
use std::sync::Arc;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

/// The stream's query: where to resume, for clients that cannot set `Last-Event-ID`.
#[derive(Deserialize)]
pub struct StreamQuery {
    /// The id of the last event received; the `Last-Event-ID` header wins over it.
    last_event_id: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/stream", tag = "read", security(("session" = [])),
    params(("last_event_id" = Option<String>, Query, description = "Where to resume (the Last-Event-ID header wins)")),
    responses((status = 200, description = "Server-sent events: hello, reading, alert, resync", content_type = "text/event-stream", body = String),
        (status = 401, description = "No session", body = crate::schema::ErrorBody),
        (status = 429, description = "Too many streams for this session", body = crate::schema::ErrorBody),
        (status = 503, description = "The server is shutting down", body = crate::schema::ErrorBody)))]
/// Opens a live stream of stored readings, one of the few a session may hold at once,
/// resuming after `Last-Event-ID` when the hub still holds what came after it.
pub async fn stream(
    State(hub): State<Arc<Hub>>,
    State(limits): State<Arc<Limits>>,
    session: Option<Extension<Session>>,
    headers: HeaderMap,
    Query(query): Query<StreamQuery>,
) -> Result<Sse<impl Stream<Item = Result<sse::Event, Infallible>>>> {
    let Extension(session) = session.ok_or(Error::LoggedOut)?;
    let slot = limits.open_stream(&session.token_hash)?;
    // An empty Last-Event-ID is no position, as in the SSE specification.
    let last = headers
        .get("last-event-id")
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
        .or(query.last_event_id)
        .filter(|id| !id.is_empty());
    let subscription =
        hub.resume(last.as_deref()).ok_or_else(|| Error::Unavailable("the server is shutting down".into()))?;
    let to_sse = {
        let hub = hub.clone();
        move |Event { id, name, data }: Event| sse::Event::default().event(name).id(hub.stream_id(id)).data(&*data)
    };
    let hello = hub_hello(&hub);
    // Replayed events are formatted one at a time as the client takes them, not all up front:
    // a hundred clients resuming together would otherwise hold every formatted copy at once.
    let (opening, replayed) = match subscription.start {
        Start::Fresh { at } => (Some(sse::Event::default().event("hello").id(hub.stream_id(at)).data(hello)), Vec::new()),
        Start::Replay(events) => (None, events),
        Start::Resync { at, missed } => (
            Some(
                sse::Event::default()
                    .event("resync")
                    .id(hub.stream_id(at))
                    .data(missed.map_or_else(|| "unknown".to_owned(), |n| n.to_string())),
            ),
            Vec::new(),
        ),
    };
    let first = stream::iter(opening).chain(stream::iter(replayed).map(to_sse.clone()));
    // Ids are consecutive, so after a lag the resync can carry the id of the last event lost,
    // and a later reconnect resumes after what the refetch covered.
    let mut last_sent = subscription.position;
    let live = BroadcastStream::new(subscription.events).filter_map(move |item| {
        future::ready(match item {
            // Replayed or announced already; cannot happen while both come from under the hub's lock.
            Ok(Event { id, .. }) if id <= last_sent => None,
            Ok(event) => {
                last_sent = event.id;
                Some(to_sse(event))
            }
            Err(BroadcastStreamRecvError::Lagged(missed)) => {
                last_sent += missed;
                Some(sse::Event::default().event("resync").id(hub.stream_id(last_sent)).data(missed.to_string()))
            }
        })
    });
    // The stream ends when its session does: logged out, share link revoked, or expired.
    let ended = slot.session_ended();
    let expires_in = std::time::Duration::from_millis(u64::try_from(session.expires_at_ms - hearth_core::time::now_ms()).unwrap_or(0));
    let session_ended = async move {
        tokio::select! {
            () = ended => {}
            () = tokio::time::sleep(expires_in) => {}
        }
    };
    let events = first
        .chain(live)
        .map(move |event| {
            // The slot is freed when the stream, and this closure with it, is dropped.
            let _held = &slot;
            Ok::<_, Infallible>(event)
        })
        .take_until(session_ended);
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// The `hello` event's data: how many events the server keeps for clients that resume.
fn hub_hello(hub: &Hub) -> String {
    serde_json::json!({ "replay_events": hub.replay_len() }).to_string()
}
