//! MQTT: Hearth subscribes to the broker of `HEARTH_MQTT_URL` and stores what devices publish
//! there in their own formats: Tasmota, Shelly (Gen2+), ESPHome, and Hearth's own topics.
//!
//! Every message goes through the shared subscription `$share/<group>/#`, so servers sharing
//! a database store each message once; a second, plain subscription to the single-level
//! status topics (`tele/+/LWT`, `+/online`, `+/status`) gives every server the retained online
//! states when it connects. A message's topic tells its protocol and its prefix; the prefix
//! names a registered device (`device.mqtt_prefix`), and a message of a prefix nobody claims is
//! counted as "discovered", never stored. A QoS 1 message is acknowledged only after its
//! readings are committed (or it was refused for good), so the broker redelivers what a crash
//! or an unreachable database left unstored. The session outlives restarts
//! (`HEARTH_MQTT_SESSION_SECONDS`), and every reconnection subscribes again.

pub mod payload;

pub use payload::{Message, Route, Topic, read, route};

use super::{Foreign, accept_foreign};
use crate::AppState;
use crate::error::Error;
use hearth_core::device::Device;
use rumqttc::v5::mqttbytes::QoS;
use rumqttc::v5::mqttbytes::v5::{Filter, Packet, Publish, SubscribeProperties};
use rumqttc::v5::{AsyncClient, Event, MqttOptions};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// Subscription identifier of the shared subscription to every topic.
const SHARED_ID: usize = 1;
/// Subscription identifier of the plain subscription to the status topics.
const STATUS_ID: usize = 2;
/// Status topics every server subscribes to without sharing, to receive retained states.
const STATUS_FILTERS: [&str; 3] = ["tele/+/LWT", "+/online", "+/status"];
/// Messages handled together before their acknowledgements are sent, in order.
const BATCH: usize = 256;
/// The QoS 1 messages the broker may send before Hearth acknowledges them (MQTT 5's receive
/// maximum): the broker queues the rest, so what waits in Hearth is bounded.
const RECEIVE_MAXIMUM: u16 = 1024;
/// Messages waiting to be handled beyond which a QoS 0 message is dropped (QoS 0 is "at most
/// once"; the broker does not bound those by the receive maximum).
const WAITING_MAX: usize = 4 * RECEIVE_MAXIMUM as usize;

