//! The shell every chart view shares: its head (title and range buttons), loading its data for
//! the range the URL asks for, a placeholder while it loads, the error if it fails, and the
//! live stream's readings for the view — except those that make the data stale (a resync, or
//! a reading of a day after the one loaded), which read the data again.

use crate::components::range_picker::{ViewHead, use_range_query};
use crate::error::AppResult;
use crate::live::{LiveEvent, use_live};
use hearth_core::range::{Preset, RangeQuery, Window};
use hearth_core::reading::LiveReading;
use hearth_core::sensor::Kind;
use hearth_core::time::Zone;
use leptos::either::Either;
use leptos::prelude::*;
use serde::Serialize;
use serde::de::DeserializeOwned;

/// What the shell needs to know of a view's data.
pub trait ViewData: Clone + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The range shown and the house's zone, for the head's words about a custom range;
    /// `None` for a view without a range.
    fn shown(&self) -> Option<(Window, Zone)>;
    /// When the day the data was read on ends, Unix ms: a reading after it means a new day.
    fn day_end_ms(&self) -> i64;
}

/// A chart view: `title`, the range buttons (`default` when the URL names none; none at all
/// for `None`), the data `load` reads, and `children` drawing it with its live readings.
/// While it loads, `placeholder` holds its place; if it fails, a line says `what` could not
/// be loaded (and a page rendered on the server answers with the error's status).
#[component]
pub fn LivePage<T, F, Fut, C, V>(
    /// The view's title.
    title: &'static str,
    /// The range shown when the URL names none; `None` for a view without range buttons.
    default: Option<Preset>,
    /// Reads the view's data for a range.
    load: F,
    /// What the view shows, for the error line ("the history").
    what: &'static str,
    /// Holds the view's place while its data loads.
    #[prop(into)]
    placeholder: ViewFn,
    /// Draws the data, fed by its live readings.
    children: C,
    /// The kinds of sensor the view draws, comma-separated, for its "Download CSV" link.
    #[prop(optional)]
    csv: Option<&'static str>,
) -> impl IntoView
where
    T: ViewData,
    F: Fn(RangeQuery) -> Fut + Copy + Send + Sync + 'static,
    Fut: Future<Output = AppResult<T>> + Send + 'static,
    C: Fn(T, ViewLive) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let query = use_range_query();
    let data = Resource::new(move || query.get(), load);
    let refetch = Callback::new(move |()| data.refetch());
    // What the range buttons describe, set once the data is in (read inside the Suspense).
    let shown = RwSignal::new(None);
    let children = StoredValue::new(children);
    let head = match default {
        Some(default) => Either::Left(view! { <ViewHead title=title default=default shown=shown csv=csv /> }),
        None => Either::Right(view! { <div class="view-head"><h1>{title}</h1></div> }),
    };
    view! {
        {head}
        <Suspense fallback=move || placeholder.run()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(d) => {
                        shown.set(d.shown());
                        let live = ViewLive { day_end_ms: d.day_end_ms(), refetch };
                        children.with_value(|draw| draw(d, live)).into_any()
                    }
                    Err(e) => {
                        #[cfg(feature = "ssr")]
                        if let (Some(response), Ok(status)) =
                            (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(e.status))
                        {
                            response.set_status(status);
                        }
                        view! { <p class="error">"Could not load " {what} ": " {e.to_string()}</p> }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

/// A view's end of the live stream.
#[derive(Clone, Copy)]
pub struct ViewLive {
    day_end_ms: i64,
    refetch: Callback<()>,
}

impl ViewLive {
    /// Reads the view's data again.
    pub fn refetch(&self) {
        self.refetch.run(());
    }

    /// Calls `on_reading` with every live reading (and its time, Unix ms) of the day the data
    /// was read on or earlier, for as long as the calling component lives. A reading of a
    /// later day, or a resync, reads the data again instead: the view is then out of date.
    /// A price posted for a later day (day-ahead prices) changes nothing shown today.
    pub fn on_readings(self, on_reading: impl Fn(&LiveReading, i64) + Send + Sync + 'static) {
        use_live(move |event| match event {
            LiveEvent::Reading(reading, at_ms) if *at_ms >= self.day_end_ms && reading.kind == Kind::Price => {}
            LiveEvent::Reading(_, at_ms) if *at_ms >= self.day_end_ms => self.refetch(),
            LiveEvent::Reading(reading, at_ms) => on_reading(reading, *at_ms),
            LiveEvent::Resync => self.refetch(),
            LiveEvent::Alert(_) => {}
        });
    }
}
