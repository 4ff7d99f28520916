//! A simulated house posted through the real ingest endpoint like any device would: five
//! rooms' climate (CO2 in the occupied ones), a whole-house electricity meter, smart plugs on
//! the fridge, washing machine, dishwasher and TV, a water meter, solar panels, a home
//! battery, the grid's two-way meter and a gas boiler. It first posts days of history, then live
//! readings. Every value is a function of its instant, so a restarted simulator re-posts
//! the same readings (duplicates to the server) and its counters carry on.

mod energy;
mod house;
pub mod loads;
mod rooms;

pub use house::{House, REPORT_MS, Reading};
pub use rooms::{ROOMS, Room};

use crate::config::SimulateArgs;
use hearth_core::time::house::HouseZone;
use hearth_core::time::now_ms;
use serde::Serialize;
use std::time::Duration;

/// Time between history readings.
pub const BACKFILL_STEP_MS: i64 = 5 * 60_000;
/// Most readings in one request.
pub const BATCH: usize = 5_000;
/// Most live readings kept for a server that is down; older ones are dropped beyond it.
pub const MAX_PENDING: usize = 50_000;
/// Tries for each batch of history before the simulator gives up.
const HISTORY_ATTEMPTS: u32 = 6;
const DAY_MS: i64 = 24 * 3_600_000;

#[derive(Serialize)]
struct Batch<'a> {
    readings: &'a [Reading],
}

/// Posts `backfill_days` of history at 5-minute steps (aligned, so a restart re-posts the
/// same instants), then live readings every `interval` seconds (at multiples of it) until
/// the task is dropped. A failed live post keeps its readings for the next one, up to
/// [`MAX_PENDING`].
pub async fn run(args: SimulateArgs) -> Result<(), reqwest::Error> {
    let server = Server {
        client: reqwest::Client::builder().timeout(Duration::from_secs(30)).build()?,
        endpoint: format!("{}/api/v1/readings", args.url.trim_end_matches('/')),
        token: args.token.clone(),
    };
    let mut house = House::at(args.timezone.clone().unwrap_or_else(HouseZone::system), args.latitude);

    let now = now_ms();
    let start = now - now.rem_euclid(BACKFILL_STEP_MS) - i64::from(args.backfill_days) * DAY_MS;
    let (mut posted, mut queue) = (0, Vec::new());
    let mut day = start;
    while day < now {
        let next = (day + DAY_MS).min(now);
        queue.extend(house.readings(day, next, BACKFILL_STEP_MS));
        day = next;
        while queue.len() >= BATCH || (day == now && !queue.is_empty()) {
            let batch: Vec<Reading> = queue.drain(..queue.len().min(BATCH)).collect();
            server.deliver(&batch).await?;
            posted += batch.len();
        }
    }
    tracing::info!(readings = posted, days = args.backfill_days, "simulated history posted");

    let interval_ms = ((args.interval * 1000.0).round() as i64).max(100);
    let mut tick = tokio::time::interval(Duration::from_millis(interval_ms as u64));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut last, mut pending) = (now, Vec::<Reading>::new());
    loop {
        tick.tick().await;
        let now = now_ms();
        pending.extend(house.readings(last, now, interval_ms));
        last = now;
        while !pending.is_empty() {
            let n = pending.len().min(BATCH);
            match server.post(&pending[..n]).await {
                Ok(()) => {
                    pending.drain(..n);
                }
                Err(e) if retryable(&e) => {
                    tracing::warn!(error = %e, pending = pending.len(), "simulated post failed; retrying with the next one");
                    break;
                }
                Err(e) => {
                    tracing::error!(error = %e, dropped = n, "simulated readings refused");
                    pending.drain(..n);
                }
            }
        }
        if pending.len() > MAX_PENDING {
            let excess = pending.len() - MAX_PENDING;
            tracing::warn!(dropped = excess, "too many simulated readings waiting; dropping the oldest");
            pending.drain(..excess);
        }
    }
}

