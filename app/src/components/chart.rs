//! The time-series chart: lines drawn in the browser by plotters on a `<canvas>`, redrawn at
//! most once per animation frame when its series change or the window is resized.

use crate::reading::{Point, Series};
use leptos::html::Canvas;
use leptos::prelude::*;

/// Line colours, assigned to series in order; the legend uses the same ones.
pub const PALETTE: [(u8, u8, u8); 8] = [
    (230, 97, 1),
    (33, 102, 172),
    (26, 152, 80),
    (152, 78, 163),
    (215, 48, 39),
    (0, 150, 160),
    (191, 129, 45),
    (102, 102, 102),
];

/// CSS colour of the `i`-th series.
pub fn series_color(i: usize) -> String {
    let (r, g, b) = PALETTE[i % PALETTE.len()];
    format!("rgb({r}, {g}, {b})")
}

/// A line chart of `series` over the last `window_ms` milliseconds, its y axis labelled with
/// `unit`. The canvas fills its container's width.
#[component]
pub fn TimeChart(
    /// The series to draw, one line each, coloured by [`series_color`] of their position.
    #[prop(into)]
    series: Signal<Vec<Series>>,
    /// The unit of the values, shown on the y axis.
    unit: &'static str,
    /// How far back the x axis reaches, ending now.
    window_ms: i64,
    /// What the chart shows, for screen readers.
    #[prop(into)]
    label: String,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    #[cfg(feature = "hydrate")]
    {
        let resized = RwSignal::new(0u32);
        let handle = window_event_listener(leptos::ev::resize, move |_| resized.update(|n| *n += 1));
        on_cleanup(move || handle.remove());
        let frame_pending = StoredValue::new(false);
        Effect::new(move |_| {
            series.track();
            resized.track();
            if canvas.get().is_none() || frame_pending.get_value() {
                return;
            }
            frame_pending.set_value(true);
            request_animation_frame(move || {
                frame_pending.set_value(false);
                if let Some(canvas) = canvas.get_untracked() {
                    series.with_untracked(|series| draw::draw(&canvas, series, unit, window_ms));
                }
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (series, unit, window_ms);
    view! {
        <div class="chart">
            <canvas node_ref=canvas role="img" aria-label=label></canvas>
        </div>
    }
}

/// Splits a series where the sensor was silent for more than three times its usual
/// interval, so the line breaks there instead of inventing values.
pub fn segments(points: &[Point]) -> Vec<&[Point]> {
    if points.len() < 3 {
        return vec![points];
    }
    let mut gaps: Vec<i64> = points.windows(2).map(|w| w[1].at_ms - w[0].at_ms).collect();
    let middle = gaps.len() / 2;
    let usual = *gaps.select_nth_unstable(middle).1;
    let limit = usual.saturating_mul(3);
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..points.len() {
        if points[i].at_ms - points[i - 1].at_ms > limit {
            out.push(&points[start..i]);
            start = i;
        }
    }
    out.push(&points[start..]);
    out
}

#[cfg(feature = "hydrate")]
mod draw {
    use super::{PALETTE, segments};
    use crate::reading::Series;
    use chrono::{DateTime, Local, TimeZone};
    use plotters::prelude::*;
    use plotters_canvas::CanvasBackend;
    use web_sys::HtmlCanvasElement;

    /// Drawing colours for the page's colour scheme.
    struct Theme {
        text: RGBColor,
        axis: RGBColor,
        grid: RGBColor,
    }

    fn theme() -> Theme {
        let dark = web_sys::window()
            .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
            .is_some_and(|m| m.matches());
        if dark {
            Theme { text: RGBColor(200, 204, 212), axis: RGBColor(120, 126, 138), grid: RGBColor(52, 56, 64) }
        } else {
            Theme { text: RGBColor(60, 64, 72), axis: RGBColor(150, 154, 162), grid: RGBColor(232, 234, 238) }
        }
    }

    fn local(ms: i64) -> DateTime<Local> {
        Local.timestamp_millis_opt(ms).single().unwrap_or_else(|| Local.timestamp_millis_opt(0).unwrap())
    }

    pub(super) fn draw(canvas: &HtmlCanvasElement, series: &[Series], unit: &str, window_ms: i64) {
        let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0);
        let (css_w, css_h) = (canvas.client_width().max(1), canvas.client_height().max(1));
        canvas.set_width((f64::from(css_w) * ratio) as u32);
        canvas.set_height((f64::from(css_h) * ratio) as u32);
        if let Err(e) = render(canvas, series, unit, window_ms, ratio) {
            leptos::logging::warn!("chart not drawn: {e}");
        }
    }

    fn render(
        canvas: &HtmlCanvasElement,
        series: &[Series],
        unit: &str,
        window_ms: i64,
        ratio: f64,
    ) -> Result<(), Box<dyn std::error::Error>> {
        let px = |n: f64| (n * ratio) as u32;
        let theme = theme();
        let backend = CanvasBackend::with_canvas_object(canvas.clone()).ok_or("no 2D context")?;
        let root = backend.into_drawing_area();

        let to = js_sys::Date::now() as i64;
        let from = to - window_ms;
        let visible = |s: &Series| s.points.iter().filter(|p| p.at_ms >= from).map(|p| p.value).collect::<Vec<_>>();
        let values: Vec<f64> = series.iter().flat_map(visible).collect();
        let (lo, hi) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(*v), hi.max(*v)));
        let (lo, hi) = if lo.is_finite() { (lo, hi) } else { (15.0, 25.0) };
        let pad = ((hi - lo) * 0.1).max(0.5);
        let (y_lo, y_hi) = ((lo - pad).floor(), (hi + pad).ceil());

        let font = ("sans-serif", px(12.0)).into_font().color(&theme.text);
        let mut chart = ChartBuilder::on(&root)
            .margin(px(8.0))
            .margin_right(px(16.0))
            .x_label_area_size(px(28.0))
            .y_label_area_size(px(44.0))
            .build_cartesian_2d(local(from)..local(to), y_lo..y_hi)?;
        let wide = canvas.client_width() > 600;
        chart
            .configure_mesh()
            .x_labels(if wide { 12 } else { 5 })
            .y_labels(6)
            .x_label_formatter(&|t: &DateTime<Local>| t.format("%H:%M").to_string())
            .y_label_formatter(&|v: &f64| format!("{v:.0} {unit}"))
            .label_style(font.clone())
            .axis_style(theme.axis.stroke_width(px(1.0)))
            .bold_line_style(theme.grid.stroke_width(px(1.0)))
            .light_line_style(TRANSPARENT)
            .draw()?;

        for (i, s) in series.iter().enumerate() {
            let (r, g, b) = PALETTE[i % PALETTE.len()];
            let color = RGBColor(r, g, b);
            let start = s.points.partition_point(|p| p.at_ms < from);
            for segment in segments(&s.points[start..]) {
                let line = segment.iter().map(|p| (local(p.at_ms), p.value));
                if segment.len() == 1 {
                    let p = segment[0];
                    chart.draw_series(std::iter::once(Circle::new((local(p.at_ms), p.value), px(2.5), color.filled())))?;
                } else {
                    chart.draw_series(LineSeries::new(line, color.stroke_width(px(2.0))))?;
                }
            }
        }
        root.present()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(times: &[i64]) -> Vec<Point> {
        times.iter().map(|&at_ms| Point { at_ms, value: 1.0 }).collect()
    }

    #[test]
    fn a_silence_longer_than_three_usual_intervals_breaks_the_line() {
        let points = at(&[0, 10, 20, 30, 100, 110, 120]);
        let lens: Vec<_> = segments(&points).iter().map(|s| s.len()).collect();
        assert_eq!(lens, [4, 3]);
    }

    #[test]
    fn a_steady_series_is_one_line() {
        let points = at(&[0, 10, 21, 30, 39, 50]);
        assert_eq!(segments(&points).len(), 1);
    }
}
