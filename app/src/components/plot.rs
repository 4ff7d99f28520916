//! What every chart shares: a `<canvas>` sized for the screen's pixel density and redrawn at
//! most once per animation frame, a tooltip that follows the pointer, dragging a span to zoom,
//! the palette and the light and dark themes. The charts themselves ([`super::chart`],
//! [`super::bars`], [`super::timeline`]) only draw, and say what lies under the pointer.

use leptos::html::Canvas;
use leptos::prelude::*;
use std::sync::Arc;

/// Series colours, assigned in order; legends use the same ones.
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

/// The classes of a swatch in the `i`-th series' colour (`style/main.css` gives each its
/// colour), for what the server renders: the Content-Security-Policy refuses inline styles.
pub fn swatch_class(i: usize) -> String {
    format!("swatch c{}", i % PALETTE.len())
}

/// Where a drawing put its data, in CSS pixels of the canvas: enough to turn a pointer
/// position back into a time and a value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Frame {
    /// Left edge of the plotting area.
    pub left: f64,
    /// Right edge of the plotting area.
    pub right: f64,
    /// Top edge of the plotting area.
    pub top: f64,
    /// Bottom edge of the plotting area.
    pub bottom: f64,
    /// The x value at the left edge (a time in Unix ms, or a bar index).
    pub x_from: f64,
    /// The x value at the right edge.
    pub x_to: f64,
    /// The y value at the bottom edge.
    pub y_lo: f64,
    /// The y value at the top edge.
    pub y_hi: f64,
}

impl Frame {
    /// The x value at horizontal position `x` (clamped to the plotting area).
    pub fn x_at(&self, x: f64) -> f64 {
        let t = ((x - self.left) / (self.right - self.left).max(1.0)).clamp(0.0, 1.0);
        self.x_from + t * (self.x_to - self.x_from)
    }

    /// The horizontal position of x value `v`.
    pub fn x_of(&self, v: f64) -> f64 {
        self.left + (v - self.x_from) / (self.x_to - self.x_from).max(f64::MIN_POSITIVE) * (self.right - self.left)
    }

    /// The vertical position of y value `v`.
    pub fn y_of(&self, v: f64) -> f64 {
        self.bottom - (v - self.y_lo) / (self.y_hi - self.y_lo).max(f64::MIN_POSITIVE) * (self.bottom - self.top)
    }

    /// Whether `(x, y)` is inside the plotting area, with `slack` pixels around it.
    pub fn contains(&self, x: f64, y: f64, slack: f64) -> bool {
        x >= self.left - slack && x <= self.right + slack && y >= self.top - slack && y <= self.bottom + slack
    }
}

/// What the tooltip shows: a heading (usually a time) and one line per series.
#[derive(Clone, Debug, PartialEq)]
pub struct Tip {
    /// Where it points, in CSS pixels of the canvas.
    pub x: f64,
    /// Its vertical anchor.
    pub y: f64,
    /// The heading.
    pub title: String,
    /// Rows: a colour (CSS) and a text.
    pub rows: Vec<(String, String)>,
}

/// Draws a chart on a canvas whose backing store already matches its CSS size times `ratio`;
/// returns where the data went, or `None` when nothing was drawn.
pub type DrawFn = Arc<dyn Fn(&leptos::web_sys::HtmlCanvasElement, f64) -> Option<Frame> + Send + Sync>;

/// What lies under the pointer at `(x, y)` of a chart drawn in `frame`.
pub type HoverFn = Arc<dyn Fn(&Frame, f64, f64) -> Option<Tip> + Send + Sync>;

