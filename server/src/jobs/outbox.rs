//! Where recorded alerts go besides the live stream: the webhook (`HEARTH_ALERT_WEBHOOK_URL`),
//! email and ntfy (set on the Alerts page). Each channel has a queue and a task of its own that
//! delivers in order, retrying each alert with growing pauses; so a channel that is down
//! delays neither the evaluator nor another channel. [`note`] is what a person reads.

use crate::jobs::{email, ntfy, webhook};
use hearth_core::alert::channel::ChannelKind;
use hearth_core::alert::{AlertEvent, AlertState};
use hearth_core::format::number;
use hearth_core::time::house::HouseZone;
use hearth_store::Db;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Alerts a channel's queue holds while it cannot deliver; beyond, new ones are dropped (and
/// logged).
const QUEUE: usize = 1024;

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

/// The queues of the channels; cheap to clone. Empty: alerts go nowhere but the stream.
#[derive(Clone, Debug, Default)]
pub struct Outbox {
    queues: Vec<(&'static str, mpsc::Sender<AlertEvent>)>,
}

impl Outbox {
    /// Starts a task per channel: the webhook at `webhook_url` if given, and email and ntfy,
    /// which read their settings from `db` at each alert (so changes on the page apply at
    /// once; an alert when one is not set goes nowhere there).
    pub fn start(db: &Db, reach: &Reach, webhook_url: Option<String>) -> (Outbox, Vec<JoinHandle<()>>) {
        let mut outbox = Outbox::default();
        let mut tasks = Vec::new();
        if let Some(url) = webhook_url {
            let hook = webhook::Webhook { url, reach: reach.clone() };
            tasks.push(outbox.channel("webhook", move |rx| hook.run(rx)));
        }
        let (db_email, reach_email) = (db.clone(), reach.clone());
        tasks.push(outbox.channel("email", move |rx| email::run(db_email, reach_email, rx)));
        let (db_ntfy, reach_ntfy) = (db.clone(), reach.clone());
        tasks.push(outbox.channel("ntfy", move |rx| ntfy::run(db_ntfy, reach_ntfy, rx)));
        (outbox, tasks)
    }

    fn channel<Fut>(&mut self, name: &'static str, run: impl FnOnce(mpsc::Receiver<AlertEvent>) -> Fut) -> JoinHandle<()>
    where
        Fut: Future<Output = ()> + Send + 'static,
    {
        let (tx, rx) = mpsc::channel(QUEUE);
        self.queues.push((name, tx));
        tokio::spawn(run(rx))
    }

    /// Hands `event` to every channel's queue, never waiting.
    pub fn send(&self, event: &AlertEvent) {
        for (name, queue) in &self.queues {
            if queue.try_send(event.clone()).is_err() {
                tracing::warn!(channel = name, alert = event.alert.alert_id, "alert queue full or closed; alert not sent there");
            }
        }
    }
}

/// Sends [`test_note`] through the channel `kind` as set now, once; why not, for a person.
pub async fn send_test(db: &Db, reach: &Reach, kind: ChannelKind) -> Result<(), String> {
    let channels = hearth_store::alert::channel::channels(db).await.map_err(|e| e.to_string())?;
    match kind {
        ChannelKind::Email => match channels.email {
            Some(settings) => email::send(&settings, &test_note(), reach).await,
            None => Err("email is not set: save it first".into()),
        },
        ChannelKind::Ntfy => match channels.ntfy {
            Some(settings) => ntfy::send(&reach.http_client()?, &settings, &test_note(), reach).await,
            None => Err("ntfy is not set: save it first".into()),
        },
    }
}
