//! The group writer: one task owns a write connection and commits every batch waiting for it
//! in one transaction, so that many small requests share one disk flush. Each batch is
//! checked against its sensors before anything of it is written, so an invalid batch is
//! refused alone; valid ones are inserted together, merged into the rollups (on SQLite,
//! through the [rollup backlog](crate::rollup::backlog), which this task also merges; on
//! PostgreSQL in the transaction, and NOTIFYed) and answered after the commit. SQLite writes
//! readings only through it; PostgreSQL sends it the batches of at most
//! [`GROUP_BATCH_MAX`](crate::reading::GROUP_BATCH_MAX) readings and commits larger ones alone
//! ([`commit_alone`]).
//!
//! The transaction bodies are macros so that one text serves both databases' transaction
//! types.

use crate::bus::{self, Announce, Event};
use crate::pool::Backend;
use crate::error::Error;
use crate::rollup::backlog::Backlog;
use hearth_core::device::Device;
use hearth_core::reading::{Incoming, Stored};
use hearth_core::sensor::Sensor;
use hearth_core::time::now_ms;
use sqlx::pool::PoolConnection;
use sqlx::{Connection, Pool, QueryBuilder};
use sqlx::postgres::PgPool;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

#[derive(sqlx::FromRow)]
struct SensorRow {
    sensor_id: i64,
    kind: String,
    room: Option<String>,
    name: Option<String>,
    main: bool,
    role: Option<String>,
}

/// Rows per INSERT statement: 3 bind parameters each stays far below both databases'
/// parameter limits.
const ROWS_PER_INSERT: usize = 1000;
/// Rows up to which every size of a multi-row statement stays prepared.
const SMALL_STATEMENT_ROWS: usize = 64;

/// Whether a statement of `rows` rows, of at most `full` each, is kept prepared on its
/// connection. A statement's compiled form grows with its rows and each count of rows is
/// another statement: kept, the odd-sized remainders of a month of posted history held 60 MB
/// in the SQLite writer's statement cache (a heap profile, BENCHMARKS.md). Full and small
/// ones repeat, so they are kept; the rest are prepared for their one use.
fn keep_prepared(rows: usize, full: usize) -> bool {
    rows <= SMALL_STATEMENT_ROWS || rows == full
}
/// Sensors already resolved, by (device id, key). Sensors are never deleted, but their room,
/// name and main flag may change: a writer clears its cache when told of a change on this
/// server, at least every [`SENSOR_CACHE_TTL`] (for changes made through another server),
/// and when a transaction that created sensors fails.
pub type SensorCache = HashMap<(i64, String), Arc<Sensor>>;

