//! The timeline: one lane per appliance, a bar for each of its runs on a time axis in the
//! house's local time, with the run's start, duration and energy under the pointer.

use super::plot::{ChartCanvas, DrawFn, Frame, HoverFn, Tip, series_color};
use crate::format::run_length;
use hearth_core::range::Window;
use hearth_core::time::Zone;
use leptos::prelude::*;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// One run on the timeline.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Span {
    /// When it started, Unix milliseconds.
    pub start_ms: i64,
    /// When it ended; `None` while it goes on.
    pub end_ms: Option<i64>,
    /// Energy used, when known.
    pub kwh: Option<f64>,
}

/// One appliance's lane.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Lane {
    /// The appliance's name.
    pub name: String,
    /// Its runs, oldest first.
    pub spans: Vec<Span>,
}

/// A timeline of `lanes` over `window`.
#[component]
pub fn Timeline(
    /// The lanes, top to bottom.
    #[prop(into)]
    lanes: Signal<Vec<Lane>>,
    /// The span of time shown.
    #[prop(into)]
    window: Signal<Window>,
    /// The house's time zone.
    #[prop(into)]
    zone: Signal<Zone>,
    /// What the chart shows, for screen readers.
    #[prop(into)]
    label: String,
    /// Called with a dragged span, in Unix milliseconds.
    #[prop(default = None)]
    on_zoom: Option<Callback<(i64, i64)>>,
) -> impl IntoView {
    let track = Callback::new(move |()| {
        lanes.track();
        window.track();
        zone.track();
    });
    let draw: DrawFn = Arc::new(move |canvas, ratio| {
        let now = hearth_core::time::now_ms();
        let w = window.get_untracked().at(now);
        #[cfg(feature = "hydrate")]
        return lanes.with_untracked(|l| {
            zone.with_untracked(|z| super::plot::draw::on_canvas(canvas, ratio, "timeline", |root, surface| draw::lanes(root, surface, l, w, z, now)))
        });
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (canvas, ratio, w);
            None
        }
    });
    #[cfg(feature = "ssr")]
    let first_frame = {
        let now = hearth_core::time::now_ms();
        let w = window.get_untracked().at(now);
        lanes.with_untracked(|l| {
            zone.with_untracked(|z| super::plot::draw::first_frame((220, 220), None, |root, surface| draw::lanes(root, surface, l, w, z, now)))
        })
    };
    #[cfg(not(feature = "ssr"))]
    let first_frame = String::new();
    let hover: HoverFn = Arc::new(move |frame, x, y| {
        let now = hearth_core::time::now_ms();
        lanes.with_untracked(|l| zone.with_untracked(|z| tip_at(l, z, frame, x, y, now)))
    });
    let on_zoom = on_zoom.map(|zoom| Callback::new(move |(a, b): (f64, f64)| zoom.run((a as i64, b as i64))));
    view! {
        <ChartCanvas track=track draw=StoredValue::new(draw) hover=StoredValue::new(hover) on_zoom=on_zoom label=label class="timeline" first_frame=first_frame />
    }
}

fn tip_at(lanes: &[Lane], zone: &Zone, frame: &Frame, x: f64, y: f64, now: i64) -> Option<Tip> {
    let n = lanes.len();
    if n == 0 {
        return None;
    }
    let lane_h = (frame.bottom - frame.top) / n as f64;
    let i = (((y - frame.top) / lane_h).floor().max(0.0) as usize).min(n - 1);
    let lane = &lanes[i];
    let at = frame.x_at(x) as i64;
    let slack = ((frame.x_to - frame.x_from) / (frame.right - frame.left).max(1.0) * 6.0) as i64;
    let span = lane.spans.iter().find(|s| at >= s.start_ms - slack && at <= s.end_ms.unwrap_or(now) + slack)?;
    let end = span.end_ms.unwrap_or(now);
    let mut rows = vec![(
        series_color(i),
        format!("{} – {}", zone.format(span.start_ms, "%H:%M"), span.end_ms.map_or("now".into(), |e| zone.format(e, "%H:%M"))),
    )];
    rows.push(("transparent".into(), format!("Duration: {}", run_length(end - span.start_ms))));
    if let Some(kwh) = span.kwh {
        rows.push(("transparent".into(), format!("Energy: {kwh:.2} kWh")));
    }
    Some(Tip {
        x: frame.x_of(((span.start_ms + end) / 2) as f64),
        y: frame.top + lane_h * i as f64,
        title: format!("{}, {}", lane.name, zone.format(span.start_ms, "%a %-d %b")),
        rows,
    })
}

#[cfg(any(feature = "hydrate", feature = "ssr"))]
mod draw {
    use super::super::plot::draw::{Drawn, Surface, color, frame, tick_label};
    use super::Lane;
    use hearth_core::range::Window;
    use hearth_core::time::Zone;
    use plotters::coord::Shift;
    use plotters::prelude::*;

    pub(super) fn lanes<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, surface: &Surface, lanes: &[Lane], window: Window, zone: &Zone, now: i64) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let px = |n: f64| surface.px(n);
        let theme = &surface.theme;
        let (from, to) = (window.from_ms, window.to_ms);
        let n = lanes.len().max(1);
        let wide = surface.wide();
        let (ticks, step) = zone.ticks(from, to, if wide { 12 } else { 5 });
        // Lanes are UNIT tall on the y axis (plotters' key points need an integer axis).
        const UNIT: i64 = 1000;
        let keys: Vec<i64> = (0..n as i64).map(|i| i * UNIT + UNIT / 2).collect();
        let font = ("sans-serif", px(12.0)).into_font().color(&theme.text);
        let mut chart = ChartBuilder::on(root)
            .margin(px(8.0))
            .margin_right(px(18.0))
            .x_label_area_size(px(26.0))
            .y_label_area_size(px(if wide { 130.0 } else { 92.0 }))
            .build_cartesian_2d((from..to).with_key_points(ticks), (0..n as i64 * UNIT).with_key_points(keys))?;
        // Lane 0 is drawn at the top.
        let name_of = |y: &i64| lanes.get(n - 1 - (*y / UNIT) as usize).map(|l| l.name.clone()).unwrap_or_default();
        chart
            .configure_mesh()
            .disable_y_mesh()
            .x_label_formatter(&|t: &i64| tick_label(zone, *t, step))
            .y_label_formatter(&name_of)
            .label_style(font)
            .axis_style(theme.axis.stroke_width(px(1.0)))
            .bold_line_style(theme.grid.stroke_width(px(1.0)))
            .light_line_style(TRANSPARENT)
            .draw()?;
        let min_width = ((to - from) as f64 / surface.width.max(1.0) * 2.0) as i64;
        for (i, lane) in lanes.iter().enumerate() {
            let y = (n - 1 - i) as i64 * UNIT;
            let c = color(i);
            chart.draw_series(lane.spans.iter().filter_map(|s| {
                let start = s.start_ms.max(from);
                let end = s.end_ms.unwrap_or(now).min(to).max(start + min_width);
                (start < to).then(|| Rectangle::new([(start, y + UNIT * 22 / 100), (end, y + UNIT * 78 / 100)], c.filled()))
            }))?;
        }
        Ok(frame(chart.plotting_area().get_pixel_range(), surface.ratio, (from as f64, to as f64), (0.0, (n as i64 * UNIT) as f64)))
    }
}
