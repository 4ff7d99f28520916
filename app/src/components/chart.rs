//! The time-series chart: one line per sensor over a window of time, with a min–max band
//! where a point stands for many readings, breaks where a sensor was silent, ticks on round
//! local times of the house, a tooltip with the exact value and time under the pointer, and
//! drag-to-zoom.

use super::plot::{ChartCanvas, DrawFn, Frame, HoverFn, Tip, series_color};
use hearth_core::range::Window;
use hearth_core::reading::{Point, Series};
use hearth_core::time::Zone;
use leptos::prelude::*;
use std::sync::Arc;

/// How a line chart's values read.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Axis {
    /// The unit, shown on the y axis and in the tooltip.
    pub unit: &'static str,
    /// Decimals in the tooltip.
    pub decimals: usize,
    /// Whether the y axis starts at zero (power, flow) or fits the values (temperature).
    pub from_zero: bool,
}

/// A line chart of `series` over `window` in the house's `zone`; each series takes the
/// palette colour of its position (or of `colors[i]` when given).
#[component]
pub fn LineChart(
    /// The lines.
    #[prop(into)]
    series: Signal<Vec<Series>>,
    /// The span of time shown; a sliding window ends at the current time when drawn.
    #[prop(into)]
    window: Signal<Window>,
    /// The house's time zone, for the axis and the tooltip.
    #[prop(into)]
    zone: Signal<Zone>,
    /// Unit and scale.
    axis: Axis,
    /// What the chart shows, for screen readers.
    #[prop(into)]
    label: String,
    /// Called with a dragged span, in Unix milliseconds.
    #[prop(default = None)]
    on_zoom: Option<Callback<(i64, i64)>>,
    /// The palette position of the first line's colour.
    #[prop(default = 0)]
    first_color: usize,
) -> impl IntoView {
    let track = Callback::new(move |()| {
        series.track();
        window.track();
        zone.track();
    });
    let draw: DrawFn = Arc::new(move |canvas, ratio| {
        let now = hearth_core::time::now_ms();
        let w = window.get_untracked().at(now);
        #[cfg(feature = "hydrate")]
        return series.with_untracked(|s| {
            zone.with_untracked(|z| {
                super::plot::draw::on_canvas(canvas, ratio, "chart", |root, surface| draw::lines(root, surface, s, w, z, axis, first_color))
            })
        });
        #[cfg(not(feature = "hydrate"))]
        {
            let _ = (canvas, ratio, w);
            None
        }
    });
    #[cfg(feature = "ssr")]
    let first_frame = {
        let w = window.get_untracked().at(hearth_core::time::now_ms());
        series.with_untracked(|s| {
            zone.with_untracked(|z| {
                super::plot::draw::first_frame((260, 340), None, |root, surface| draw::lines(root, surface, s, w, z, axis, first_color))
            })
        })
    };
    #[cfg(not(feature = "ssr"))]
    let first_frame = String::new();
    let hover: HoverFn = Arc::new(move |frame, x, _y| {
        series.with_untracked(|s| zone.with_untracked(|z| tip_at(s, z, frame, x, axis, first_color)))
    });
    let on_zoom = on_zoom.map(|zoom| Callback::new(move |(a, b): (f64, f64)| zoom.run((a as i64, b as i64))));
    view! {
        <ChartCanvas
            track=track
            draw=StoredValue::new(draw)
            hover=StoredValue::new(hover)
            on_zoom=on_zoom
            label=label
            first_frame=first_frame
        />
    }
}

/// The tooltip at horizontal position `x`: the time under the pointer and, for each series,
/// its point nearest that time (if within a few pixels' worth of time).
fn tip_at(series: &[Series], zone: &Zone, frame: &Frame, x: f64, axis: Axis, first_color: usize) -> Option<Tip> {
    let at = frame.x_at(x);
    let reach = (frame.x_to - frame.x_from) / (frame.right - frame.left).max(1.0) * 24.0;
    let mut rows = Vec::new();
    let mut nearest_at = None::<i64>;
    let mut top = f64::INFINITY;
    for (i, s) in series.iter().enumerate() {
        let Some(p) = nearest(&s.points, at as i64) else { continue };
        if (p.at_ms as f64 - at).abs() > reach.max(p.span_ms as f64) {
            continue;
        }
        nearest_at.get_or_insert(p.at_ms);
        top = top.min(frame.y_of(p.max));
        let value = if p.max > p.min {
            format!(
                "{}: {:.d$} {u} (min {:.d$}, max {:.d$})",
                s.sensor.label(),
                p.value,
                p.min,
                p.max,
                d = axis.decimals,
                u = axis.unit
            )
        } else {
            format!("{}: {:.d$} {}", s.sensor.label(), p.value, axis.unit, d = axis.decimals)
        };
        rows.push((series_color(first_color + i), value));
    }
    let at_ms = nearest_at?;
    let span = frame.x_to - frame.x_from;
    let format = if span <= 2.0 * 3_600_000.0 { "%a %-d %b, %H:%M:%S" } else { "%a %-d %b, %H:%M" };
    Some(Tip { x: frame.x_of(at_ms as f64), y: top, title: zone.format(at_ms, format), rows })
}

