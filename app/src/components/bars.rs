//! The bar chart: one bar per local day (or other span), stacked when a bar is made of
//! several parts, with the previous period's value beside each bar when comparing, and a
//! tooltip with the exact numbers.

use super::plot::{ChartCanvas, DrawFn, Frame, HoverFn, Tip, series_color};
use hearth_core::consumption::DayTotal;
use hearth_core::time::Zone;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One bar.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bar {
    /// Its label on the axis (`Mon 24`).
    pub label: String,
    /// Its title in the tooltip (`Monday 24 November`).
    pub title: String,
    /// Its parts, bottom first, one per name of the chart (one for a plain bar). `None` where
    /// nothing was measured.
    pub values: Vec<Option<f64>>,
    /// The same position in the previous period, when comparing.
    pub previous: Option<f64>,
}

impl Bar {
    /// The sum of its parts, if any was measured.
    pub fn total(&self) -> Option<f64> {
        self.values.iter().flatten().copied().reduce(|a, b| a + b)
    }
}

/// Width of one bar's slot in x units (plotters' key points need an integer axis).
const UNIT: i64 = 1000;

/// Colour of the previous period's bars.
pub const PREVIOUS_COLOR: &str = "rgba(128, 134, 145, 0.45)";

/// A bar chart of `bars`, whose parts are called `names` (coloured by the palette from
/// `first_color`); with `compare`, each bar's `previous` value stands beside it.
#[component]
pub fn BarChart(
    /// The bars, left to right.
    #[prop(into)]
    bars: Signal<Vec<Bar>>,
    /// The names of a bar's parts, bottom first.
    #[prop(into)]
    names: Signal<Vec<String>>,
    /// The unit of the values.
    unit: &'static str,
    /// Decimals in the tooltip.
    decimals: usize,
    /// Whether to show the previous period beside each bar.
    #[prop(into)]
    compare: Signal<bool>,
    /// The palette position of the first part's colour.
    #[prop(default = 0)]
    first_color: usize,
    /// What the chart shows, for screen readers.
    #[prop(into)]
    label: String,
    /// Its width in CSS pixels on a wide screen, when it does not span the page (for the
    /// frame drawn on the server).
    #[prop(optional)]
    wide_width: Option<f64>,
) -> impl IntoView {
    let track = Callback::new(move |()| {
        bars.track();
        names.track();
        compare.track();
    });
    let draw: DrawFn = Arc::new(move |canvas, ratio| {
        #[cfg(feature = "hydrate")]
        return bars.with_untracked(|b| {
            super::plot::draw::on_canvas(canvas, ratio, "bars", |root, surface| draw::bars(root, surface, b, unit, compare.get_untracked(), first_color))
        });
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (canvas, ratio);
            None
        }
    });
    #[cfg(feature = "ssr")]
    let first_frame = bars.with_untracked(|b| {
        super::plot::draw::first_frame((220, 260), wide_width, |root, surface| draw::bars(root, surface, b, unit, compare.get_untracked(), first_color))
    });
    #[cfg(not(feature = "ssr"))]
    let first_frame = {
        let _ = wide_width;
        String::new()
    };
    let hover: HoverFn = Arc::new(move |frame, x, _y| {
        bars.with_untracked(|b| names.with_untracked(|n| tip_at(b, n, frame, x, unit, decimals, compare.get_untracked(), first_color)))
    });
    view! {
        <ChartCanvas track=track draw=StoredValue::new(draw) hover=StoredValue::new(hover) label=label class="bars" first_frame=first_frame />
    }
}

#[allow(clippy::too_many_arguments)]
fn tip_at(bars: &[Bar], names: &[String], frame: &Frame, x: f64, unit: &str, decimals: usize, compare: bool, first_color: usize) -> Option<Tip> {
    let i = (frame.x_at(x) / UNIT as f64).floor();
    let bar = bars.get(usize::try_from(i as i64).ok()?)?;
    let value = |v: Option<f64>| v.map_or_else(|| "no data".to_owned(), |v| format!("{v:.decimals$} {unit}"));
    let mut rows: Vec<(String, String)> = Vec::new();
    if bar.values.len() > 1 {
        for (j, (name, v)) in names.iter().zip(&bar.values).enumerate().rev() {
            if v.is_some_and(|v| v.abs() > 0.0) {
                rows.push((series_color(first_color + j), format!("{name}: {}", value(*v))));
            }
        }
        rows.push(("transparent".into(), format!("Total: {}", value(bar.total()))));
    } else {
        let name = names.first().map_or("Value", String::as_str);
        rows.push((series_color(first_color), format!("{name}: {}", value(bar.total()))));
    }
    if compare {
        rows.push((PREVIOUS_COLOR.into(), format!("Previous period: {}", value(bar.previous))));
    }
    let top = bar.total().into_iter().chain(bar.previous.filter(|_| compare)).fold(f64::NEG_INFINITY, f64::max);
    let y = if top.is_finite() { frame.y_of(top) } else { frame.top };
    Some(Tip { x: frame.x_of((i + 0.5) * UNIT as f64), y, title: bar.title.clone(), rows })
}