/// The ingest endpoint of the server the house posts to.
struct Server {
    client: reqwest::Client,
    endpoint: String,
    token: String,
}

impl Server {
    async fn post(&self, readings: &[Reading]) -> Result<(), reqwest::Error> {
        self.client
            .post(&self.endpoint)
            .bearer_auth(&self.token)
            .json(&Batch { readings })
            .send()
            .await?
            .error_for_status()?;
        Ok(())
    }

    /// Posts one batch of history, trying again with growing pauses while the server is
    /// unreachable or busy.
    async fn deliver(&self, readings: &[Reading]) -> Result<(), reqwest::Error> {
        let mut pause = Duration::from_millis(500);
        let mut attempt = 1;
        loop {
            match self.post(readings).await {
                Err(e) if retryable(&e) && attempt < HISTORY_ATTEMPTS => {
                    tracing::warn!(error = %e, attempt, "simulated history post failed; trying again");
                    tokio::time::sleep(pause).await;
                    pause *= 2;
                    attempt += 1;
                }
                result => return result,
            }
        }
    }
}

/// Whether trying again may help: no answer, or the server busy or failing.
fn retryable(e: &reqwest::Error) -> bool {
    e.status().is_none_or(|s| s.is_server_error() || s == reqwest::StatusCode::TOO_MANY_REQUESTS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use hearth_store::Db;
    use leptos::prelude::LeptosOptions;
    use tokio::net::TcpListener;
    use tokio::sync::oneshot;

    /// A real server on `listener` over `db` until `stop` fires.
    fn start_server(listener: TcpListener, db: &Db) -> (oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
        let options = LeptosOptions::builder().output_name("hearth").site_root("target/site").build();
        let state = crate::AppState::new(options, db.clone(), Config::default());
        let (stop, stopped) = oneshot::channel::<()>();
        (stop, tokio::spawn(crate::serve(listener, state, async move { drop(stopped.await) })))
    }

    #[tokio::test]
    async fn live_readings_posted_while_the_server_is_down_arrive_once_it_is_back() {
        let dir = tempfile::tempdir().unwrap();
        let db = Db::connect(&format!("sqlite://{}", dir.path().join("h.db").display())).await.unwrap();
        let (_, token) = hearth_store::device::create(&db, "sim").await.unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, server) = start_server(listener, &db);

        let step_ms = 200;
        let from = (now_ms() / step_ms + 5) * step_ms;
        let args = SimulateArgs { url: format!("http://{addr}"), token, interval: 0.2, backfill_days: 0, timezone: HouseZone::named("UTC").ok(), latitude: None };
        let simulator = tokio::spawn(run(args));
        let steps = |from: i64| {
            let sql = format!(
                "select at_ms from reading join sensor using (sensor_id) where key = 'house.power' and at_ms >= {from} and at_ms % {step_ms} = 0 order by at_ms"
            );
            let db = db.clone();
            async move { hearth_store::testing::rows::<(i64,)>(&db, sql).await.into_iter().map(|(at,)| at).collect::<Vec<i64>>() }
        };
        let posting = async {
            while steps(from).await.len() < 3 {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), posting).await.expect("live readings within 20 s");

        stop.send(()).unwrap();
        server.await.unwrap().unwrap();
        let down_from = now_ms();
        tokio::time::sleep(Duration::from_secs(1)).await;
        let down_to = now_ms();
        let (_stop, _server) = start_server(TcpListener::bind(addr).await.unwrap(), &db);
        let resumed = async {
            while steps(from).await.last().is_none_or(|&last| last < down_to + 500) {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        };
        tokio::time::timeout(Duration::from_secs(20), resumed).await.expect("readings again within 20 s of the restart");
        simulator.abort();

        let stored = steps(from).await;
        let expected: Vec<i64> = (from..=stored[stored.len() - 1]).step_by(step_ms as usize).collect();
        assert_eq!(stored, expected, "a reading every {step_ms} ms, none lost while the server was down");
        assert!(stored.iter().filter(|&&at| (down_from..down_to).contains(&at)).count() >= 4);
    }
}