/// A canvas that redraws with `draw` whenever `track` changes or the window is resized, shows
/// `hover`'s tooltip under the pointer and, given `on_zoom`, lets a person drag across it to
/// pick a span (x values of the drawing, such as times).
#[component]
pub fn ChartCanvas(
    /// Called inside the redraw effect: reads the signals the drawing depends on.
    track: Callback<()>,
    /// The drawing.
    draw: StoredValue<DrawFn>,
    /// What lies under the pointer.
    hover: StoredValue<HoverFn>,
    /// Called with the x values of a dragged span; without it, dragging does nothing.
    #[prop(default = None)]
    on_zoom: Option<Callback<(f64, f64)>>,
    /// What the chart shows, for screen readers.
    #[prop(into)]
    label: String,
    /// Extra CSS class of the wrapper (its height comes from CSS).
    #[prop(optional, into)]
    class: String,
    /// The chart drawn on the server (SVG, see [`draw::first_frame`]): shown under the canvas
    /// until the canvas has drawn the same, then hidden. Empty in the browser, which keeps
    /// what the server sent.
    #[prop(optional, into)]
    first_frame: String,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let first = NodeRef::<leptos::html::Div>::new();
    let frame = RwSignal::new(None::<Frame>);
    let tip = RwSignal::new(None::<Tip>);
    let drag = RwSignal::new(None::<(f64, f64)>);
    #[cfg(not(feature = "hydrate"))]
    let _ = (track, draw, first);
    #[cfg(feature = "hydrate")]
    {
        let resized = RwSignal::new(0u32);
        let handle = window_event_listener(leptos::ev::resize, move |_| resized.update(|n| *n += 1));
        on_cleanup(move || handle.remove());
        let frame_pending = StoredValue::new(false);
        Effect::new(move |_| {
            track.run(());
            resized.track();
            if canvas.get().is_none() || frame_pending.get_value() {
                return;
            }
            frame_pending.set_value(true);
            request_animation_frame(move || {
                frame_pending.set_value(false);
                let Some(canvas) = canvas.get_untracked() else { return };
                let ratio = web_sys::window().map_or(1.0, |w| w.device_pixel_ratio()).max(1.0);
                let (w, h) = (canvas.client_width().max(1), canvas.client_height().max(1));
                canvas.set_width((f64::from(w) * ratio) as u32);
                canvas.set_height((f64::from(h) * ratio) as u32);
                let drawn = draw.with_value(|draw| draw(&canvas, ratio));
                if drawn.is_some()
                    && let Some(first) = first.get_untracked()
                {
                    first.set_hidden(true);
                }
                frame.set(drawn);
                tip.set(None);
            });
        });
    }
    let point = move |ev: &leptos::ev::PointerEvent| (f64::from(ev.offset_x()), f64::from(ev.offset_y()));
    let on_move = move |ev: leptos::ev::PointerEvent| {
        let (x, y) = point(&ev);
        if let Some((start, _)) = drag.get_untracked() {
            drag.set(Some((start, x)));
            tip.set(None);
            return;
        }
        let Some(f) = frame.get_untracked() else { return };
        let shown = if f.contains(x, y, 4.0) { hover.with_value(|hover| hover(&f, x, y)) } else { None };
        tip.set(shown);
    };
    let on_down = move |ev: leptos::ev::PointerEvent| {
        let (x, y) = point(&ev);
        let inside = frame.get_untracked().is_some_and(|f| f.contains(x, y, 0.0));
        if on_zoom.is_some() && inside && ev.is_primary() && ev.button() == 0 {
            drag.set(Some((x, x)));
        }
    };
    let on_up = move |_: leptos::ev::PointerEvent| {
        let Some((a, b)) = drag.get_untracked() else { return };
        drag.set(None);
        if let (Some(zoom), Some(f)) = (on_zoom, frame.get_untracked())
            && (a - b).abs() >= 12.0
        {
            let (x0, x1) = (f.x_at(a.min(b)), f.x_at(a.max(b)));
            zoom.run((x0, x1));
        }
    };
    let selection = move || {
        drag.get().filter(|(a, b)| (a - b).abs() >= 2.0).map(|(a, b)| {
            let (top, height) = frame.get().map_or((0.0, 0.0), |f| (f.top, f.bottom - f.top));
            view! {
                <div
                    class="selection"
                    style:left=format!("{}px", a.min(b))
                    style:width=format!("{}px", (a - b).abs())
                    style:top=format!("{top}px")
                    style:height=format!("{height}px")
                ></div>
            }
        })
    };
    let tooltip = move || {
        tip.get().map(|t| {
            let (top, height) = frame.get().map_or((0.0, 0.0), |f| (f.top, f.bottom - f.top));
            let flip = frame.get().is_some_and(|f| t.x > (f.left + f.right) / 2.0);
            view! {
                <div class="guide" style:left=format!("{}px", t.x) style:top=format!("{top}px") style:height=format!("{height}px")></div>
                <div
                    class="tip"
                    class:flip=flip
                    role="status"
                    style:left=format!("{}px", t.x)
                    style:top=format!("{}px", t.y.max(top))
                >
                    <div class="tip-title">{t.title}</div>
                    {t.rows.into_iter().map(|(color, text)| view! {
                        <div class="tip-row"><span class="swatch" style:background=color></span>{text}</div>
                    }).collect_view()}
                </div>
            }
        })
    };
    view! {
        <div class=format!("chart {class}") class:zoomable=on_zoom.is_some()>
            <div class="first-frame" node_ref=first inner_html=first_frame></div>
            <canvas
                node_ref=canvas
                role="img"
                aria-label=label
                on:pointermove=on_move
                on:pointerdown=on_down
                on:pointerup=on_up
                on:pointerleave=move |_| {
                    tip.set(None);
                    drag.set(None);
                }
            ></canvas>
            {selection}
            {tooltip}
        </div>
    }
}

#[cfg(any(feature = "hydrate", feature = "ssr"))]
pub mod draw {
    //! Drawing helpers shared by the charts, for any plotters backend: the canvas in the
    //! browser, SVG on the server (a chart's first frame).