/// Resolves the sensors of `$batch` from `$device` in the open transaction `$tx` (through
/// `$cache`), checks every reading against its sensor, and only if all pass creates the
/// sensors the batch introduces. Evaluates to a future of the batch's readings paired with
/// their sensors. A macro so that one text serves both databases' transaction types.
macro_rules! resolve_batch {
    ($tx:ident, $device:expr, $batch:expr, $now_ms:expr, $cache:expr) => {
        async {
            const FIND: &str = "select sensor_id, kind, room, name, main, role from sensor where device_id = $1 and key = $2";
            const CREATE: &str = "insert into sensor (device_id, key, kind, room, main, created_at_ms) \
                 values ($1, $2, $3, $4, $5, $6) on conflict (device_id, key) do nothing \
                 returning sensor_id, kind, room, name, main, role";
            let (device, batch, now_ms, cache): (&Device, &[Incoming], i64, &mut SensorCache) =
                ($device, $batch, $now_ms, $cache);
            let sensor_of = |key: &str, row: SensorRow| -> Result<Sensor, sqlx::Error> {
                Ok(Sensor {
                    sensor_id: row.sensor_id,
                    device: device.name.clone(),
                    key: key.to_owned(),
                    kind: row.kind.try_into().map_err(|e| sqlx::Error::Decode(Box::new(e)))?,
                    room: row.room,
                    name: row.name,
                    main: row.main,
                    role: row.role.and_then(|r| r.parse().ok()),
                })
            };
            // Sensors of this batch: stored ones, then new ones (not created yet).
            let mut sensors: Vec<Arc<Sensor>> = Vec::new();
            let mut new: Vec<usize> = Vec::new();
            let mut by_key: HashMap<&str, usize> = HashMap::new();
            let mut slots = Vec::with_capacity(batch.len());
            for (index, reading) in batch.iter().enumerate() {
                let slot = match by_key.get(reading.key.as_str()) {
                    Some(slot) => *slot,
                    None => {
                        let cache_key = (device.device_id, reading.key.clone());
                        let sensor = match cache.get(&cache_key) {
                            Some(sensor) => sensor.clone(),
                            None => {
                                let found: Option<SensorRow> = sqlx::query_as(FIND)
                                    .bind(device.device_id)
                                    .bind(&reading.key)
                                    .fetch_optional(&mut *$tx)
                                    .await?;
                                match (found, reading.kind) {
                                    (Some(row), _) => {
                                        let sensor = Arc::new(sensor_of(&reading.key, row)?);
                                        cache.insert(cache_key, sensor.clone());
                                        sensor
                                    }
                                    (None, Some(kind)) => {
                                        new.push(sensors.len());
                                        Arc::new(Sensor {
                                            sensor_id: 0,
                                            device: device.name.clone(),
                                            key: reading.key.clone(),
                                            kind,
                                            room: reading.room.clone(),
                                            name: None,
                                            main: hearth_core::sensor::main_by_key(&reading.key),
                                            role: None,
                                        })
                                    }
                                    (None, None) => {
                                        return Err(Error::Invalid {
                                            index: Some(index),
                                            field: "kind",
                                            message: format!(
                                                "unknown sensor {:?}: its first reading must carry \"kind\"",
                                                reading.key
                                            ),
                                        });
                                    }
                                }
                            }
                        };
                        sensors.push(sensor);
                        by_key.insert(&reading.key, sensors.len() - 1);
                        sensors.len() - 1
                    }
                };
                check(index, reading, &sensors[slot], now_ms)?;
                slots.push(slot);
            }
            for slot in new {
                let planned = sensors[slot].clone();
                let created: Option<SensorRow> = sqlx::query_as(CREATE)
                    .bind(device.device_id)
                    .bind(&planned.key)
                    .bind(planned.kind.as_str())
                    .bind(&planned.room)
                    .bind(planned.main)
                    .bind(now_ms)
                    .fetch_optional(&mut *$tx)
                    .await?;
                let row = match created {
                    Some(row) => row,
                    // Another transaction created it first (PostgreSQL).
                    None => sqlx::query_as(FIND).bind(device.device_id).bind(&planned.key).fetch_one(&mut *$tx).await?,
                };
                let sensor = Arc::new(sensor_of(&planned.key, row)?);
                if sensor.kind != planned.kind {
                    let index = slots.iter().position(|s| *s == slot).unwrap_or(0);
                    check(index, &batch[index], &sensor, now_ms)?;
                }
                cache.insert((device.device_id, planned.key.clone()), sensor.clone());
                sensors[slot] = sensor;
            }
            Ok::<Vec<(Arc<Sensor>, &Incoming)>, Error>(
                slots.into_iter().zip(batch).map(|(slot, reading)| (sensors[slot].clone(), reading)).collect(),
            )
        }
    };
}

/// Which readings of a group an insert stored.
enum Inserted {
    /// Every one: no (sensor, time) was stored before or given twice.
    All,
    /// Those of this set of (sensor id, time).
    These(HashSet<(i64, i64)>),
    /// Not every one, and the insert did not ask which: the transaction must be rolled back
    /// and the group inserted again, exactly.
    Unknown,
}

