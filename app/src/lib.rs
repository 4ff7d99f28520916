//! Hearth's web app, shared by the server (rendering, server functions, storage) and the
//! browser (hydration, live charts).
//!
//! The data path: a device posts readings (`server`'s ingest), [`reading::ssr::store`] commits
//! them and merges them into the [`rollup`]s, the server broadcasts each stored one, and
//! [`live`] feeds them into the signals that [`components::chart`] draws.

pub mod components;
pub mod device;
pub mod live;
pub mod mqtt;
pub mod reading;
pub mod rollup;
pub mod routes;
pub mod sensor;
#[cfg(feature = "ssr")]
pub mod store;
pub mod time;

use leptos::prelude::*;
use leptos_meta::{Link, MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{A, Route, Router, Routes};
use leptos_router::path;

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The app: a header and the routed page.
#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/hearth.css" />
        <Link rel="icon" href="/favicon.svg" type_="image/svg+xml" />
        <Title text="Hearth" />
        <Router>
            <header class="topbar">
                <A href="/" attr:class="brand">
                    <img src="/favicon.svg" alt="" width="24" height="24" />
                    "Hearth"
                </A>
            </header>
            <main>
                <Routes fallback=|| view! { <p class="empty">"This page does not exist."</p> }>
                    <Route path=path!("/") view=routes::dashboard::Dashboard />
                    <Route path=path!("/mqtt") view=components::mqtt::MqttPanel />
                </Routes>
            </main>
        </Router>
    }
}
