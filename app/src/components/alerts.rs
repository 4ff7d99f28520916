//! The open alerts on every page: a banner at the top while any alert is open and a count
//! beside "Alerts" in the navigation. The list is read while the page is rendered on the
//! server, so the banner is in the HTML from the first byte (nothing moves when the page
//! hydrates), and the live stream's alert events keep it current.

use crate::error::AppResult;
use crate::functions::alerts::list_open_alerts;
use crate::live::{LiveEvent, use_live};
use hearth_core::alert::judge::apply_changes;
use hearth_core::alert::{Alert, AlertEvent};
use leptos::prelude::*;

/// The page's open alerts, kept current by the live stream: the list read with the page (and
/// again after a resync), and the changes heard since.
#[derive(Clone, Copy)]
pub struct OpenAlerts {
    listed: Resource<AppResult<Vec<Alert>>>,
    changes: RwSignal<Vec<AlertEvent>>,
    /// Increases with every alert heard on the stream, for views that list alerts.
    pub heard: RwSignal<u64>,
}

impl OpenAlerts {
    /// The open alerts now, oldest first (none while the list is being read, or when this
    /// session may not read it).
    pub fn current(self) -> Vec<Alert> {
        let changes = self.changes.get();
        self.listed.with(|listed| match listed {
            Some(Ok(base)) => apply_changes(base, &changes),
            _ => Vec::new(),
        })
    }
}

/// Reads the open alerts with the page and follows the live stream's alert events, for the
/// banner and the badge below.
pub fn provide_open_alerts() -> OpenAlerts {
    let version = RwSignal::new(0u64);
    let listed = Resource::new(move || version.get(), |_| list_open_alerts());
    let changes = RwSignal::new(Vec::<AlertEvent>::new());
    let heard = RwSignal::new(0u64);
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
    let alerts = OpenAlerts { listed, changes, heard };
    provide_context(alerts);
    alerts
}

/// A banner at the top of every page while any alert is open.
#[component]
pub fn AlertBanner() -> impl IntoView {
    let alerts = use_context::<OpenAlerts>();
    let banner = move || {
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
    };
    view! { <Transition fallback=|| ()>{banner}</Transition> }
}

/// The count of open alerts, beside the Alerts entry of the navigation bar.
#[component]
pub fn AlertBadge() -> impl IntoView {
    let alerts = use_context::<OpenAlerts>();
    let badge = move || {
        let count = alerts.map(|a| a.current().len()).unwrap_or(0);
        (count > 0).then(|| view! { <span class="alert-badge" data-testid="alert-badge" aria-label=format!("{count} open")>{count}</span> })
    };
    view! { <Transition fallback=|| ()>{badge}</Transition> }
}