/// Inserts resolved readings in the open transaction `$tx` and merges the new ones into
/// the rollups, or with `$backlog` appends their 1-minute buckets to the rollup backlog
/// ([`Backlog`]); evaluates to a future of which were inserted (duplicates are not) and the
/// new ones.
///
/// With `$exact` false the insert only counts the rows it stored: when that is every row (the
/// usual case) nothing more is needed, else it evaluates to [`Inserted::Unknown`] and the
/// transaction, whose rollups may then be wrong, must be rolled back. With `$exact` the
/// database returns each stored row, which on SQLite costs one hand-over between threads per
/// row. See [`take_stored`] to split it back by batch.
macro_rules! insert_rows {
    ($tx:ident, $rows:expr, $exact:expr, $backlog:expr) => {
        async {
            let (rows, exact, backlog): (&[(Arc<Sensor>, &Incoming)], bool, bool) = ($rows, $exact, $backlog);
            if !exact && !rows.is_empty() && rows.len() <= SMALL_STATEMENT_ROWS {
                // Small groups (single readings): the insert and the rollups' upsert in one
                // round trip to SQLite's connection thread, merging every reading as if new.
                let new: Vec<Stored> = rows.iter().map(stored).collect();
                let buckets = new_buckets(&new, backlog);
                let mut query = insert_readings(rows);
                query.push("; ");
                if backlog {
                    crate::rollup::backlog::push_append(&mut query, &buckets);
                } else {
                    crate::rollup::merge::push_upsert(&mut query, &buckets);
                }
                let query = query.build().persistent(buckets.len() <= SMALL_STATEMENT_ROWS);
                let changed = query.execute(&mut *$tx).await?.rows_affected();
                // Each bucket changed one row; the rest are the readings inserted.
                if changed != (rows.len() + buckets.len()) as u64 {
                    return Ok((Inserted::Unknown, Vec::new()));
                }
                return Ok((Inserted::All, new));
            }
            let mut inserted: HashSet<(i64, i64)> = HashSet::new();
            let mut count = 0u64;
            // In key order, so that each sensor's readings go into its part of the table one
            // after another rather than one sensor after another for every second of a batch;
            // a stable sort, so that of a (sensor, time) given twice the first is kept.
            let mut ordered = rows.to_vec();
            ordered.sort_by_key(|(sensor, reading)| (sensor.sensor_id, reading.at_ms));
            for chunk in ordered.chunks(ROWS_PER_INSERT) {
                let mut insert = insert_readings(chunk);
                if exact {
                    insert.push(" returning sensor_id, at_ms");
                    let returned: Vec<(i64, i64)> =
                        insert.build_query_as().persistent(keep_prepared(chunk.len(), ROWS_PER_INSERT)).fetch_all(&mut *$tx).await?;
                    inserted.extend(returned);
                } else {
                    let insert = insert.build().persistent(keep_prepared(chunk.len(), ROWS_PER_INSERT));
                    count += insert.execute(&mut *$tx).await?.rows_affected();
                }
            }
            let result = if !exact {
                if count != rows.len() as u64 {
                    return Ok::<(Inserted, Vec<Stored>), sqlx::Error>((Inserted::Unknown, Vec::new()));
                }
                Inserted::All
            } else {
                Inserted::These(inserted)
            };
            // A (sensor, time) given twice was inserted once, with its first value.
            let new: Vec<Stored> = match &result {
                Inserted::These(inserted) => {
                    let mut first = HashSet::with_capacity(inserted.len());
                    rows.iter()
                        .filter(|(sensor, reading)| {
                            let key = (sensor.sensor_id, reading.at_ms);
                            inserted.contains(&key) && first.insert(key)
                        })
                        .map(stored)
                        .collect()
                }
                _ => rows.iter().map(stored).collect(),
            };
            let buckets = new_buckets(&new, backlog);
            for chunk in buckets.chunks(crate::rollup::merge::BUCKETS_PER_UPSERT) {
                let mut query = QueryBuilder::new("");
                if backlog {
                    crate::rollup::backlog::push_append(&mut query, chunk);
                } else {
                    crate::rollup::merge::push_upsert(&mut query, chunk);
                }
                query.build().persistent(keep_prepared(chunk.len(), crate::rollup::merge::BUCKETS_PER_UPSERT)).execute(&mut *$tx).await?;
            }
            Ok::<(Inserted, Vec<Stored>), sqlx::Error>((result, new))
        }
    };
}