#[cfg(any(feature = "hydrate", feature = "ssr"))]
mod draw {
    use super::super::plot::draw::{Drawn, Surface, axis_value, color, frame, y_range};
    use super::{Bar, UNIT};
    use plotters::coord::Shift;
    use plotters::prelude::*;

    pub(super) fn bars<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, surface: &Surface, bars: &[Bar], unit: &str, compare: bool, first_color: usize) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let px = |n: f64| surface.px(n);
        let theme = &surface.theme;
        let n = bars.len().max(1);
        let heights = bars.iter().flat_map(|b| b.total().into_iter().chain(b.previous.filter(|_| compare)));
        let (y_lo, y_hi) = y_range(heights, true);
        let max_labels = ((surface.width / 64.0) as usize).max(2);
        let every = n.div_ceil(max_labels);
        let keys: Vec<i64> = (0..n).filter(|i| (n - 1 - i) % every == 0).map(|i| i as i64 * UNIT + UNIT / 2).collect();
        let font = ("sans-serif", px(12.0)).into_font().color(&theme.text);
        let mut chart = ChartBuilder::on(root)
            .margin(px(8.0))
            .margin_right(px(18.0))
            .x_label_area_size(px(26.0))
            .y_label_area_size(px(if unit.len() > 2 { 64.0 } else { 52.0 }))
            .build_cartesian_2d((0..n as i64 * UNIT).with_key_points(keys), y_lo..y_hi)?;
        let span = y_hi - y_lo;
        let label_of = |x: &i64| bars.get((*x / UNIT) as usize).map(|b| b.label.clone()).unwrap_or_default();
        chart
            .configure_mesh()
            .y_labels(5)
            .disable_x_mesh()
            .x_label_formatter(&label_of)
            .y_label_formatter(&|v: &f64| axis_value(*v, span, unit))
            .label_style(font)
            .axis_style(theme.axis.stroke_width(px(1.0)))
            .bold_line_style(theme.grid.stroke_width(px(1.0)))
            .light_line_style(TRANSPARENT)
            .draw()?;
        let previous = RGBColor(128, 134, 145).mix(0.45);
        let at = |i: usize, fraction: f64| i as i64 * UNIT + (fraction * UNIT as f64) as i64;
        for (i, bar) in bars.iter().enumerate() {
            let (left, right) = if compare { (at(i, 0.5), at(i, 0.88)) } else { (at(i, 0.16), at(i, 0.84)) };
            if compare && let Some(p) = bar.previous {
                chart.draw_series(std::iter::once(Rectangle::new([(at(i, 0.12), 0.0), (at(i, 0.5), p)], previous.filled())))?;
            }
            let mut base = 0.0;
            for (j, v) in bar.values.iter().enumerate() {
                let Some(v) = v.filter(|v| *v > 0.0) else { continue };
                chart.draw_series(std::iter::once(Rectangle::new([(left, base), (right, base + v)], color(first_color + j).filled())))?;
                base += v;
            }
        }
        Ok(frame(chart.plotting_area().get_pixel_range(), surface.ratio, (0.0, (n as i64 * UNIT) as f64), (y_lo, y_hi)))
    }
}

/// The bars of daily totals, labelled in the house's zone.
pub fn day_bars(zone: &Zone, days: &[DayTotal]) -> Vec<Bar> {
    days.iter()
        .map(|d| Bar {
            label: zone.format(d.start_ms, if days.len() > 10 { "%-d %b" } else { "%a %-d" }),
            title: zone.format(d.start_ms, "%A %-d %B"),
            values: vec![d.value],
            previous: d.previous,
        })
        .collect()
}

