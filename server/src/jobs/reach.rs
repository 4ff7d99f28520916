//! What every alert channel needs to reach out: the [`Note`] a person reads of an alert, the
//! [`Reach`] of the server (the house's zone, extra certificate authorities, its address for
//! links) and how each delivery is retried ([`Retry`]).

use hearth_core::alert::{AlertEvent, AlertState};
use hearth_core::format::number;
use hearth_core::time::house::HouseZone;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// How each alert is retried.
#[derive(Clone, Copy, Debug)]
pub struct Retry {
    /// The pause before the first retry; each later one doubles it, up to a minute.
    pub first: Duration,
    /// Attempts per alert before it is given up (and logged).
    pub attempts: u32,
}

impl Default for Retry {
    /// 6 attempts over about half a minute: retries after 1, 2, 4, 8 and 16 s.
    fn default() -> Self {
        Retry { first: Duration::from_secs(1), attempts: 6 }
    }
}

impl Retry {
    /// Calls `attempt` until it succeeds or the attempts run out; whether it succeeded.
    pub async fn run<F, Fut>(&self, channel: &str, alert_id: i64, mut attempt: F) -> bool
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<(), String>>,
    {
        let mut pause = self.first;
        let attempts = self.attempts.max(1);
        for n in 1..=attempts {
            match attempt().await {
                Ok(()) => {
                    metrics::counter!("hearth_alert_deliveries_total", "channel" => channel.to_owned(), "result" => "delivered").increment(1);
                    return true;
                }
                Err(e) => {
                    metrics::counter!("hearth_alert_deliveries_total", "channel" => channel.to_owned(), "result" => "failed").increment(1);
                    tracing::warn!(channel, attempt = n, alert = alert_id, error = %e, "alert not delivered")
                }
            }
            if n < attempts {
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(Duration::from_secs(60));
            }
        }
        metrics::counter!("hearth_alert_deliveries_given_up_total", "channel" => channel.to_owned()).increment(1);
        tracing::error!(channel, alert = alert_id, "gave up delivering the alert after {attempts} attempts");
        false
    }
}

/// What a person reads of an alert, in any channel.
#[derive(Clone, Debug, PartialEq)]
pub struct Note {
    /// A line: what happened.
    pub title: String,
    /// The details.
    pub message: String,
    /// ntfy's priority: 4 (high) when an alert opens, 3 (default) when it resolves.
    pub priority: u8,
    /// ntfy's tags: an emoji's short code first, then the rule's kind.
    pub tags: Vec<String>,
}

/// The note of `event`, with times in the house's `zone`.
pub fn note(event: &AlertEvent, zone: &HouseZone) -> Note {
    let alert = &event.alert;
    let shown = zone.zone(alert.opened_at_ms, alert.resolved_at_ms.unwrap_or(alert.opened_at_ms));
    let at = |ms: i64| shown.format(ms, "%a %-d %b %H:%M");
    let kind = alert.rule.kind.as_str().to_owned();
    match (event.state, alert.resolved_at_ms) {
        (AlertState::Resolved, Some(resolved)) => Note {
            title: format!("Resolved: {}", alert.rule.target()),
            message: format!(
                "{}\nOpened {}, resolved {} ({} min); value at the end: {}.",
                alert.message,
                at(alert.opened_at_ms),
                at(resolved),
                number(((resolved - alert.opened_at_ms) as f64 / 60_000.0).round()),
                alert.rule.alert_value(alert.resolved_value.unwrap_or(alert.value)),
            ),
            priority: 3,
            tags: vec!["white_check_mark".into(), kind],
        },
        _ => Note {
            title: format!("Alert: {}", alert.rule.target()),
            message: format!("{}\nSince {}. Rule: {}.", alert.message, at(alert.opened_at_ms), alert.rule.describe()),
            priority: 4,
            tags: vec!["warning".into(), kind],
        },
    }
}

/// The note a "send a test" button sends.
pub fn test_note() -> Note {
    Note {
        title: "Hearth: test".into(),
        message: "This is a test from Hearth's Alerts page: alerts will reach you here.".into(),
        priority: 3,
        tags: vec!["bell".into(), "test".into()],
    }
}

/// What every channel needs to reach out: the house's zone, extra certificate authorities
/// to trust, and Hearth's address for links.
#[derive(Clone, Debug)]
pub struct Reach {
    /// The house's time zone, for the times in notes.
    pub zone: HouseZone,
    /// PEM certificates trusted besides the usual roots (a mail server of one's own CA).
    pub extra_roots: Arc<Vec<Vec<u8>>>,
    /// Where people open Hearth, for ntfy's click and the email's link.
    pub public_url: Option<String>,
    /// How each alert is retried.
    pub retry: Retry,
}

impl Reach {
    /// An HTTP client for webhooks and ntfy, trusting the extra roots.
    pub fn http_client(&self) -> Result<reqwest::Client, String> {
        let mut builder = reqwest::Client::builder().timeout(Duration::from_secs(10));
        for pem in self.extra_roots.iter() {
            for cert in reqwest::Certificate::from_pem_bundle(pem).map_err(|e| format!("HEARTH_ALERT_CA_FILE: {e}"))? {
                builder = builder.add_root_certificate(cert);
            }
        }
        builder.build().map_err(|e| e.to_string())
    }

    /// Where the Alerts page is, if Hearth's address is known.
    pub fn alerts_page(&self) -> Option<String> {
        self.public_url.as_ref().map(|url| format!("{}/alerts", url.trim_end_matches('/')))
    }
}