/// Broker options from the configuration: host, port and credentials from the URL, the
/// client id, a session kept `session_seconds`, and acknowledgements sent by Hearth.
pub fn options(url: &str, client_id: &str, session_seconds: u32) -> Result<MqttOptions, String> {
    let parsed = url::Url::parse(url).map_err(|e| format!("HEARTH_MQTT_URL is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "mqtt" | "tcp") {
        return Err(format!("HEARTH_MQTT_URL must start with mqtt:// (not {}://)", parsed.scheme()));
    }
    let host = parsed.host_str().ok_or("HEARTH_MQTT_URL has no host")?;
    let mut options = MqttOptions::new(client_id, host, parsed.port().unwrap_or(1883));
    options
        .set_keep_alive(Duration::from_secs(30))
        .set_clean_start(false)
        .set_session_expiry_interval(Some(session_seconds))
        .set_manual_acks(true)
        .set_receive_maximum(Some(RECEIVE_MAXIMUM))
        .set_max_packet_size(Some(1024 * 1024));
    if !parsed.username().is_empty() {
        let decode = |s: &str| percent_encoding::percent_decode_str(s).decode_utf8_lossy().into_owned();
        options.set_credentials(decode(parsed.username()), decode(parsed.password().unwrap_or("")));
    }
    Ok(options)
}

/// A message as it arrived, with the time it arrived.
struct Arrived {
    publish: Publish,
    received_ms: i64,
}

/// Connects to the broker and stores what arrives, until the task is aborted. Reconnects,
/// and subscribes again, whenever the connection is lost. The broker counts as connected
/// once both subscriptions are acknowledged.
///
/// The event loop never waits for the handler: it must keep polling to send the handler's
/// acknowledgements and the keep-alive pings. Had it waited on a full queue while the handler
/// waited to send acknowledgements through it, neither would move again and the broker would
/// end the connection (a flood of QoS 1 messages did exactly that). What waits is bounded by
/// the receive maximum for QoS 1 and by [`WAITING_MAX`] for QoS 0.
pub async fn run(state: AppState, options: MqttOptions, group: String) {
    // Room for every acknowledgement the receive maximum allows, and the subscriptions.
    let (client, mut events) = AsyncClient::new(options, usize::from(RECEIVE_MAXIMUM) + 16);
    let (arrived_tx, arrived_rx) = mpsc::unbounded_channel::<Arrived>();
    let waiting = Arc::new(AtomicUsize::new(0));
    let handler = tokio::spawn(handle(state.clone(), client.clone(), arrived_rx, waiting.clone()));
    let mut backoff = Duration::from_millis(500);
    let mut acknowledged_subscriptions = 0;
    let mut dropping = false;
    loop {
        match events.poll().await {
            Ok(Event::Incoming(Packet::ConnAck(_))) => {
                tracing::info!("connected to the MQTT broker");
                backoff = Duration::from_millis(500);
                acknowledged_subscriptions = 0;
                let (client, group) = (client.clone(), group.clone());
                // Subscribing goes through the event loop, so it must not wait inside it.
                tokio::spawn(async move {
                    let shared = SubscribeProperties { id: Some(SHARED_ID), user_properties: Vec::new() };
                    let status = SubscribeProperties { id: Some(STATUS_ID), user_properties: Vec::new() };
                    let filters = STATUS_FILTERS.map(|f| Filter::new(f, QoS::AtLeastOnce));
                    let subscribed = async {
                        client.subscribe_with_properties(format!("$share/{group}/#"), QoS::AtLeastOnce, shared).await?;
                        client.subscribe_many_with_properties(filters, status).await
                    };
                    if let Err(e) = subscribed.await {
                        tracing::error!(error = %e, "could not subscribe");
                    }
                });
            }
            Ok(Event::Incoming(Packet::SubAck(_))) => {
                acknowledged_subscriptions += 1;
                if acknowledged_subscriptions == 2 {
                    state.activity.broker_state(true, None, super::now_ms());
                }
            }
            Ok(Event::Incoming(Packet::Publish(publish))) => {
                if publish.qos == QoS::AtMostOnce {
                    if waiting.load(Ordering::Relaxed) >= WAITING_MAX {
                        metrics::counter!("hearth_mqtt_dropped_total").increment(1);
                        if !dropping {
                            tracing::warn!("QoS 0 messages arrive faster than they are stored: dropping them until the queue drains");
                        }
                        dropping = true;
                        continue;
                    }
                    dropping = false;
                }
                waiting.fetch_add(1, Ordering::Relaxed);
                let arrived = Arrived { publish, received_ms: super::now_ms() };
                if arrived_tx.send(arrived).is_err() {
                    break;
                }
            }
            Ok(_) => {}
            Err(e) => {
                if state.activity.broker_connected() {
                    tracing::warn!(error = %e, "lost the MQTT broker; reconnecting");
                }
                state.activity.broker_state(false, Some(e.to_string()), super::now_ms());
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
            }
        }
    }
    handler.abort();
}

/// Handles arrived messages a batch at a time, concurrently, then acknowledges them in order.
async fn handle(state: AppState, client: AsyncClient, mut arrived: mpsc::UnboundedReceiver<Arrived>, waiting: Arc<AtomicUsize>) {
    let mut batch = Vec::with_capacity(BATCH);
    while arrived.recv_many(&mut batch, BATCH).await > 0 {
        futures_util::future::join_all(batch.iter().map(|a| handle_one(&state, a))).await;
        waiting.fetch_sub(batch.len(), Ordering::Relaxed);
        for a in batch.drain(..) {
            if a.publish.qos != QoS::AtMostOnce
                && let Err(e) = client.ack(&a.publish).await
            {
                tracing::warn!(error = %e, "could not acknowledge a message");
            }
        }
    }
}

/// Handles one message; returns once it is stored, or refused for good. While the database
/// is unavailable it waits and tries again, so the message is not acknowledged unstored.
async fn handle_one(state: &AppState, arrived: &Arrived) {
    let publish = &arrived.publish;
    let Ok(topic) = std::str::from_utf8(&publish.topic) else { return };
    let Some(route) = route(topic) else { return };
    let ids = publish.properties.as_ref().map(|p| p.subscription_identifiers.as_slice()).unwrap_or_default();
    // A single-level status topic also comes through the status subscription: handle it once.
    if route.topic == Topic::Online && ids.contains(&SHARED_ID) && !ids.contains(&STATUS_ID) && !route.prefix.contains('/') {
        return;
    }
    let mut wait = Duration::from_millis(250);
    loop {
        match handle_route(state, &route, publish, arrived.received_ms).await {
            Ok(()) => return,
            Err(Error::Unavailable(e)) => {
                tracing::warn!(error = %e, topic, "the database is unavailable; the message waits");
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(5));
            }
            Err(e) => {
                tracing::error!(error = %e, topic, "message not stored");
                return;
            }
        }
    }
}

async fn handle_route(state: &AppState, route: &Route<'_>, publish: &Publish, received_ms: i64) -> Result<(), Error> {
    let topic = String::from_utf8_lossy(&publish.topic);
    let Some(device) = hearth_store::mqtt::device_by_prefix(&state.db, route.prefix).await? else {
        state.activity.discovered(route.prefix, route.protocol, &topic, received_ms);
        return Ok(());
    };
    let outcome = match read(route, &publish.payload, received_ms, &state.zone) {
        _ if device.revoked => Err("the device's token was revoked: its messages are not stored".to_owned()),
        Err(why) => Err(why),
        Ok(Message::Online(online)) => {
            hearth_store::mqtt::set_online(&state.db, device.device_id, online, received_ms).await.map_err(Error::from)?;
            Ok(())
        }
        Ok(Message::Readings(readings)) => store(state, &device, route, readings).await?,
    };
    if let Err(why) = &outcome {
        tracing::warn!(device = device.name, %topic, error = why, "message refused");
    }
    state.activity.message(device.device_id, route.protocol, outcome.err().map(|why| format!("{topic}: {why}")), received_ms);
    Ok(())
}

/// Stores readings; `Ok(Err(why))` when they were refused (nothing stored), `Err` when the
/// database failed.
async fn store(state: &AppState, device: &Device, route: &Route<'_>, readings: Vec<Foreign>) -> Result<Result<(), String>, Error> {
    match accept_foreign(state, device, route.protocol, readings).await {
        Ok(_) => Ok(Ok(())),
        Err(e @ (Error::Unavailable(_) | Error::Internal(_))) => Err(e),
        Err(e) => Ok(Err(e.to_string())),
    }
}
