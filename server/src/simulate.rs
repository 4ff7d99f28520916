//! A simulated house posted through the real ingest endpoint like any device would: five
//! rooms' climate, a whole-house electricity meter, smart plugs on the fridge, washing
//! machine, dishwasher and TV, and a water meter. It first posts days of history, then live
//! readings. Every value is a function of its instant, so a restarted simulator re-posts
//! the same readings (duplicates to the server) and its counters carry on.

mod house;
pub mod loads;
mod rooms;

pub use house::{House, REPORT_MS, Reading};
pub use rooms::{ROOMS, Room};

use crate::config::SimulateArgs;
use app::time::ssr::HouseZone;
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
    let mut house = House::new(args.timezone.clone().unwrap_or_else(HouseZone::system));

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
                Ok(()) => drop(pending.drain(..n)),
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

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}
