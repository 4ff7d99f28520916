//! Retention: a background task that deletes, every hour, what the configured retention no
//! longer keeps (`HEARTH_RETENTION_*_DAYS`; see [`hearth_store::retention`]).

use crate::config::Config;
use hearth_store::Db;
use hearth_store::retention::{Retention, prune};
use std::time::Duration;

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

/// Prunes now and then every `every`, forever.
pub async fn run(db: Db, retention: Retention, every: Duration) {
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        match prune(&db, retention, hearth_core::time::now_ms()).await {
            Ok(0) => {}
            Ok(deleted) => tracing::info!(deleted, "retention pruned old rows"),
            Err(e) => tracing::warn!(error = %e, "retention failed; trying again later"),
        }
    }
}
