//! The head of a chart view: its title and the range buttons (last hour, day, week, month,
//! custom dates), which are links that change the URL's query, so they work before the page
//! is hydrated and a range can be bookmarked.

use hearth_core::range::{Preset, RangeQuery, Window};
use hearth_core::time::Zone;
use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use leptos_router::NavigateOptions;

/// The range the page's URL asks for.
pub fn use_range_query() -> Memo<RangeQuery> {
    let query = use_query_map();
    Memo::new(move |_| {
        query.with(|q| RangeQuery { range: q.get("range"), from: q.get("from"), to: q.get("to") })
    })
}

/// A callback that shows the dragged span `(from_ms, to_ms)` by changing the URL.
pub fn use_zoom() -> Callback<(i64, i64)> {
    let navigate = use_navigate();
    let location = use_location();
    Callback::new(move |(from, to): (i64, i64)| {
        let path = location.pathname.get_untracked();
        let query = RangeQuery::between_ms(from, to).to_query_string();
        navigate(&format!("{path}?{query}"), NavigateOptions { scroll: false, ..Default::default() });
    })
}

/// The view's title and its range buttons. `window` and `zone`, once known, describe a
/// custom or zoomed range in words.
#[component]
pub fn ViewHead(
    /// The view's title.
    title: &'static str,
    /// The range shown when the URL names none.
    default: Preset,
    /// The range shown, once loaded.
    #[prop(into)]
    shown: Signal<Option<(Window, Zone)>>,
    /// The kinds of sensor the view shows (`temperature,humidity`): a "Download CSV" link
    /// gives their readings over the range shown.
    #[prop(default = None)]
    csv: Option<&'static str>,
) -> impl IntoView {
    let query = use_range_query();
    let location = use_location();
    let path = move || location.pathname.get();
    let active = move || query.with(|q| q.as_preset(default));
    let custom_open = RwSignal::new(false);
    let described = move || {
        shown.get().filter(|(w, _)| w.preset.is_none()).map(|(w, zone)| {
            let same_day = zone.format(w.from_ms, "%F") == zone.format(w.to_ms - 1, "%F");
            if same_day {
                format!("{}, {}–{}", zone.format(w.from_ms, "%a %-d %b %Y"), zone.format(w.from_ms, "%H:%M"), zone.format(w.to_ms, "%H:%M"))
            } else {
                format!("{} – {}", zone.format(w.from_ms, "%-d %b %Y %H:%M"), zone.format(w.to_ms, "%-d %b %Y %H:%M"))
            }
        })
    };
    let dates = move || {
        shown.get().map(|(w, zone)| (zone.format(w.from_ms, "%F"), zone.format(w.to_ms - 1, "%F"))).unwrap_or_default()
    };
    view! {
        <div class="view-head">
            <h1>{title}</h1>
            <nav class="ranges" aria-label="Time range">
                {Preset::ALL.into_iter().map(|preset| {
                    let href = move || format!("{}?{}", path(), RangeQuery::preset(preset).to_query_string());
                    view! {
                        <a href=href class="range" aria-current=move || (active() == Some(preset)).then_some("true")>
                            {preset.as_str()}
                        </a>
                    }
                }).collect_view()}
                <button
                    class="range"
                    aria-current=move || (active().is_none()).then_some("true")
                    aria-expanded=move || custom_open.get().to_string()
                    on:click=move |_| custom_open.update(|o| *o = !*o)
                >
                    "Custom"
                </button>
            </nav>
        </div>
        <Show when=move || custom_open.get()>
            <Form method="GET" action=path() attr:class="custom-range">
                <label>"From " <input type="date" name="from" required value=move || dates().0 /></label>
                <label>"To " <input type="date" name="to" required value=move || dates().1 /></label>
                <button type="submit">"Show"</button>
            </Form>
        </Show>
        <p class="range-note">
            <span>{described}</span>
            {move || csv.zip(shown.get()).map(|(kinds, (w, _))| {
                let href = format!("/api/v1/export.csv?from={}&to={}&kind={kinds}", w.from_ms, w.to_ms);
                view! { <a class="download" href=href download rel="external">"Download CSV"</a> }
            })}
        </p>
    }
}
