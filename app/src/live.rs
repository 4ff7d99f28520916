//! The browser's end of the live stream: one connection to `/api/v1/stream` per open page,
//! read as server-sent events with reconnection, whose events every mounted view receives
//! through [`use_live`].

use hearth_core::reading::LiveReading;
use leptos::prelude::*;
use std::sync::Arc;

/// The state of the connection to the live stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LiveStatus {
    /// Not connected yet, or reconnecting after a drop.
    Connecting,
    /// Connected: readings arrive as they are stored.
    Open,
}

impl LiveStatus {
    /// A stable name, for CSS and tests (`data-live`).
    pub fn as_str(self) -> &'static str {
        match self {
            LiveStatus::Connecting => "connecting",
            LiveStatus::Open => "open",
        }
    }
}

/// What the live stream tells a view.
#[derive(Clone, Debug, PartialEq)]
pub enum LiveEvent {
    /// A reading was stored; its time in Unix milliseconds.
    Reading(LiveReading, i64),
    /// Readings were missed and the server cannot replay them (this page fell behind, or the
    /// connection was down too long or came back to another server): refetch.
    Resync,
    /// An alert opened or resolved.
    Alert(hearth_core::alert::AlertEvent),
}

type Listener = Arc<dyn Fn(&LiveEvent) + Send + Sync>;

/// The live stream of the page, shared by every view on it through context.
#[derive(Clone, Copy)]
pub struct Live {
    /// The connection's state.
    pub status: ReadSignal<LiveStatus>,
    listeners: StoredValue<Vec<(u64, Listener)>>,
    next_id: StoredValue<u64>,
}

impl Live {
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    fn dispatch(&self, event: &LiveEvent) {
        // Clone the list first: a listener may subscribe or unsubscribe while it runs.
        let listeners: Vec<Listener> = self
            .listeners
            .try_with_value(|l| l.iter().map(|(_, f)| f.clone()).collect())
            .unwrap_or_default();
        for listener in listeners {
            listener(event);
        }
    }
}

/// Opens the page's live stream (in the browser; on the server it stays `Connecting`) and
/// provides it to the views below.
pub fn provide_live() -> Live {
    let (status, set_status) = signal(LiveStatus::Connecting);
    let live = Live { status, listeners: StoredValue::new(Vec::new()), next_id: StoredValue::new(0) };
    provide_context(live);
    #[cfg(feature = "hydrate")]
    browser::open(move |event| live.dispatch(&event), set_status);
    #[cfg(not(feature = "hydrate"))]
    let _ = set_status;
    live
}

/// Calls `on_event` with every event of the page's live stream for as long as the calling
/// component lives, and returns the connection's state.
pub fn use_live(on_event: impl Fn(&LiveEvent) + Send + Sync + 'static) -> ReadSignal<LiveStatus> {
    let live = use_context::<Live>().unwrap_or_else(provide_live);
    let id = live.next_id.get_value();
    live.next_id.set_value(id + 1);
    live.listeners.update_value(|l| l.push((id, Arc::new(on_event))));
    on_cleanup(move || {
        live.listeners.try_update_value(|l| l.retain(|(i, _)| *i != id));
    });
    live.status
}

#[cfg(feature = "hydrate")]
mod browser {
    //! The stream is read with `fetch` rather than `EventSource`: the same server-sent events,
    //! but the request is ours, so a reconnect can say `Last-Event-ID` itself, and headless
    //! browsers that wait for pending `EventSource` requests before rendering don't hang.
    //! A reconnect resumes after the last id received (`hello` gives one before any reading):
    //! the server replays the missed events, which reach the views like live ones.

    use super::{LiveEvent, LiveStatus};
    use hearth_core::reading::LiveReading;
    use eventsource_stream::Eventsource;
    use futures_util::StreamExt;
    use leptos::prelude::*;
    use send_wrapper::SendWrapper;
    use std::cell::Cell;
    use std::rc::Rc;
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{AbortController, Request, RequestInit, Response};

