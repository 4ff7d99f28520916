//! The alert webhook: every alert this server opens or resolves is POSTed as JSON to
//! `HEARTH_ALERT_WEBHOOK_URL`, in order, each retried with growing pauses until the webhook
//! takes it or the attempts run out (see [`Outbox`](crate::jobs::reach::Outbox)).

use crate::jobs::reach::Reach;
use hearth_core::alert::{AlertEvent, AlertState};
use hearth_core::time::house::rfc3339;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// What the webhook receives for `event`.
pub fn payload(event: &AlertEvent) -> Value {
    let alert = &event.alert;
    let (at, value) = match event.state {
        AlertState::Opened => (alert.opened_at_ms, alert.value),
        AlertState::Resolved => (alert.resolved_at_ms.unwrap_or(alert.opened_at_ms), alert.resolved_value.unwrap_or(alert.value)),
    };
    json!({
        "alert_id": alert.alert_id,
        "rule": alert.rule.describe(),
        "rule_id": alert.rule.rule_id,
        "kind": alert.rule.kind,
        "device": alert.rule.device,
        "sensor": alert.rule.sensor,
        "state": event.state,
        "value": value,
        "at": rfc3339(at),
        "opened_at": rfc3339(alert.opened_at_ms),
        "resolved_at": alert.resolved_at_ms.map(rfc3339),
        "message": match event.state {
            AlertState::Opened => alert.message.clone(),
            AlertState::Resolved => format!("resolved: {}", alert.message),
        },
    })
}

/// The webhook and how it is reached.
#[derive(Clone, Debug)]
pub struct Webhook {
    /// Where alerts are POSTed.
    pub url: String,
    /// Retries and trusted roots.
    pub reach: Reach,
}

impl Webhook {
    /// Delivers every alert of `queue`, in order, until the queue closes.
    pub async fn run(self, mut queue: mpsc::Receiver<AlertEvent>) {
        let client = match self.reach.http_client() {
            Ok(client) => client,
            Err(e) => {
                tracing::error!(error = %e, "no HTTP client for the alert webhook");
                return;
            }
        };
        while let Some(event) = queue.recv().await {
            let body = payload(&event);
            let (client, url, body) = (&client, &self.url, &body);
            self.reach
                .retry
                .run("webhook", event.alert.alert_id, move || async move {
                    match client.post(url).json(body).send().await {
                        Ok(response) if response.status().is_success() => Ok(()),
                        Ok(response) => Err(format!("the webhook answered {}", response.status())),
                        Err(e) => Err(format!("the webhook is unreachable: {e}")),
                    }
                })
                .await;
        }
    }
}
