//! The browser's end of the live stream: `/api/v1/stream` read as server-sent events, with
//! reconnection, and its readings merged into the series the charts draw.

use crate::reading::{LiveReading, Point, Series};
use crate::sensor::Sensor;
use leptos::prelude::*;

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

/// Opens the live stream in the browser for as long as the calling component lives, and calls
/// `on_reading` with each reading and its time in Unix milliseconds. `on_resync` is called
/// when readings may have been missed (this client fell behind, or the connection dropped and
/// came back), so the caller can refetch. On the server this does nothing and the status stays `Connecting`.
pub fn use_live_readings(
    on_reading: impl Fn(LiveReading, i64) + 'static,
    on_resync: impl Fn() + 'static,
) -> ReadSignal<LiveStatus> {
    let (status, set_status) = signal(LiveStatus::Connecting);
    #[cfg(feature = "hydrate")]
    browser::open(on_reading, on_resync, set_status);
    #[cfg(not(feature = "hydrate"))]
    let _ = (on_reading, on_resync, set_status);
    status
}

#[cfg(feature = "hydrate")]
mod browser {
    //! The stream is read with `fetch` rather than `EventSource`: the same server-sent events,
    //! but the request is ours, so a reconnect can say `Last-Event-ID` itself, and headless
    //! browsers that wait for pending `EventSource` requests before rendering don't hang.

    use super::LiveStatus;
    use crate::reading::LiveReading;
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

    pub(super) fn open(
        on_reading: impl Fn(LiveReading, i64) + 'static,
        on_resync: impl Fn() + 'static,
        set_status: WriteSignal<LiveStatus>,
    ) {
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
                        // Readings stored while the connection was down never reached this
                        // page: let it refetch rather than show a hole.
                        if std::mem::take(&mut dropped) {
                            on_resync();
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
                                        on_reading(reading, at_ms);
                                    }
                                    Err(e) => leptos::logging::warn!("unreadable live reading: {e}"),
                                },
                                "resync" => on_resync(),
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

/// Adds a live reading to `all`, the series of the sensors a page shows: appends the point to
/// its sensor's series (or starts a series for a new sensor, kept in label order), moves the
/// latest value forward, and drops points older than `window_ms` before the newest.
pub fn merge_live(all: &mut Vec<Series>, reading: &LiveReading, at_ms: i64, window_ms: i64) {
    let point = Point { at_ms, value: reading.value };
    let series = match all.iter_mut().position(|s| s.sensor.sensor_id == reading.sensor_id) {
        Some(i) => &mut all[i],
        None => {
            let sensor = Sensor {
                sensor_id: reading.sensor_id,
                device: reading.device.clone(),
                key: reading.sensor.clone(),
                kind: reading.kind,
                room: reading.room.clone(),
                name: None,
                main: crate::sensor::main_by_key(&reading.sensor),
            };
            let at = all.partition_point(|s| (s.sensor.label(), s.sensor.sensor_id) < (sensor.label(), sensor.sensor_id));
            all.insert(at, Series { sensor, points: Vec::new(), latest: None });
            &mut all[at]
        }
    };
    let at = series.points.partition_point(|p| p.at_ms < at_ms);
    if series.points.get(at).is_none_or(|p| p.at_ms != at_ms) {
        series.points.insert(at, point);
    }
    if series.latest.is_none_or(|latest| latest.at_ms <= at_ms) {
        series.latest = Some(point);
    }
    let newest = series.points.last().map_or(at_ms, |p| p.at_ms);
    let keep_from = series.points.partition_point(|p| p.at_ms < newest - window_ms);
    series.points.drain(..keep_from);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sensor::Kind;

    fn reading(sensor_id: i64, room: &str, value: f64) -> LiveReading {
        LiveReading {
            sensor_id,
            device: "house".into(),
            sensor: format!("t{sensor_id}"),
            kind: Kind::Temperature,
            room: Some(room.into()),
            value,
            at: String::new(),
        }
    }

    #[test]
    fn a_new_sensor_gets_a_series_in_label_order() {
        let mut all = Vec::new();
        merge_live(&mut all, &reading(2, "Office", 20.0), 1_000, 10_000);
        merge_live(&mut all, &reading(1, "Kitchen", 19.0), 1_000, 10_000);
        let rooms: Vec<_> = all.iter().map(|s| s.sensor.label()).collect();
        assert_eq!(rooms, ["Kitchen", "Office"]);
        assert_eq!(all[1].latest, Some(Point { at_ms: 1_000, value: 20.0 }));
    }

    #[test]
    fn points_stay_ordered_and_the_latest_never_goes_back() {
        let mut all = Vec::new();
        merge_live(&mut all, &reading(1, "Kitchen", 21.0), 3_000, 10_000);
        merge_live(&mut all, &reading(1, "Kitchen", 20.0), 1_000, 10_000);
        merge_live(&mut all, &reading(1, "Kitchen", 20.0), 1_000, 10_000);
        let times: Vec<_> = all[0].points.iter().map(|p| p.at_ms).collect();
        assert_eq!(times, [1_000, 3_000]);
        assert_eq!(all[0].latest.unwrap().value, 21.0);
    }

    #[test]
    fn points_older_than_the_window_are_dropped() {
        let mut all = Vec::new();
        for (at, v) in [(0, 1.0), (5_000, 2.0), (12_000, 3.0)] {
            merge_live(&mut all, &reading(1, "Kitchen", v), at, 10_000);
        }
        let times: Vec<_> = all[0].points.iter().map(|p| p.at_ms).collect();
        assert_eq!(times, [5_000, 12_000]);
    }
}