/// An insert of `rows` into the reading table that skips a (sensor, time) stored already.
fn insert_readings<DB>(rows: &[(Arc<Sensor>, &Incoming)]) -> QueryBuilder<DB>
where
    DB: sqlx::Database,
    DB::Arguments: Default,
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> f64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    let mut insert = QueryBuilder::new("insert into reading (sensor_id, at_ms, value) ");
    insert.push_values(rows, |mut row, (sensor, reading)| {
        row.push_bind(sensor.sensor_id).push_bind(reading.at_ms).push_bind(reading.value);
    });
    insert.push(" on conflict (sensor_id, at_ms) do nothing");
    insert
}

/// The buckets to merge for the new readings `new`: of every tier, or with `backlog` the
/// 1-minute ones the rollup backlog keeps.
fn new_buckets(new: &[Stored], backlog: bool) -> Vec<hearth_core::rollup::Bucket> {
    if backlog {
        hearth_core::rollup::buckets_in(new, &[hearth_core::time::MINUTE_MS])
    } else {
        hearth_core::rollup::buckets(new)
    }
}

/// A resolved reading as stored.
fn stored((sensor, reading): &(Arc<Sensor>, &Incoming)) -> Stored {
    Stored { sensor: sensor.clone(), at_ms: reading.at_ms, value: reading.value }
}

/// The readings of `rows` that `inserted` holds, removing them from it so that a later
/// batch (or a later copy in the same batch) sees them as duplicates.
fn take_stored(rows: Vec<(Arc<Sensor>, &Incoming)>, inserted: &mut Inserted) -> Vec<Stored> {
    let into_stored = |(sensor, reading): (Arc<Sensor>, &Incoming)| Stored { sensor, at_ms: reading.at_ms, value: reading.value };
    match inserted {
        Inserted::These(set) => {
            rows.into_iter().filter(|(sensor, reading)| set.remove(&(sensor.sensor_id, reading.at_ms))).map(into_stored).collect()
        }
        _ => rows.into_iter().map(into_stored).collect(),
    }
}

/// What a batch did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Readings stored by this batch, in the batch's order.
    pub stored: Vec<Stored>,
    /// Readings already stored before (same sensor and time), ignored.
    pub duplicates: usize,
}

/// The handle of the group writer task.
#[derive(Clone, Debug)]
pub struct GroupCommit {
    jobs: mpsc::Sender<Message>,
    sensors_changed: Arc<AtomicBool>,
    /// Set while buckets wait in the rollup backlog (SQLite).
    backlog_waiting: Arc<AtomicBool>,
}

/// The longest a group writer keeps a resolved sensor before reading it again.
pub const SENSOR_CACHE_TTL: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Job {
    device: Device,
    batch: Vec<Incoming>,
    reply: oneshot::Sender<Result<Outcome, Error>>,
}

/// What the writer task is sent.
#[derive(Debug)]
enum Message {
    /// A batch to commit.
    Job(Job),
    /// Answered as soon as the writer takes it from its queue: it is alive and not stuck.
    Ping(oneshot::Sender<()>),
    /// Answered once the rollup backlog is merged into the rollups.
    Settle(oneshot::Sender<Result<(), Error>>),
    /// Ends the task (tests of what happens when the writer is gone).
    Stop,
}


/// The most batches, and readings, one commit takes.
const GROUP_JOBS: usize = 256;
const GROUP_READINGS: usize = 20_000;

