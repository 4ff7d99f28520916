#![recursion_limit = "512"]
//! The browser entry point: hydrates the server-rendered page.

use wasm_bindgen::prelude::wasm_bindgen;

/// Called by the page's loader script once the WASM module is ready.
#[wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(hearth_app::App);
}
