//! `GET /api/v1/stream`: the live stream as server-sent events. Each stored reading is one
//! `event: reading` with its hub id as `id:`; a subscriber that fell behind and lost events
//! gets `event: resync` and should refetch.

use crate::broadcast::{Event, Hub};
use crate::error::{Error, Result};
use crate::limit::Limits;
use app::account::ssr::Session;
use axum::Extension;
use axum::extract::State;
use axum::response::sse::{self, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use std::convert::Infallible;
use std::sync::Arc;
use tokio_stream::wrappers::BroadcastStream;
use tokio_stream::wrappers::errors::BroadcastStreamRecvError;

/// Opens a live stream of stored readings, one of the few a session may hold at once.
pub async fn stream(
    State(hub): State<Arc<Hub>>,
    State(limits): State<Arc<Limits>>,
    session: Option<Extension<Session>>,
) -> Result<Sse<impl Stream<Item = Result<sse::Event, Infallible>>>> {
    let Extension(session) = session.ok_or(Error::LoggedOut)?;
    let slot = limits.open_stream(&session.token_hash)?;
    let rx = hub.subscribe().ok_or_else(|| Error::Unavailable("the server is shutting down".into()))?;
    let events = BroadcastStream::new(rx).map(move |item| {
        // The slot is freed when the stream, and this closure with it, is dropped.
        let _held = &slot;
        Ok(match item {
            Ok(Event { id, name, data }) => sse::Event::default().event(name).id(id.to_string()).data(&*data),
            Err(BroadcastStreamRecvError::Lagged(missed)) => {
                sse::Event::default().event("resync").data(missed.to_string())
            }
        })
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}
