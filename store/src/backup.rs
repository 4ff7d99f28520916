//! Backups of a SQLite database: a consistent copy taken while the server ingests
//! ([`backup`], SQLite's `VACUUM INTO` inside one read transaction, which writers do not
//! wait for in WAL mode), and putting one back ([`restore`]) while no server runs on the
//! file. A running server holds a shared lock on its database file ([`ServingLock`]);
//! `restore` takes it exclusively, so it refuses while a server runs, and a server does not
//! start during a restore. PostgreSQL is backed up with its own `pg_dump`.

use crate::db::Db;
use crate::error::Error;
use crate::pool::Backend;
use sqlx::ConnectOptions;
use sqlx::sqlite::SqliteConnectOptions;
use std::fs::{File, TryLockError};
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// The file of a `sqlite://` URL; a 422 naming `database` for another database.
pub fn sqlite_file(url: &str) -> Result<PathBuf, Error> {
    if !url.starts_with("sqlite:") {
        return Err(Error::invalid("database", "backup and restore work on SQLite files; back up PostgreSQL with pg_dump (see README)"));
    }
    let options = SqliteConnectOptions::from_str(url).map_err(Error::Database)?;
    Ok(options.get_filename().to_path_buf())
}

/// Writes a consistent copy of `db` (SQLite) to `to`, which must not exist yet: first to a
/// file beside it, renamed once complete, so `to` is never a partial copy.
pub async fn backup(db: &Db, to: &Path) -> Result<(), Error> {
    let Backend::Sqlite { read, .. } = &db.backend else {
        return Err(Error::invalid("database", "backup works on SQLite; back up PostgreSQL with pg_dump (see README)"));
    };
    if to.exists() {
        return Err(Error::Conflict { field: "file", message: format!("{} exists already: choose a new file", to.display()) });
    }
    let partial = partial_of(to);
    let _ = std::fs::remove_file(&partial);
    let target = partial.to_str().ok_or_else(|| Error::invalid("file", "the backup's path must be UTF-8"))?.to_owned();
    // The copy's rollups then hold every reading it holds, for whoever opens it.
    db.settle().await?;
    sqlx::query("vacuum into $1").bind(&target).execute(read).await?;
    File::open(&partial).and_then(|f| f.sync_all()).map_err(io)?;
    std::fs::rename(&partial, to).map_err(io)?;
    sync_dir(to);
    Ok(())
}

/// Puts the backup `from` in place of the SQLite database of `url` (whose old WAL files are
/// removed), after checking that `from` is a sound Hearth database. Refused (409, `database`)
/// while a server runs on it.
pub async fn restore(url: &str, from: &Path) -> Result<(), Error> {
    let target = sqlite_file(url)?;
    check_backup(from).await?;
    if let Some(dir) = target.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let held = File::options().read(true).write(true).create(true).truncate(false).open(&target).map_err(io)?;
    match held.try_lock() {
        Ok(()) => {}
        Err(TryLockError::WouldBlock) => {
            return Err(Error::Conflict {
                field: "database",
                message: format!("a Hearth server is running on {}: stop it before restoring", target.display()),
            });
        }
        Err(TryLockError::Error(e)) => return Err(io(e)),
    }
    let partial = partial_of(&target);
    std::fs::copy(from, &partial).map_err(io)?;
    File::open(&partial).and_then(|f| f.sync_all()).map_err(io)?;
    for suffix in ["-wal", "-shm"] {
        let mut side = target.clone().into_os_string();
        side.push(suffix);
        match std::fs::remove_file(&side) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io(e)),
        }
    }
    std::fs::rename(&partial, &target).map_err(io)?;
    sync_dir(&target);
    drop(held);
    Ok(())
}

/// Whether `from` is a SQLite file that passes `quick_check` and holds Hearth's tables.
async fn check_backup(from: &Path) -> Result<(), Error> {
    let not_backup = |why: String| Error::invalid("file", format!("{} is not a Hearth backup: {why}", from.display()));
    if !from.is_file() {
        return Err(not_backup("no such file".into()));
    }
    let mut conn = SqliteConnectOptions::new().filename(from).read_only(true).connect().await.map_err(|e| not_backup(e.to_string()))?;
    let check: String = sqlx::query_scalar("pragma quick_check").fetch_one(&mut conn).await.map_err(|e| not_backup(e.to_string()))?;
    if check != "ok" {
        return Err(not_backup(check));
    }
    let tables: i64 = sqlx::query_scalar("select count(*) from sqlite_master where type = 'table' and name in ('reading', 'sensor', 'device', '_sqlx_migrations')")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| not_backup(e.to_string()))?;
    if tables != 4 {
        return Err(not_backup("it lacks Hearth's tables".into()));
    }
    Ok(())
}

/// A running server's shared lock on its SQLite file: `restore` cannot take the file while
/// it is held, and it is released when the process ends, however it ends.
#[derive(Debug)]
pub struct ServingLock(#[allow(dead_code)] File);

/// Takes the serving lock of the SQLite database of `url` (`None` for PostgreSQL); refused
/// while a restore holds the file.
pub fn serving_lock(url: &str) -> Result<Option<ServingLock>, Error> {
    let Ok(target) = sqlite_file(url) else { return Ok(None) };
    let file = File::open(&target).map_err(io)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(Some(ServingLock(file))),
        Err(TryLockError::WouldBlock) => Err(Error::Unavailable(format!("{} is being restored", target.display()))),
        Err(TryLockError::Error(e)) => Err(io(e)),
    }
}

fn partial_of(path: &Path) -> PathBuf {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    PathBuf::from(partial)
}

/// Makes a rename in `path`'s folder durable.
fn sync_dir(path: &Path) {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(dir) = File::open(dir)
    {
        let _ = dir.sync_all();
    }
}

fn io(e: std::io::Error) -> Error {
    Error::invalid("file", e.to_string())
}