impl GroupCommit {
    /// Starts a group writer on `backend`: on SQLite's write pool (its only connection), or
    /// on the PostgreSQL pool, holding one connection at a time.
    pub(crate) fn spawn(backend: &Backend) -> GroupCommit {
        let (jobs, rx) = mpsc::channel(1024);
        let sensors_changed = Arc::new(AtomicBool::new(false));
        let backlog_waiting = Arc::new(AtomicBool::new(false));
        let backlog = match backend {
            Backend::Sqlite { .. } => Some(Backlog::new(backlog_waiting.clone())),
            Backend::Postgres { .. } => None,
        };
        let run = run_groups(backend.clone(), rx, sensors_changed.clone(), backlog);
        match backend {
            // A thread of its own: on the server's runtime each of the writer's round trips to
            // SQLite's connection thread waited behind the requests' tasks (BENCHMARKS.md).
            Backend::Sqlite { .. } => {
                let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
                let thread = runtime.and_then(|runtime| {
                    std::thread::Builder::new().name("hearth-writer".into()).spawn(move || runtime.block_on(run))
                });
                if let Err(e) = thread {
                    panic!("no thread for the writer: {e}");
                }
            }
            Backend::Postgres { .. } => {
                tokio::spawn(run);
            }
        }
        GroupCommit { jobs, sensors_changed, backlog_waiting }
    }

