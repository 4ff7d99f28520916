//! Scheduled backups of a SQLite database: every `HEARTH_BACKUP_EVERY`, a consistent copy
//! `hearth-<UTC time>.db` in `HEARTH_BACKUP_DIR` (taken while ingest goes on), keeping the
//! newest `HEARTH_BACKUP_KEEP`.

use hearth_store::Db;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Backs `db` up into `dir` now and every `every`, keeping the newest `keep`, forever.
pub async fn run(db: Db, dir: PathBuf, every: Duration, keep: usize) {
    let mut tick = tokio::time::interval(every);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        match once(&db, &dir, keep).await {
            Ok(path) => tracing::info!(path = %path.display(), "backup written"),
            Err(e) => tracing::warn!(error = %e, dir = %dir.display(), "scheduled backup failed; trying again at the next one"),
        }
    }
}

/// One scheduled backup into `dir`; deletes the oldest beyond `keep`. Returns its path.
pub async fn once(db: &Db, dir: &Path, keep: usize) -> Result<PathBuf, Box<dyn std::error::Error + Send + Sync>> {
    std::fs::create_dir_all(dir)?;
    let name = format!("hearth-{}.db", jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S%.3fZ"));
    let path = dir.join(name);
    hearth_store::backup::backup(db, &path).await?;
    let mut made: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("hearth-") && n.ends_with(".db")))
        .collect();
    made.sort();
    let old = made.len().saturating_sub(keep.max(1));
    for path in &made[..old] {
        if let Err(e) = std::fs::remove_file(path) {
            tracing::warn!(error = %e, path = %path.display(), "an old backup could not be deleted");
        }
    }
    Ok(path)
}