    use super::Frame;
    use hearth_core::time::{DAY_MS, Zone};
    use plotters::prelude::*;

    /// Drawing colours for the page's colour scheme.
    pub struct Theme {
        /// Labels.
        pub text: RGBColor,
        /// Axis lines.
        pub axis: RGBColor,
        /// Grid lines.
        pub grid: RGBColor,
        /// The background, for bars that must stand out from it.
        pub background: RGBColor,
    }

    /// The light scheme's colours (the server's drawings are in these; the stylesheet recolours
    /// them for a dark scheme).
    pub const LIGHT: Theme = Theme {
        text: RGBColor(60, 64, 72),
        axis: RGBColor(150, 154, 162),
        grid: RGBColor(232, 234, 238),
        background: RGBColor(255, 255, 255),
    };

    /// The dark scheme's colours.
    pub const DARK: Theme = Theme {
        text: RGBColor(200, 204, 212),
        axis: RGBColor(120, 126, 138),
        grid: RGBColor(52, 56, 64),
        background: RGBColor(29, 32, 37),
    };

    /// What a drawing is drawn on: its width in CSS pixels, device pixels per CSS pixel, and
    /// the colours.
    pub struct Surface {
        /// Width in CSS pixels.
        pub width: f64,
        /// Device pixels per CSS pixel.
        pub ratio: f64,
        /// The colours.
        pub theme: Theme,
    }

    impl Surface {
        /// `n` CSS pixels in device pixels.
        pub fn px(&self, n: f64) -> u32 {
            (n * self.ratio) as u32
        }

        /// Whether there is room for a wide chart's labels.
        pub fn wide(&self) -> bool {
            self.width > 600.0
        }
    }

    /// The result of drawing: where the data went, or what stopped it.
    pub type Drawn = Result<Frame, Box<dyn std::error::Error>>;

    /// The palette's `i`-th colour.
    pub fn color(i: usize) -> RGBColor {
        let (r, g, b) = super::PALETTE[i % super::PALETTE.len()];
        RGBColor(r, g, b)
    }

    /// The frame of a chart's plotting area, in CSS pixels.
    pub fn frame(pixels: (std::ops::Range<i32>, std::ops::Range<i32>), ratio: f64, x: (f64, f64), y: (f64, f64)) -> Frame {
        let (xs, ys) = pixels;
        Frame {
            left: f64::from(xs.start) / ratio,
            right: f64::from(xs.end) / ratio,
            top: f64::from(ys.start) / ratio,
            bottom: f64::from(ys.end) / ratio,
            x_from: x.0,
            x_to: x.1,
            y_lo: y.0,
            y_hi: y.1,
        }
    }

    /// A y range that holds every value with some air, from 0 when `from_zero`.
    pub fn y_range(values: impl Iterator<Item = f64>, from_zero: bool) -> (f64, f64) {
        let (lo, hi) = values.filter(|v| v.is_finite()).fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
        if !lo.is_finite() {
            return if from_zero { (0.0, 1.0) } else { (0.0, 10.0) };
        }
        if from_zero {
            let hi = hi.max(0.0);
            return (lo.min(0.0), if hi > 0.0 { hi * 1.12 } else { 1.0 });
        }
        let pad = ((hi - lo) * 0.12).max(0.5);
        ((lo - pad).floor(), (hi + pad).ceil())
    }

    /// How an axis tick at `at_ms` reads, for ticks `step_ms` apart.
    pub fn tick_label(zone: &Zone, at_ms: i64, step_ms: i64) -> String {
        if step_ms >= 7 * DAY_MS {
            zone.format(at_ms, "%-d %b")
        } else if step_ms >= DAY_MS {
            zone.format(at_ms, "%a %-d")
        } else if zone.format(at_ms, "%H:%M") == "00:00" {
            zone.format(at_ms, "%a %-d")
        } else {
            zone.format(at_ms, "%H:%M")
        }
    }

    /// A value with its unit, with no more decimals than it has (up to as many as `span`,
    /// the axis range, can need).
    pub fn axis_value(v: f64, span: f64, unit: &str) -> String {
        let most = if span < 2.0 { 2 } else if span < 20.0 { 1 } else { 0 };
        let decimals = (0..most).find(|d| {
            let scale = 10f64.powi(*d as i32);
            ((v * scale).round() - v * scale).abs() < 1e-6
        });
        let decimals = decimals.unwrap_or(most);
        let v = if v.abs() < 1e-9 { 0.0 } else { v };
        if unit.is_empty() { format!("{v:.decimals$}") } else { format!("{v:.decimals$} {unit}") }
    }

    #[cfg(feature = "hydrate")]
    pub use canvas::{on_canvas, theme};