    /// Returns once every reading committed so far is merged into the rollups: at once, unless
    /// buckets wait in the rollup backlog (SQLite), which the writer then merges.
    pub(crate) async fn settle(&self) -> Result<(), Error> {
        if !self.backlog_waiting.load(Ordering::Acquire) {
            return Ok(());
        }
        let (reply, answer) = oneshot::channel();
        let gone = || Error::Unavailable("the writer has stopped".into());
        self.jobs.send(Message::Settle(reply)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Tells the writer that a sensor's stored fields changed, so that it reads sensors
    /// again before its next commit.
    pub(crate) fn sensors_changed(&self) {
        self.sensors_changed.store(true, Ordering::Release);
    }

    pub(crate) async fn submit(&self, device: Device, batch: Vec<Incoming>) -> Result<Outcome, Error> {
        let (reply, answer) = oneshot::channel();
        let gone = || Error::Unavailable("the writer has stopped".into());
        self.jobs.send(Message::Job(Job { device, batch, reply })).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }

    /// Waits until the writer takes a message from its queue: `Err` when its task has ended.
    /// Behind a commit that waits for the database, this waits too.
    pub(crate) async fn ping(&self) -> Result<(), &'static str> {
        let (reply, answer) = oneshot::channel();
        self.jobs.send(Message::Ping(reply)).await.map_err(|_| "the writer has stopped")?;
        answer.await.map_err(|_| "the writer has stopped")
    }

    /// Ends the writer task; every later batch is answered 503.
    pub(crate) async fn stop(&self) {
        let _ = self.jobs.send(Message::Stop).await;
    }
}

/// The job `message` carries (`Some(None)` for a ping, answered here, or a request to
/// settle, put in `settles`); `None` once the queue is closed or the writer is told to stop.
fn take(message: Option<Message>, settles: &mut Vec<oneshot::Sender<Result<(), Error>>>) -> Option<Option<Job>> {
    match message? {
        Message::Job(job) => Some(Some(job)),
        Message::Ping(reply) => {
            let _ = reply.send(());
            Some(None)
        }
        Message::Settle(reply) => {
            settles.push(reply);
            Some(None)
        }
        Message::Stop => None,
    }
}

/// The next message, or `Some(None)` once `deadline` passes first.
async fn next(rx: &mut mpsc::Receiver<Message>, deadline: Option<Instant>) -> Option<Option<Message>> {
    match deadline {
        Some(deadline) => tokio::time::timeout_at(deadline.into(), rx.recv()).await.map_or(Some(None), |m| m.map(Some)),
        None => rx.recv().await.map(Some),
    }
}

async fn run_groups(
    backend: Backend,
    mut rx: mpsc::Receiver<Message>,
    sensors_changed: Arc<AtomicBool>,
    mut backlog: Option<Backlog>,
) {
    let mut cache = SensorCache::new();
    let mut cached_since = Instant::now();
    let mut sqlite = Kept::default();
    let mut postgres = Kept::default();
    let mut settles = Vec::new();
    loop {
        let Some(message) = next(&mut rx, backlog.as_ref().and_then(Backlog::deadline)).await else { break };
        let first = match message {
            Some(message) => match take(Some(message), &mut settles) {
                Some(first) => first,
                None => break,
            },
            None => None,
        };
        let Some(first) = first else {
            if backlog.as_ref().is_some_and(Backlog::due) || !settles.is_empty() {
                flush_backlog(&backend, backlog.as_mut(), &mut sqlite, &mut settles, rx.is_empty()).await;
            }
            continue;
        };
        if sensors_changed.swap(false, Ordering::Acquire) || cached_since.elapsed() > SENSOR_CACHE_TTL {
            cache.clear();
            cached_since = Instant::now();
        }
        let mut readings = first.batch.len();
        let mut jobs = vec![first];
        let mut stop = false;
        while jobs.len() < GROUP_JOBS && readings < GROUP_READINGS {
            let Ok(message) = rx.try_recv() else { break };
            match take(Some(message), &mut settles) {
                Some(Some(job)) => {
                    readings += job.batch.len();
                    jobs.push(job);
                }
                Some(None) => {}
                None => {
                    stop = true;
                    break;
                }
            }
        }
        // A group that fails leaves its connection in a state that cannot be trusted: SQLite
        // rolls a transaction back by itself when the disk is full, while sqlx still counts it
        // open, and a PostgreSQL connection may have been cut. That connection is closed, and
        // the next group gets a fresh one.
        let group = (jobs.len() as f64, readings as f64);
        let committed = match &backend {
            Backend::Sqlite { write, .. } => match sqlite.get(write).await {
                Ok(conn) => {
                    let started = Instant::now();
                    let committed =
                        commit_group!(conn.begin_with("begin immediate"), jobs, &mut cache, false, backlog.as_mut()).await;
                    committed_group(committed, group, started);
                    sqlite.after_group(committed, rx.is_empty());
                    committed
                }
                Err(e) => refuse(jobs, &e),
            },
            Backend::Postgres { pool } => match postgres.get(pool).await {
                Ok(conn) => {
                    let started = Instant::now();
                    let committed = commit_group!(conn.begin(), jobs, &mut cache, true, None).await;
                    committed_group(committed, group, started);
                    postgres.after_group(committed, rx.is_empty());
                    committed
                }
                Err(e) => refuse(jobs, &e),
            },
        };
        if !committed {
            // Sensors the failed transaction created are not in the database.
            cache.clear();
        }
        if backlog.as_ref().is_some_and(Backlog::due) || !settles.is_empty() {
            flush_backlog(&backend, backlog.as_mut(), &mut sqlite, &mut settles, rx.is_empty()).await;
        }
        if stop {
            break;
        }
    }
}

/// Merges the rollup backlog into the rollups (SQLite) on the writer's kept connection, and
/// answers `settles` with how it went; the backlog stays for the next try if it failed.
async fn flush_backlog(
    backend: &Backend,
    backlog: Option<&mut Backlog>,
    sqlite: &mut Kept<sqlx::Sqlite>,
    settles: &mut Vec<oneshot::Sender<Result<(), Error>>>,
    idle: bool,
) {
    let result = match (backend, backlog) {
        (Backend::Sqlite { write, .. }, Some(backlog)) => match sqlite.get(write).await {
            Ok(conn) => {
                let result = backlog.flush(conn).await;
                sqlite.after_group(result.is_ok(), idle);
                result.map_err(|e| e.to_string())
            }
            Err(e) => Err(e.to_string()),
        },
        _ => Ok(()),
    };
    if let Err(e) = &result {
        tracing::error!(error = %e, "could not merge the rollup backlog; trying again");
    }
    for reply in settles.drain(..) {
        let _ = reply.send(result.clone().map_err(Error::Unavailable));
    }
}

/// The longest the writer keeps its connection while batches keep coming: other writes of
/// this server (settings, devices, alerts) wait for it at most this long, plus one group.
const KEEP_AT_MOST: Duration = Duration::from_millis(10);

/// The writer's connection, kept from one group to the next while more batches wait: taking
/// one from the pool and giving it back costs hand-overs to the connection's thread (sqlx
/// tests it on release) that took a third of the writer's time under single-reading load
/// (BENCHMARKS.md, ingest profile).
struct Kept<DB: sqlx::Database> {
    conn: Option<(PoolConnection<DB>, Instant)>,
}

impl<DB: sqlx::Database> Default for Kept<DB> {
    fn default() -> Self {
        Kept { conn: None }
    }
}

impl<DB: sqlx::Database> Kept<DB> {
    /// The kept connection, or one from `pool` (recording how long it waited).
    async fn get(&mut self, pool: &Pool<DB>) -> Result<&mut PoolConnection<DB>, sqlx::Error> {
        if self.conn.is_none() {
            let waited = Instant::now();
            let conn = pool.acquire().await?;
            metrics::histogram!("hearth_db_pool_wait_seconds", "pool" => "writer").record(waited.elapsed().as_secs_f64());
            self.conn = Some((conn, Instant::now()));
        }
        Ok(&mut self.conn.as_mut().expect("a connection was just taken").0)
    }

