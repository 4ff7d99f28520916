//! A room's CO2 and what it means for its air ([`Air`]), worded and coloured the same on
//! every page that shows it.

use crate::format::Air;
use leptos::prelude::*;

/// `CO2 950 ppm · stuffy: open a window`, coloured by how fresh the air is.
#[component]
pub fn Co2Note(ppm: f64, #[prop(default = "span")] tag: &'static str) -> impl IntoView {
    let air = Air::of(ppm);
    let text = format!("CO2 {ppm:.0} ppm · {}", air.words());
    match tag {
        "div" => view! { <div class=format!("sub {}", air.class()) data-co2=air.words()>{text}</div> }.into_any(),
        _ => view! { <span class=air.class() data-co2=air.words()>{text}</span> }.into_any(),
    }
}
