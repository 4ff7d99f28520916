//! Alerts to ntfy: each alert this server records is published to the topic set on the
//! Alerts page, as ntfy documents publishing as JSON (`topic`, `title`, `message`,
//! `priority`, `tags`, `click`) to the server's root, with the access token if one is set; in
//! order and with the [`Retry`](crate::jobs::reach::Retry) of every channel.

use crate::jobs::reach::{Note, Reach, note};
use hearth_core::alert::AlertEvent;
use hearth_core::alert::channel::Ntfy;
use hearth_store::Db;
use serde_json::{Value, json};
use tokio::sync::mpsc;

/// Where to POST and what, to publish `note` to the topic of `ntfy` with `click` opening a
/// page: the server's root, and the message as JSON (UTF-8 titles need no header encoding).
pub fn publication(ntfy: &Ntfy, note: &Note, click: Option<&str>) -> Result<(String, Value), String> {
    let (root, topic) = ntfy.url.trim_end_matches('/').rsplit_once('/').ok_or_else(|| format!("url: {:?} names no topic", ntfy.url))?;
    let mut body = json!({
        "topic": topic,
        "title": note.title,
        "message": note.message,
        "priority": note.priority,
        "tags": note.tags,
    });
    if let Some(click) = click {
        body["click"] = json!(click);
    }
    Ok((format!("{root}/"), body))
}

/// Publishes `note` once; why not, for a person.
pub async fn send(client: &reqwest::Client, ntfy: &Ntfy, note: &Note, reach: &Reach) -> Result<(), String> {
    let (endpoint, body) = publication(ntfy, note, reach.alerts_page().as_deref())?;
    let mut request = client.post(&endpoint).json(&body);
    if !ntfy.token.is_empty() {
        request = request.bearer_auth(ntfy.token.expose());
    }
    match request.send().await {
        Ok(response) if response.status().is_success() => Ok(()),
        Ok(response) => Err(format!("ntfy: {} answered {}", endpoint, response.status())),
        Err(e) => Err(format!("ntfy: {endpoint} is unreachable: {e}")),
    }
}

/// Publishes every alert of `queue` to ntfy, in order, while ntfy is set; until the queue closes.
pub async fn run(db: Db, reach: Reach, mut queue: mpsc::Receiver<AlertEvent>) {
    let client = match reach.http_client() {
        Ok(client) => client,
        Err(e) => {
            tracing::error!(error = %e, "no HTTP client for ntfy");
            return;
        }
    };
    while let Some(event) = queue.recv().await {
        let note = note(&event, &reach.zone);
        let (db, client, note, reach) = (&db, &client, &note, &reach);
        reach
            .retry
            .run("ntfy", event.alert.alert_id, move || async move {
                let channels = hearth_store::alert::channel::channels(db).await.map_err(|e| e.to_string())?;
                match channels.ntfy {
                    Some(ntfy) => send(client, &ntfy, note, reach).await,
                    None => Ok(()),
                }
            })
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::reach::test_note;
    use hearth_core::alert::channel::Secret;

    #[test]
    fn a_topic_url_is_published_to_its_servers_root() {
        let ntfy = Ntfy { url: "https://example.org/ntfy/house-alerts".into(), token: Secret::default() };
        let (endpoint, body) = publication(&ntfy, &test_note(), Some("https://hearth.example.org/alerts")).unwrap();
        assert_eq!(endpoint, "https://example.org/ntfy/");
        assert_eq!(body["topic"], "house-alerts");
        assert_eq!((body["title"].as_str(), body["priority"].as_u64()), (Some("Hearth: test"), Some(3)));
        assert_eq!(body["click"], "https://hearth.example.org/alerts");
        let (_, bare) = publication(&Ntfy { url: "https://ntfy.sh/h".into(), token: Secret::default() }, &test_note(), None).unwrap();
        assert!(bare.get("click").is_none());
    }
}