    /// Closes the connection after a group that failed; gives it back to the pool when no
    /// batch waits or it was kept [`KEEP_AT_MOST`].
    fn after_group(&mut self, committed: bool, idle: bool) {
        let Some((conn, since)) = &mut self.conn else { return };
        if !committed {
            conn.close_on_drop();
            self.conn = None;
        } else if idle || since.elapsed() >= KEEP_AT_MOST {
            self.conn = None;
        }
    }
}

/// Records a group's size (batches, readings) and how long its transaction took since
/// `started`, when it committed.
fn committed_group(committed: bool, (batches, readings): (f64, f64), started: Instant) {
    if committed {
        metrics::histogram!("hearth_commit_seconds").record(started.elapsed().as_secs_f64());
        metrics::histogram!("hearth_commit_batches").record(batches);
        metrics::histogram!("hearth_commit_readings").record(readings);
    } else {
        metrics::counter!("hearth_commit_failures_total").increment(1);
    }
}

/// Commits the valid batches of `$jobs` in one transaction begun by `$begin` and answers every
/// job: invalid batches at once, valid ones after the commit. With `$notify` (PostgreSQL) what
/// was stored is NOTIFYed inside the transaction, and each stored row is returned by the
/// insert; on SQLite the caller announces what was stored, and the insert first only counts
/// its rows: if some were duplicates, the transaction is rolled back and the group inserted
/// again, asking which. Evaluates to a future of whether the transaction committed; `false`
/// when it failed, or could not begin, and every valid batch was answered 503.
macro_rules! commit_group {
    ($begin:expr, $jobs:expr, $cache:expr, $notify:expr, $backlog:expr) => {
        async {
            let (jobs, cache, notify, mut backlog): (Vec<Job>, &mut SensorCache, bool, Option<&mut Backlog>) =
                ($jobs, $cache, $notify, $backlog);
            let (replies, work): (Vec<_>, Vec<_>) = jobs.into_iter().map(|j| (j.reply, (j.device, j.batch))).unzip();
            let mut replies: Vec<Option<oneshot::Sender<Result<Outcome, Error>>>> =
                replies.into_iter().map(Some).collect();
            let mut answer = |i: usize, result: Result<Outcome, Error>| {
                if let Some(reply) = replies[i].take() {
                    let _ = reply.send(result);
                }
            };
            let mut exact = notify;
            let mut appended: Vec<Stored> = Vec::new();
            let (failure, results) = loop {
                let mut tx = match $begin.await {
                    Ok(tx) => tx,
                    Err(e) => {
                        for i in 0..work.len() {
                            answer(i, Err(Error::Unavailable(e.to_string())));
                        }
                        return false;
                    }
                };
                let now_ms = now_ms();
                let mut valid = Vec::with_capacity(work.len());
                let mut failure = None;
                for (i, (device, batch)) in work.iter().enumerate() {
                    match resolve_batch!(tx, device, batch, now_ms, &mut *cache).await {
                        Ok(rows) => valid.push((i, rows)),
                        Err(e @ Error::Invalid { .. }) => answer(i, Err(e)),
                        Err(e) => {
                            failure = Some(e.to_string());
                            break;
                        }
                    }
                }
                let mut results: Vec<(usize, Vec<Stored>)> = Vec::with_capacity(valid.len());
                if failure.is_none() {
                    let all: Vec<(Arc<Sensor>, &Incoming)> = valid.iter().flat_map(|(_, rows)| rows.iter().cloned()).collect();
                    match insert_rows!(tx, &all, exact, backlog.is_some()).await {
                        Ok((Inserted::Unknown, _)) => {
                            if let Err(e) = tx.rollback().await {
                                break (Some(e.to_string()), results);
                            }
                            // Sensors the rolled-back transaction created are not in the database.
                            cache.clear();
                            exact = true;
                            continue;
                        }
                        Ok((mut inserted, new)) => {
                            results = valid.into_iter().map(|(i, rows)| (i, take_stored(rows, &mut inserted))).collect();
                            appended = new;
                        }
                        Err(e) => failure = Some(e.to_string()),
                    }
                }
                if failure.is_none() && notify {
                    let event = Event::Readings(results.iter().flat_map(|(_, s)| s.iter().cloned()).collect());
                    if let Err(e) = Announce::announce(&mut *tx, &event).await {
                        failure = Some(e.to_string());
                    }
                }
                if failure.is_none()
                    && let Err(e) = tx.commit().await
                {
                    failure = Some(e.to_string());
                }
                break (failure, results);
            };
            match failure {
                Some(message) => {
                    for i in 0..work.len() {
                        answer(i, Err(Error::Unavailable(message.clone())));
                    }
                    false
                }
                None => {
                    if let Some(backlog) = backlog.as_deref_mut() {
                        backlog.add(appended);
                    }
                    for (i, stored) in results {
                        answer(i, Ok(Outcome { duplicates: work[i].1.len() - stored.len(), stored }));
                    }
                    true
                }
            }
        }
    };
}
use commit_group;

fn check(index: usize, reading: &Incoming, sensor: &Sensor, now_ms: i64) -> Result<(), Error> {
    // Ingest let a reading without its kind come up to the furthest any kind may: its
    // sensor's kind decides.
    if reading.at_ms > now_ms + sensor.kind.max_ahead_ms() {
        return Err(Error::Invalid {
            index: Some(index),
            field: "at",
            message: format!("at is more than {} minutes in the future", sensor.kind.max_ahead_ms() / 60_000),
        });
    }
    if let Some(kind) = reading.kind
        && kind != sensor.kind
    {
        return Err(Error::Invalid {
            index: Some(index),
            field: "kind",
            message: format!("sensor {:?} is a {} sensor, not {}", sensor.key, sensor.kind, kind),
        });
    }
    sensor.kind.check(reading.value).map_err(|message| Error::Invalid {
        index: Some(index),
        field: "value",
        message,
    })
}

/// Answers every job 503: the database could not be reached. Returns `false`, as a group that
/// failed.
fn refuse(jobs: Vec<Job>, e: &sqlx::Error) -> bool {
    for job in jobs {
        let _ = job.reply.send(Err(Error::Unavailable(e.to_string())));
    }
    false
}

/// Commits one large batch from `device` in a transaction of its own on PostgreSQL, beside
/// the group writer, announcing what it stored by NOTIFY inside it.
pub(crate) async fn commit_alone(pool: &PgPool, device: &Device, batch: &[Incoming]) -> Result<Outcome, Error> {
    let mut tx = pool.begin().await?;
    let rows = resolve_batch!(tx, device, batch, now_ms(), &mut SensorCache::new()).await?;
    let (mut inserted, _) = insert_rows!(tx, &rows, true, false).await?;
    let stored = take_stored(rows, &mut inserted);
    bus::notify(&mut tx, &Event::Readings(stored.iter().cloned().collect())).await?;
    tx.commit().await?;
    Ok(Outcome { duplicates: batch.len() - stored.len(), stored })
}