    const URL: &str = "/api/v1/stream";
    const FIRST_RETRY_MS: u32 = 500;
    const LAST_RETRY_MS: u32 = 10_000;

    pub(super) fn open(dispatch: impl Fn(LiveEvent) + 'static, set_status: WriteSignal<LiveStatus>) {
        let Ok(abort) = AbortController::new() else { return };
        let stopped = Rc::new(Cell::new(false));
        let signal = abort.signal();
        let running = stopped.clone();
        leptos::task::spawn_local(async move {
            let mut last_id = String::new();
            let mut retry_ms = FIRST_RETRY_MS;
            let mut dropped = false;
            while !running.get() {
                match connect(&signal, &last_id).await {
                    Ok(body) => {
                        set_status.set(LiveStatus::Open);
                        retry_ms = FIRST_RETRY_MS;
                        // The server replays what was stored while the connection was down,
                        // after the last id this page received, or says `resync` when it
                        // cannot. Without an id (nothing arrived yet, not even `hello`), only
                        // a refetch can fill the hole.
                        if std::mem::take(&mut dropped) && last_id.is_empty() {
                            dispatch(LiveEvent::Resync);
                        }
                        let mut events = body.eventsource();
                        while let Some(Ok(event)) = events.next().await {
                            if !event.id.is_empty() {
                                last_id = event.id;
                            }
                            match event.event.as_str() {
                                "reading" => match serde_json::from_str::<LiveReading>(&event.data) {
                                    Ok(reading) => {
                                        let at_ms = js_sys::Date::parse(&reading.at) as i64;
                                        dispatch(LiveEvent::Reading(reading, at_ms));
                                    }
                                    Err(e) => leptos::logging::warn!("unreadable live reading: {e}"),
                                },
                                "resync" => dispatch(LiveEvent::Resync),
                                "alert" => match serde_json::from_str::<hearth_core::alert::AlertEvent>(&event.data) {
                                    Ok(alert) => dispatch(LiveEvent::Alert(alert)),
                                    Err(e) => leptos::logging::warn!("unreadable alert event: {e}"),
                                },
                                _ => {}
                            }
                        }
                    }
                    Err(e) => leptos::logging::warn!("live stream unavailable: {e:?}"),
                }
                if running.get() {
                    break;
                }
                set_status.set(LiveStatus::Connecting);
                dropped = true;
                gloo_timers::future::TimeoutFuture::new(retry_ms).await;
                retry_ms = (retry_ms * 2).min(LAST_RETRY_MS);
            }
        });
        let held = SendWrapper::new((abort, stopped));
        on_cleanup(move || {
            let (abort, stopped) = held.take();
            stopped.set(true);
            abort.abort();
        });
    }

    /// Opens the stream and returns its body as a stream of byte chunks.
    async fn connect(
        signal: &web_sys::AbortSignal,
        last_id: &str,
    ) -> Result<impl futures_util::Stream<Item = Result<Vec<u8>, JsValue>> + use<>, JsValue> {
        let init = RequestInit::new();
        init.set_signal(Some(signal));
        let request = Request::new_with_str_and_init(URL, &init)?;
        request.headers().set("Accept", "text/event-stream")?;
        if !last_id.is_empty() {
            request.headers().set("Last-Event-ID", last_id)?;
        }
        let window = web_sys::window().ok_or("no window")?;
        let response: Response = JsFuture::from(window.fetch_with_request(&request)).await?.dyn_into()?;
        if !response.ok() {
            return Err(format!("HTTP {}", response.status()).into());
        }
        let body = response.body().ok_or("no body")?;
        let chunks = wasm_streams::ReadableStream::from_raw(body.unchecked_into()).into_stream();
        Ok(chunks.map(|chunk| chunk.map(|c| js_sys::Uint8Array::new(&c).to_vec())))
    }
}
