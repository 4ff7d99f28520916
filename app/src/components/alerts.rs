//! The open alerts on every page: a banner at the top while any alert is open and a count
//! beside "Alerts" in the navigation, read once the page is hydrated and kept current by the
//! live stream's alert events.

use crate::functions::alerts::list_open_alerts;
use crate::live::{LiveEvent, use_live};
use hearth_core::alert::judge::apply_changes;
use hearth_core::alert::{Alert, AlertEvent};
use leptos::prelude::*;

/// The page's open alerts, kept current by the live stream: the list read from the server
/// once the page is hydrated (and again after a resync), and the changes heard since.
#[derive(Clone, Copy)]
pub struct OpenAlerts {
    base: RwSignal<Option<Vec<Alert>>>,
    changes: RwSignal<Vec<AlertEvent>>,
    /// Increases with every alert heard on the stream, for views that list alerts.
    pub heard: RwSignal<u64>,
}

impl OpenAlerts {
    /// The open alerts now, oldest first (none until the list has been read).
    pub fn current(self) -> Vec<Alert> {
        let changes = self.changes.get();
        self.base.with(|base| base.as_deref().map(|base| apply_changes(base, &changes)).unwrap_or_default())
    }
}

/// Reads the open alerts and follows the live stream's alert events, for the banner and the
/// badge below. The list is read in the browser, so no page waits for it on the server.
pub fn provide_open_alerts() -> OpenAlerts {
    let version = RwSignal::new(0u64);
    let base = RwSignal::new(None::<Vec<Alert>>);
    let changes = RwSignal::new(Vec::<AlertEvent>::new());
    let heard = RwSignal::new(0u64);
    Effect::new(move |_| {
        version.track();
        leptos::task::spawn_local(async move {
            if let Ok(list) = list_open_alerts().await {
                base.set(Some(list));
            }
        });
    });
    use_live(move |event| match event {
        LiveEvent::Alert(change) => {
            changes.update(|c| c.push(change.clone()));
            heard.update(|h| *h += 1);
        }
        LiveEvent::Resync => {
            changes.update(Vec::clear);
            version.update(|v| *v += 1);
            heard.update(|h| *h += 1);
        }
        _ => {}
    });
    let alerts = OpenAlerts { base, changes, heard };
    provide_context(alerts);
    alerts
}

/// A banner at the top of every page while any alert is open.
#[component]
pub fn AlertBanner() -> impl IntoView {
    let alerts = use_context::<OpenAlerts>();
    move || {
        let open = alerts.map(OpenAlerts::current).unwrap_or_default();
        let count = open.len();
        let newest = open.last().map(|a| a.message.clone()).unwrap_or_default();
        (count > 0).then(|| {
            view! {
                <div class="alert-banner" aria-live="polite" data-testid="alert-banner" data-count=count.to_string()>
                    <span class="alert-dot" aria-hidden="true"></span>
                    <span class="alert-text">
                        {newest}
                        {(count > 1).then(|| view! { <span class="muted">{format!(" · and {} more", count - 1)}</span> })}
                    </span>
                    <a href="/alerts">"See alerts"</a>
                </div>
            }
        })
    }
}

/// The count of open alerts, beside the Alerts entry of the navigation bar.
#[component]
pub fn AlertBadge() -> impl IntoView {
    let alerts = use_context::<OpenAlerts>();
    move || {
        let count = alerts.map(|a| a.current().len()).unwrap_or(0);
        (count > 0).then(|| view! { <span class="alert-badge" data-testid="alert-badge" aria-label=format!("{count} open")>{count}</span> })
    }
}
