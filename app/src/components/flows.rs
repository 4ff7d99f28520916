//! The picture of where the house's energy came from and went: grid, solar and battery
//! around the house, an arrow for each flow with its amount (kWh over days, W now), drawn
//! in the browser as SVG and redrawn whenever the flows change.

use hearth_core::energy::Flows;
use leptos::prelude::*;

/// Where a node stands in the picture's 320 × 200 box.
const GRID: (f64, f64) = (50.0, 100.0);
const SOLAR: (f64, f64) = (160.0, 30.0);
const BATTERY: (f64, f64) = (160.0, 170.0);
const HOUSE: (f64, f64) = (270.0, 100.0);

/// The flows as a picture; `amount` writes one flow's figure (`1.2 kWh`, `640 W`).
#[component]
pub fn FlowPicture(
    /// The flows to draw.
    #[prop(into)]
    flows: Signal<Flows>,
    /// How a figure is written.
    amount: fn(f64) -> String,
    /// What the picture shows, for screen readers and tests.
    #[prop(into)]
    label: String,
) -> impl IntoView {
    let arrows = move || {
        let f = flows.get();
        [
            ("grid-house", GRID, HOUSE, f.grid_to_house, "var(--grid, #8a6bd1)", 0.22),
            ("solar-house", SOLAR, HOUSE, f.solar_to_house, "var(--solar, #e0a100)", 0.5),
            ("battery-house", BATTERY, HOUSE, f.battery_to_house, "var(--battery, #2a9d6f)", 0.5),
            ("solar-grid", SOLAR, GRID, f.solar_to_grid, "var(--solar, #e0a100)", 0.5),
            ("solar-battery", SOLAR, BATTERY, f.solar_to_battery, "var(--solar, #e0a100)", 0.2),
            ("grid-battery", GRID, BATTERY, f.grid_to_battery, "var(--grid, #8a6bd1)", 0.5),
            ("battery-grid", BATTERY, GRID, f.battery_to_grid, "var(--battery, #2a9d6f)", 0.5),
        ]
        .into_iter()
        .filter(|a| a.3 > 1e-6)
        .map(|(id, from, to, value, color, at)| {
            // Stop short of the nodes' circles.
            let (dx, dy) = (to.0 - from.0, to.1 - from.1);
            let len = (dx * dx + dy * dy).sqrt().max(1.0);
            let (ux, uy) = (dx / len, dy / len);
            let (x1, y1, x2, y2) = (from.0 + ux * 26.0, from.1 + uy * 26.0, to.0 - ux * 30.0, to.1 - uy * 30.0);
            // The figure sits beside its arrow, at a point of its own so that figures of
            // crossing arrows stay apart.
            let (mx, my) = (x1 + (x2 - x1) * at - uy * 12.0, y1 + (y2 - y1) * at + ux * 12.0 + 4.0);
            view! {
                <g class="flow" data-flow=id data-value=format!("{value:.6}")>
                    <line x1=x1 y1=y1 x2=x2 y2=y2 stroke=color stroke-width=(1.5 + value.log10().max(-1.0) + 1.0).clamp(1.5, 5.0) marker-end="url(#arrow)" />
                    <text x=mx y=my text-anchor="middle">{amount(value)}</text>
                </g>
            }
        })
        .collect_view()
    };
    let node = |(x, y): (f64, f64), name: &'static str, icon: &'static str| {
        let name_y = if y > 150.0 { y + 38.0 } else if y < 50.0 { y - 30.0 } else { y + 40.0 };
        view! {
            <g class="node" data-node=name>
                <circle cx=x cy=y r="24" />
                <text x=x y=y + 5.0 text-anchor="middle" class="icon">{icon}</text>
                <text x=x y=name_y text-anchor="middle" class="name">{name}</text>
            </g>
        }
    };
    view! {
        <svg class="flows" viewBox="0 0 320 225" role="img" aria-label=label>
            <defs>
                <marker id="arrow" viewBox="0 0 10 10" refX="8" refY="5" markerWidth="5" markerHeight="5" orient="auto-start-reverse">
                    <path d="M 0 0 L 10 5 L 0 10 z" fill="currentColor" />
                </marker>
            </defs>
            {node(GRID, "Grid", "⚡")}
            {node(SOLAR, "Solar", "☀")}
            {node(BATTERY, "Battery", "▮")}
            {node(HOUSE, "House", "⌂")}
            {arrows}
        </svg>
    }
}
