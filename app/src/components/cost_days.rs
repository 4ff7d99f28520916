//! The cost of each local day beside what it used, newest first, as Electricity and Water
//! show it beside their daily bars. A day without a price shows "–", never 0.

use crate::format::money;
use hearth_core::cost::DayCost;
use hearth_core::time::Zone;
use leptos::prelude::*;

/// One column of money: its heading, its cells' `data-cost`, and what it takes from a day.
pub struct CostColumn {
    /// Its heading.
    pub title: &'static str,
    /// The cells' `data-cost`.
    pub key: &'static str,
    /// The day's amount, `None` where it is not priced.
    pub of: fn(&DayCost) -> Option<f64>,
}

/// A table of `days` (oldest first, as the costs come): the date, the amount used (`used`,
/// written with `decimals` under `unit`), and each of `columns`; the heading's total is the
/// sum of the last column, shown when every day's is known.
#[component]
pub fn CostDays(
    /// The tariffs' currency.
    currency: String,
    /// The days (today's moving with live readings).
    #[prop(into)]
    days: Signal<Vec<DayCost>>,
    /// The house's zone (to name the days).
    zone: Zone,
    /// What a day used.
    used: fn(&DayCost) -> f64,
    /// The unit of what was used.
    unit: &'static str,
    /// Its decimals.
    decimals: usize,
    /// The money columns.
    columns: Vec<CostColumn>,
    /// The panel's `data-testid`.
    testid: &'static str,
    /// What a person should know about the figures, under the table.
    #[prop(optional)]
    note: Option<&'static str>,
) -> impl IntoView {
    let last = columns.last().map(|c| c.of);
    let total = {
        let currency = currency.clone();
        move || {
            let total = days.with(|days| last.and_then(|of| days.iter().map(of).sum::<Option<f64>>()));
            total.map(|t| format!("{} in all", money(&currency, t)))
        }
    };
    let header = columns.iter().map(|c| view! { <th>{c.title}</th> }).collect_view();
    let columns: Vec<(&'static str, fn(&DayCost) -> Option<f64>)> = columns.iter().map(|c| (c.key, c.of)).collect();
    let rows = move || {
        days.with(|days| {
            days.iter()
                .rev()
                .map(|d| {
                    // An hour in, so the date is the day's even on its first instant after a clock change.
                    let shown = zone.format(d.start_ms + 3_600_000, "%a %-d %b");
                    let cells = columns
                        .iter()
                        .map(|&(key, of)| {
                            let cell = of(d).map_or_else(|| "–".to_owned(), |c| money(&currency, c));
                            view! { <td data-cost=key>{cell}</td> }
                        })
                        .collect_view();
                    view! {
                        <tr data-date=d.date.clone()>
                            <td>{shown}</td>
                            <td>{format!("{:.decimals$}", used(d))}</td>
                            {cells}
                        </tr>
                    }
                })
                .collect_view()
        })
    };
    view! {
        <section class="panel" data-testid=testid>
            <div class="panel-head">
                <h2>"Cost per day"</h2>
                <span class="muted">{total}</span>
            </div>
            <table class="cost-days">
                <thead><tr><th>"Day"</th><th>{unit}</th>{header}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {note.map(|n| view! { <p class="muted">{n}</p> })}
        </section>
    }
}
