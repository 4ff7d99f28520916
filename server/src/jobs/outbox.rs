//! Where recorded alerts go besides the live stream: the webhook (`HEARTH_ALERT_WEBHOOK_URL`),
//! email and ntfy (set on the Alerts page). Each channel has a queue and a task of its own that
//! delivers in order, retrying each alert with growing pauses; so a channel that is down
//! delays neither the evaluator nor another channel. What a channel needs to reach out is in
//! [`reach`](crate::jobs::reach).

use crate::jobs::reach::{Reach, test_note};
use crate::jobs::{email, ntfy, webhook};
use hearth_core::alert::channel::ChannelKind;
use hearth_core::alert::AlertEvent;
use hearth_store::Db;
use std::future::Future;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Alerts a channel's queue holds while it cannot deliver; beyond, new ones are dropped (and
/// logged).
const QUEUE: usize = 1024;

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
