//! Retention: a background task that deletes raw readings and rollup buckets older than their
//! tier's configured age, a small slice at a time so ingest never waits long behind it.

use crate::config::Config;
use app::rollup::{HOUR_MS, MINUTE_MS, TEN_MINUTES_MS};
use app::store::Db;
use std::time::Duration;

const DAY_MS: i64 = 24 * HOUR_MS;

/// How long each tier is kept; `None` keeps it forever.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Retention {
    /// Raw readings.
    pub raw_days: Option<u32>,
    /// 1-minute rollups.
    pub minute_days: Option<u32>,
    /// 10-minute rollups.
    pub ten_minute_days: Option<u32>,
    /// 1-hour rollups.
    pub hour_days: Option<u32>,
}

impl Retention {
    /// The retention `config` asks for; 0 days means forever.
    pub fn from_config(config: &Config) -> Retention {
        let days = |d: u32| (d > 0).then_some(d);
        Retention {
            raw_days: days(config.retention_raw_days),
            minute_days: days(config.retention_minute_days),
            ten_minute_days: days(config.retention_ten_minute_days),
            hour_days: days(config.retention_hour_days),
        }
    }
}

/// Deletes what is older than `retention` allows, as of `now_ms`; returns rows deleted.
pub async fn prune(db: &Db, retention: Retention, now_ms: i64) -> Result<u64, sqlx::Error> {
    let before = |days: u32| now_ms - i64::from(days) * DAY_MS;
    let mut deleted = 0;
    if let Some(days) = retention.raw_days {
        deleted += app::reading::ssr::prune(db, before(days)).await?;
    }
    let tiers = [(MINUTE_MS, retention.minute_days), (TEN_MINUTES_MS, retention.ten_minute_days), (HOUR_MS, retention.hour_days)];
    for (tier_ms, days) in tiers {
        if let Some(days) = days {
            deleted += app::rollup::ssr::prune(db, tier_ms, before(days)).await?;
        }
    }
    Ok(deleted)
}

/// Prunes now and then every `every`, forever.
pub async fn run(db: Db, retention: Retention, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match prune(&db, retention, jiff::Timestamp::now().as_millisecond()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "retention pruned old rows"),
            Err(e) => tracing::warn!(error = %e, "retention failed; trying again later"),
        }
    }
}
