//! The alert webhook: every alert this server opens or resolves is POSTed as JSON to
//! `HEARTH_ALERT_WEBHOOK_URL`, in order, each retried with growing pauses until the webhook
//! takes it or the attempts run out. Evaluation never waits for it.

use hearth_core::alert::{AlertEvent, AlertState};
use hearth_core::time::house::rfc3339;
use serde_json::{Value, json};
use std::time::Duration;
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

/// How the webhook is called.
#[derive(Clone, Debug)]
pub struct Webhook {
    /// Where alerts are POSTed.
    pub url: String,
    /// The pause before the first retry; each later one doubles it, up to a minute.
    pub first_retry: Duration,
    /// Attempts per alert before it is given up (and logged).
    pub attempts: u32,
}

impl Webhook {
    /// A webhook at `url` with the default retries: 6 attempts over about half a minute.
    pub fn new(url: impl Into<String>) -> Webhook {
        Webhook { url: url.into(), first_retry: Duration::from_secs(1), attempts: 6 }
    }

    /// Starts the sender: alerts sent to the returned queue are POSTed in order, each retried
    /// until the webhook answers 2xx or the attempts run out. Evaluation never waits for it;
    /// when the queue is full (the webhook down for long), alerts are dropped with a warning.
    pub fn spawn(self) -> (mpsc::Sender<AlertEvent>, tokio::task::JoinHandle<()>) {
        let (tx, mut rx) = mpsc::channel::<AlertEvent>(1024);
        let task = tokio::spawn(async move {
            let client = match reqwest::Client::builder().timeout(Duration::from_secs(10)).build() {
                Ok(client) => client,
                Err(e) => {
                    tracing::error!(error = %e, "no HTTP client for the alert webhook");
                    return;
                }
            };
            while let Some(event) = rx.recv().await {
                self.deliver(&client, &payload(&event)).await;
            }
        });
        (tx, task)
    }

    /// POSTs `body`, retrying with growing pauses; whether the webhook took it.
    pub async fn deliver(&self, client: &reqwest::Client, body: &Value) -> bool {
        let mut pause = self.first_retry;
        for attempt in 1..=self.attempts.max(1) {
            match client.post(&self.url).json(body).send().await {
                Ok(response) if response.status().is_success() => return true,
                Ok(response) => tracing::warn!(attempt, status = %response.status(), "alert webhook refused the alert"),
                Err(e) => tracing::warn!(attempt, error = %e, "alert webhook unreachable"),
            }
            if attempt < self.attempts {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(60));
            }
        }
        tracing::error!(alert = %body["alert_id"], "alert webhook gave up after {} attempts", self.attempts);
        false
    }
}

