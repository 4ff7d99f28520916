//! Hearth's web app: the pages ([`routes`]) and widgets ([`components`]) Leptos renders on the
//! server and hydrates in the browser, and the thin server functions ([`functions`]) they
//! call, which ask the store.
//!
//! The end of the data path: the server fans each stored reading out on the live stream, and
//! [`live`] feeds it into the signals that [`components::chart`] draws.
//!
//! It depends on `hearth-core` always and, on the server (`ssr`), on `hearth-store`; never on
//! the server crate. In the browser (`hydrate`) it draws with plotters on a canvas.

pub mod components;
#[cfg(feature = "ssr")]
pub mod context;
pub mod error;
pub mod format;
pub mod functions;
pub mod live;
pub mod routes;
#[cfg(feature = "ssr")]
pub mod session;

use leptos::prelude::*;
use leptos_meta::{HashedStylesheet, Link, MetaTags, Title, provide_meta_context};
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::{SsrMode, path};

/// The HTML document around the app, rendered on the server, with its Content-Security-Policy.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    content_security_policy();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <AutoReload options=options.clone() />
                <HashedStylesheet id="leptos" options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// Sets the page's Content-Security-Policy: scripts, styles and connections from Hearth
/// itself only, inline scripts only with this response's nonce (Leptos puts it on the
/// hydration scripts it writes), WebAssembly compiled, no framing. Style attributes are
/// allowed (`style-src-attr`), not `<style>` elements: the widths of Electricity's bars are
/// data, rendered on the server.
#[cfg(feature = "ssr")]
fn content_security_policy() {
    let (Some(nonce), Some(response)) = (leptos::nonce::use_nonce(), use_context::<leptos_axum::ResponseOptions>()) else {
        return;
    };
    let policy = format!(
        "default-src 'self'; script-src 'self' 'nonce-{nonce}' 'wasm-unsafe-eval'; style-src 'self'; \
         style-src-attr 'unsafe-inline'; img-src 'self'; \
         connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    );
    if let Ok(value) = http::HeaderValue::from_str(&policy) {
        response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
    }
}

/// The views, in the order of the navigation bar: path and title.
pub const VIEWS: [(&str, &str); 8] = [
    ("/", "Overview"),
    ("/temperature", "Temperature"),
    ("/energy", "Electricity"),
    ("/appliances", "Appliances"),
    ("/water", "Water"),
    ("/devices", "Devices"),
    ("/alerts", "Alerts"),
    ("/tariffs", "Tariffs"),
];

/// The app: the navigation bar, the live stream's state, and the routed page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    let live = live::provide_live();
    components::alerts::provide_open_alerts();
    // Set once the page is hydrated: tests wait for it before they type into forms.
    let hydrated = RwSignal::new(false);
    Effect::new(move |_| hydrated.set(true));
    view! {
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml" />
        <Title text="Hearth" />
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">
                    <img src="/favicon.svg" alt="" width="24" height="24" />
                    <span>"Hearth"</span>
                </A>
                <nav class="views" aria-label="Views">
                    {VIEWS.into_iter().map(|(path, title)| view! {
                        <A href=path exact=true>{title}{(path == "/alerts").then(|| view! { <components::alerts::AlertBadge /> })}</A>
                    }).collect_view()}
                </nav>
                <div class="live" data-live=move || live.status.get().as_str() title="Live updates">
                    <span class="dot"></span>
                    <span class="live-text">{move || if live.status.get() == live::LiveStatus::Open { "Live" } else { "Connecting…" }}</span>
                </div>
                <components::account_menu::AccountMenu />
            </header>
            <components::alerts::AlertBanner />
            <main data-hydrated=move || hydrated.get().to_string()>
                // Pages are sent whole, once their data is read: each chart's first frame is in
                // place in the HTML, and a page's ETag is the same while it does not change.
                <Routes fallback=|| view! { <p class="empty">"This page does not exist."</p> }>
                    <Route path=path!("/") ssr=SsrMode::Async view=routes::overview::OverviewPage />
                    <Route path=path!("/temperature") ssr=SsrMode::Async view=routes::temperature::TemperaturePage />
                    <Route path=path!("/energy") ssr=SsrMode::Async view=routes::energy::EnergyPage />
                    <Route path=path!("/appliances") ssr=SsrMode::Async view=routes::appliances::AppliancesPage />
                    <Route path=path!("/water") ssr=SsrMode::Async view=routes::water::WaterPage />
                    <Route path=path!("/devices") ssr=SsrMode::Async view=routes::devices::DevicesPage />
                    <Route path=path!("/alerts") ssr=SsrMode::Async view=routes::alerts::AlertsPage />
                    <Route path=path!("/login") ssr=SsrMode::Async view=routes::login::LoginPage />
                    <Route path=path!("/setup") ssr=SsrMode::Async view=routes::login::SetupPage />
                    <Route path=path!("/sharing") ssr=SsrMode::Async view=routes::sharing::SharingPage />
                    <Route path=path!("/tariffs") ssr=SsrMode::Async view=routes::tariffs::TariffsPage />
                </Routes>
            </main>
        </Router>
    }
}