/// The point of `points` (sorted by time) nearest `at_ms`.
pub fn nearest(points: &[Point], at_ms: i64) -> Option<&Point> {
    let i = points.partition_point(|p| p.at_ms < at_ms);
    let before = i.checked_sub(1).and_then(|j| points.get(j));
    let after = points.get(i);
    match (before, after) {
        (Some(b), Some(a)) => Some(if at_ms - b.at_ms <= a.at_ms - at_ms { b } else { a }),
        (b, a) => b.or(a),
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

#[cfg(any(feature = "hydrate", feature = "ssr"))]
mod draw {
    use super::super::plot::draw::{Drawn, Surface, axis_value, color, frame, tick_label, y_range};
    use super::{Axis, segments};
    use hearth_core::range::Window;
    use hearth_core::reading::Series;
    use hearth_core::time::Zone;
    use plotters::coord::Shift;
    use plotters::prelude::*;

    pub(super) fn lines<DB: DrawingBackend>(
        root: &DrawingArea<DB, Shift>,
        surface: &Surface,
        series: &[Series],
        window: Window,
        zone: &Zone,
        axis: Axis,
        first_color: usize,
    ) -> Drawn
    where
        DB::ErrorType: 'static,
    {
        let px = |n: f64| surface.px(n);
        let theme = &surface.theme;
        let (from, to) = (window.from_ms, window.to_ms);
        let visible = series.iter().flat_map(|s| {
            let start = s.points.partition_point(|p| p.at_ms < from);
            s.points[start..].iter().take_while(|p| p.at_ms <= to).flat_map(|p| [p.min, p.max])
        });
        let (y_lo, y_hi) = y_range(visible, axis.from_zero);
        let (ticks, step) = zone.ticks(from, to, if surface.wide() { 12 } else { 5 });
        let font = ("sans-serif", px(12.0)).into_font().color(&theme.text);
        let mut chart = ChartBuilder::on(root)
            .margin(px(8.0))
            .margin_right(px(18.0))
            .x_label_area_size(px(26.0))
            .y_label_area_size(px(if axis.unit.len() > 2 { 64.0 } else { 52.0 }))
            .build_cartesian_2d((from..to).with_key_points(ticks), y_lo..y_hi)?;
        let span = y_hi - y_lo;
        chart
            .configure_mesh()
            .y_labels(6)
            .x_label_formatter(&|t: &i64| tick_label(zone, *t, step))
            .y_label_formatter(&|v: &f64| axis_value(*v, span, axis.unit))
            .label_style(font.clone())
            .axis_style(theme.axis.stroke_width(px(1.0)))
            .bold_line_style(theme.grid.stroke_width(px(1.0)))
            .light_line_style(TRANSPARENT)
            .draw()?;

        for (i, s) in series.iter().enumerate() {
            let line = color(first_color + i);
            let start = s.points.partition_point(|p| p.at_ms < from);
            for segment in segments(&s.points[start..]) {
                if segment.iter().any(|p| p.max > p.min) && segment.len() > 1 {
                    let upper = segment.iter().map(|p| (p.at_ms, p.max));
                    let lower = segment.iter().rev().map(|p| (p.at_ms, p.min));
                    chart.draw_series(std::iter::once(Polygon::new(upper.chain(lower).collect::<Vec<_>>(), line.mix(0.16).filled())))?;
                }
                if segment.len() == 1 {
                    let p = segment[0];
                    chart.draw_series(std::iter::once(Circle::new((p.at_ms, p.value), px(2.5), line.filled())))?;
                } else {
                    chart.draw_series(LineSeries::new(segment.iter().map(|p| (p.at_ms, p.value)), line.stroke_width(px(2.0))))?;
                }
            }
        }
        Ok(frame(chart.plotting_area().get_pixel_range(), surface.ratio, (from as f64, to as f64), (y_lo, y_hi)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(times: &[i64]) -> Vec<Point> {
        times.iter().map(|&at_ms| Point::raw(at_ms, 1.0)).collect()
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

    #[test]
    fn the_nearest_point_wins() {
        let points = at(&[0, 10, 30]);
        assert_eq!(nearest(&points, 4).unwrap().at_ms, 0);
        assert_eq!(nearest(&points, 21).unwrap().at_ms, 30);
        assert_eq!(nearest(&points, 99).unwrap().at_ms, 30);
        assert!(nearest(&[], 5).is_none());
    }
}