    #[cfg(feature = "hydrate")]
    mod canvas {
        use super::{DARK, Drawn, LIGHT, Surface, Theme};
        use plotters::coord::Shift;
        use plotters::prelude::*;
        use plotters_canvas::CanvasBackend;

        /// The theme of the page's colour scheme (`prefers-color-scheme`).
        pub fn theme() -> Theme {
            let dark = web_sys::window()
                .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
                .is_some_and(|m| m.matches());
            if dark { DARK } else { LIGHT }
        }

        /// Draws on `canvas` (whose backing store matches its CSS size times `ratio`) with
        /// `render`; where the data went, or `None` (with a warning naming `what`) when
        /// nothing was drawn.
        pub fn on_canvas(
            canvas: &web_sys::HtmlCanvasElement,
            ratio: f64,
            what: &str,
            render: impl FnOnce(&DrawingArea<CanvasBackend, Shift>, &Surface) -> Drawn,
        ) -> Option<super::Frame> {
            let Some(root) = CanvasBackend::with_canvas_object(canvas.clone()).map(|b| b.into_drawing_area()) else {
                leptos::logging::warn!("{what} not drawn: no 2D context");
                return None;
            };
            let surface = Surface { width: f64::from(canvas.client_width()), ratio, theme: theme() };
            match render(&root, &surface).and_then(|frame| root.present().map(|()| frame).map_err(Into::into)) {
                Ok(frame) => Some(frame),
                Err(e) => {
                    leptos::logging::warn!("{what} not drawn: {e}");
                    None
                }
            }
        }
    }

    #[cfg(feature = "ssr")]
    pub use svg::first_frame;

    #[cfg(feature = "ssr")]
    mod svg {
        use super::{Drawn, LIGHT, Surface};
        use plotters::coord::Shift;
        use plotters::prelude::*;

        /// The sizes a chart's first frame is drawn at on the server, which cannot know the
        /// browser's: a phone's (up to 600 CSS pixels wide) and a wider screen's. The
        /// stylesheet shows the one that fits and stretches it to the chart's width.
        const SIZES: [(&str, f64); 2] = [("narrow", 338.0), ("wide", 1158.0)];

        /// A chart's first frame as HTML: `render` drawn in SVG at each size (`heights` in CSS
        /// pixels, narrow then wide; `wide_width` for a chart narrower than the page on a
        /// wide screen), each stretched to the chart's box. Empty if nothing could be drawn.
        pub fn first_frame(heights: (u32, u32), wide_width: Option<f64>, render: impl Fn(&DrawingArea<SVGBackend, Shift>, &Surface) -> Drawn) -> String {
            let mut html = String::new();
            for ((class, width), height) in SIZES.into_iter().zip([heights.0, heights.1]) {
                let width = if class == "wide" { wide_width.unwrap_or(width) } else { width };
                let mut svg = String::new();
                let drawn = {
                    let root = SVGBackend::with_string(&mut svg, (width as u32, height)).into_drawing_area();
                    let surface = Surface { width, ratio: 1.0, theme: LIGHT };
                    render(&root, &surface).and_then(|_| root.present().map_err(Into::into))
                };
                if let Err(e) = drawn {
                    tracing::warn!(error = %e, "a chart's first frame was not drawn");
                    return String::new();
                }
                let Some(body) = svg.find('>').map(|end| font_sizes(&svg[end + 1..])) else { return String::new() };
                html.push_str(&format!(
                    r#"<svg class="{class}" viewBox="0 0 {w} {height}" preserveAspectRatio="none" aria-hidden="true" xmlns="http://www.w3.org/2000/svg">{body}"#,
                    w = width as u32,
                ));
            }
            html
        }

        /// plotters' SVG backend writes font sizes divided by 1.24; the canvas uses them as
        /// given. Put them back, so both show the same text.
        fn font_sizes(svg: &str) -> String {
            const ATTRIBUTE: &str = "font-size=\"";
            let mut out = String::with_capacity(svg.len());
            let mut rest = svg;
            while let Some(at) = rest.find(ATTRIBUTE) {
                let start = at + ATTRIBUTE.len();
                out.push_str(&rest[..start]);
                let len = rest[start..].find('"').unwrap_or(0);
                match rest[start..start + len].parse::<f64>() {
                    Ok(size) => out.push_str(&format!("{}", (size * 1.24 * 100.0).round() / 100.0)),
                    Err(_) => out.push_str(&rest[start..start + len]),
                }
                rest = &rest[start + len..];
            }
            out.push_str(rest);
            out
        }

        #[cfg(test)]
        mod tests {
            #[test]
            fn font_sizes_are_the_canvas_ones() {
                let svg = r#"<text font-size="9.67741935483871" fill="x">a</text><text font-size="bad">b</text>"#;
                assert_eq!(super::font_sizes(svg), r#"<text font-size="12" fill="x">a</text><text font-size="bad">b</text>"#);
            }
        }
    }
}
