//! Readings: one value of one sensor at one instant. Devices post them, the store keeps them,
//! the live stream pushes each stored one to every open dashboard.

use crate::sensor::{Kind, Sensor};
use serde::{Deserialize, Serialize};

/// The most points a history series holds for one sensor: enough for a sharp line at any
/// screen width, few enough to send quickly.
pub const MAX_POINTS: i64 = 720;

/// One reading as the live stream sends it (`event: reading`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LiveReading {
    /// The sensor's database id.
    pub sensor_id: i64,
    /// Name of the device that posted the reading.
    pub device: String,
    /// The sensor's key on its device.
    pub sensor: String,
    /// What the sensor measures.
    pub kind: Kind,
    /// The sensor's room, if set.
    pub room: Option<String>,
    /// The value, in the kind's unit.
    pub value: f64,
    /// When the value was measured, RFC 3339 in UTC.
    pub at: String,
}

/// A point of a chart: one reading, or the readings of a time bucket (their mean, with
/// their extremes for the min–max band).
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Time in Unix milliseconds (a bucket's middle).
    pub at_ms: i64,
    /// The value, or the bucket's mean.
    pub value: f64,
    /// The bucket's smallest value (the value itself for one reading).
    pub min: f64,
    /// The bucket's largest value.
    pub max: f64,
    /// The width of the bucket in milliseconds; 0 for one reading.
    pub span_ms: i64,
}

impl Point {
    /// A point for one reading.
    pub fn raw(at_ms: i64, value: f64) -> Point {
        Point { at_ms, value, min: value, max: value, span_ms: 0 }
    }
}

/// A sensor's recent history and its latest reading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Series {
    /// The sensor.
    pub sensor: Sensor,
    /// Mean values over equal time buckets, oldest first.
    pub points: Vec<Point>,
    /// The newest stored reading, if any.
    pub latest: Option<Point>,
}

/// One bucket of a series: the readings of one sensor in `[start, start + width)`.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct Bucket {
    /// Start of the bucket, Unix milliseconds.
    pub start_ms: i64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Mean value.
    pub mean: f64,
    /// Number of readings.
    pub count: i64,
    /// Time of the earliest reading in the bucket, Unix milliseconds.
    pub first_at_ms: i64,
}

/// Adds a live reading to `all`, the series of the sensors a view shows: appends the point to
/// its sensor's series (or starts a series for a new sensor, kept in label order), moves the
/// latest value forward, and drops points before `keep_from_ms`.
pub fn merge_live(all: &mut Vec<Series>, reading: &LiveReading, at_ms: i64, keep_from_ms: i64) {
    let point = Point::raw(at_ms, reading.value);
    let series = match all.iter_mut().position(|s| s.sensor.sensor_id == reading.sensor_id) {
        Some(i) => &mut all[i],
        None => {
            let sensor = reading.sensor();
            let at = all.partition_point(|s| (s.sensor.label(), s.sensor.sensor_id) < (sensor.label(), sensor.sensor_id));
            all.insert(at, Series { sensor, points: Vec::new(), latest: None });
            &mut all[at]
        }
    };
    let at = series.points.partition_point(|p| p.at_ms < at_ms);
    if series.points.get(at).is_none_or(|p| p.at_ms != at_ms) {
        series.points.insert(at, point);
    }
    if series.latest.is_none_or(|latest| latest.at_ms <= at_ms) {
        series.latest = Some(point);
    }
    let keep = series.points.partition_point(|p| p.at_ms < keep_from_ms);
    series.points.drain(..keep);
}

impl LiveReading {
    /// The sensor the reading belongs to, as far as the reading tells.
    pub fn sensor(&self) -> Sensor {
        Sensor {
            sensor_id: self.sensor_id,
            device: self.device.clone(),
            key: self.sensor.clone(),
            kind: self.kind,
            room: self.room.clone(),
            name: None,
            main: crate::sensor::main_by_key(&self.sensor),
        }
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Storing readings and reading them back.

    use super::{LiveReading, Point, Series};
    use crate::device::Device;
    use crate::sensor::{Kind, Sensor};
    use crate::store::{Db, with_db};
    use sqlx::QueryBuilder;
    use sqlx::postgres::PgPool;
    use sqlx::sqlite::SqlitePool;
    use std::collections::{HashMap, HashSet};
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};
    use tokio::sync::{mpsc, oneshot};

    /// A reading that passed the checks that need no database, not yet tied to a sensor.
    #[derive(Clone, Debug, PartialEq)]
    pub struct Incoming {
        /// The sensor key on the posting device.
        pub key: String,
        /// The value, finite.
        pub value: f64,
        /// When it was measured, Unix milliseconds.
        pub at_ms: i64,
        /// The kind the device claims; required for a sensor's first reading.
        pub kind: Option<Kind>,
        /// The room for a new sensor.
        pub room: Option<String>,
    }

    /// A reading that was stored now (not a duplicate).
    #[derive(Clone, Debug)]
    pub struct Stored {
        /// Its sensor, shared by the batch's readings of that sensor.
        pub sensor: Arc<Sensor>,
        /// Time in Unix milliseconds.
        pub at_ms: i64,
        /// The value.
        pub value: f64,
    }

    /// What a batch did.
    #[derive(Debug, Default)]
    pub struct Outcome {
        /// Readings stored by this batch, in the batch's order.
        pub stored: Vec<Stored>,
        /// Readings already stored before (same sensor and time), ignored.
        pub duplicates: usize,
    }

    /// Why a batch was refused. A refused batch stores nothing.
    #[derive(Debug, thiserror::Error)]
    pub enum StoreError {
        /// A reading breaks a rule that depends on stored sensors.
        #[error("{message}")]
        Invalid {
            /// Position of the reading in the batch.
            index: usize,
            /// The reading's field at fault.
            field: &'static str,
            /// What is wrong, for a person.
            message: String,
        },
        /// The database failed.
        #[error(transparent)]
        Db(#[from] sqlx::Error),
        /// The batch's group could not be committed; nothing of it was stored.
        #[error("the database could not commit: {0}")]
        Unavailable(String),
    }

    #[derive(sqlx::FromRow)]
    struct SensorRow {
        sensor_id: i64,
        kind: String,
        room: Option<String>,
        name: Option<String>,
        main: bool,
    }

    /// Rows per INSERT statement: 3 bind parameters each stays far below both databases'
    /// parameter limits.
    const ROWS_PER_INSERT: usize = 1000;

    /// The PostgreSQL channel on which every server hears of the readings any server stored.
    pub const NOTIFY_CHANNEL: &str = "hearth_readings";
    const NOTIFY: &str = "select pg_notify($1, $2)";
    /// PostgreSQL refuses NOTIFY payloads of 8000 bytes or more.
    const MAX_PAYLOAD: usize = 7900;

    impl Stored {
        /// The reading as the live stream sends it.
        pub fn live(&self) -> LiveReading {
            LiveReading {
                sensor_id: self.sensor.sensor_id,
                device: self.sensor.device.clone(),
                sensor: self.sensor.key.clone(),
                kind: self.sensor.kind,
                room: self.sensor.room.clone(),
                value: self.value,
                at: rfc3339(self.at_ms),
            }
        }
    }

    /// Unix milliseconds as an RFC 3339 UTC time.
    pub fn rfc3339(at_ms: i64) -> String {
        jiff::Timestamp::from_millisecond(at_ms).map_or_else(|_| at_ms.to_string(), |t| t.to_string())
    }

    /// The stored readings as JSON arrays of [`LiveReading`]s, each small enough for one NOTIFY.
    fn notify_payloads(stored: &[Stored]) -> Vec<String> {
        let mut payloads = Vec::new();
        let mut current = String::from("[");
        for reading in stored {
            let Ok(json) = serde_json::to_string(&reading.live()) else { continue };
            if current.len() > 1 && current.len() + json.len() + 2 > MAX_PAYLOAD {
                current.push(']');
                payloads.push(std::mem::replace(&mut current, String::from("[")));
            }
            if current.len() > 1 {
                current.push(',');
            }
            current.push_str(&json);
        }
        if current.len() > 1 {
            current.push(']');
            payloads.push(current);
        }
        payloads
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
                const FIND: &str = "select sensor_id, kind, room, name, main from sensor where device_id = $1 and key = $2";
                const CREATE: &str = "insert into sensor (device_id, key, kind, room, main, created_at_ms) \
                     values ($1, $2, $3, $4, $5, $6) on conflict (device_id, key) do nothing \
                     returning sensor_id, kind, room, name, main";
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
                                                main: crate::sensor::main_by_key(&reading.key),
                                            })
                                        }
                                        (None, None) => {
                                            return Err(StoreError::Invalid {
                                                index,
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
                    check(index, reading, &sensors[slot])?;
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
                        check(index, &batch[index], &sensor)?;
                    }
                    cache.insert((device.device_id, planned.key.clone()), sensor.clone());
                    sensors[slot] = sensor;
                }
                Ok::<Vec<(Arc<Sensor>, &Incoming)>, StoreError>(
                    slots.into_iter().zip(batch).map(|(slot, reading)| (sensors[slot].clone(), reading)).collect(),
                )
            }
        };
    }

    /// Inserts resolved readings in the open transaction `$tx` and merges the new ones into
    /// the rollups; evaluates to a future of the set of (sensor id, time) actually inserted
    /// (duplicates are not). See [`take_stored`] to split it back by batch.
    macro_rules! insert_rows {
        ($tx:ident, $rows:expr) => {
            async {
                let rows: &[(Arc<Sensor>, &Incoming)] = $rows;
                let mut inserted: HashSet<(i64, i64)> = HashSet::with_capacity(rows.len());
                for chunk in rows.chunks(ROWS_PER_INSERT) {
                    let mut insert = QueryBuilder::new("insert into reading (sensor_id, at_ms, value) ");
                    insert.push_values(chunk, |mut row, (sensor, reading)| {
                        row.push_bind(sensor.sensor_id).push_bind(reading.at_ms).push_bind(reading.value);
                    });
                    insert.push(" on conflict (sensor_id, at_ms) do nothing returning sensor_id, at_ms");
                    let returned: Vec<(i64, i64)> = insert.build_query_as().fetch_all(&mut *$tx).await?;
                    inserted.extend(returned);
                }
                // A (sensor, time) given twice was inserted once, with its first value.
                let mut first = HashSet::with_capacity(inserted.len());
                let new: Vec<Stored> = rows
                    .iter()
                    .filter(|(sensor, reading)| {
                        let key = (sensor.sensor_id, reading.at_ms);
                        inserted.contains(&key) && first.insert(key)
                    })
                    .map(|(sensor, reading)| Stored { sensor: sensor.clone(), at_ms: reading.at_ms, value: reading.value })
                    .collect();
                for chunk in crate::rollup::ssr::buckets(&new).chunks(crate::rollup::ssr::BUCKETS_PER_UPSERT) {
                    crate::rollup::ssr::upsert(chunk).build().execute(&mut *$tx).await?;
                }
                Ok::<HashSet<(i64, i64)>, sqlx::Error>(inserted)
            }
        };
    }

    /// The readings of `rows` that `inserted` holds, removing them from it so that a later
    /// batch (or a later copy in the same batch) sees them as duplicates.
    fn take_stored(rows: Vec<(Arc<Sensor>, &Incoming)>, inserted: &mut HashSet<(i64, i64)>) -> Vec<Stored> {
        rows.into_iter()
            .filter(|(sensor, reading)| inserted.remove(&(sensor.sensor_id, reading.at_ms)))
            .map(|(sensor, reading)| Stored { sensor, at_ms: reading.at_ms, value: reading.value })
            .collect()
    }

    /// Stores a batch from `device`: creates the sensors it introduces, checks every reading
    /// against its sensor's kind and inserts the readings, all in one transaction. A reading
    /// whose (sensor, time) is already stored counts as a duplicate. When this returns `Ok`,
    /// the batch is durably committed; on `Err`, nothing of it is stored.
    ///
    /// On SQLite, batches posted at the same time are committed together ([`GroupCommit`]), so
    /// many small requests share one disk flush. On PostgreSQL the transaction also notifies
    /// [`NOTIFY_CHANNEL`] of the stored readings, so that every server sharing the database
    /// hears of them when, and only if, they commit.
    pub async fn store(db: &Db, device: &Device, batch: Vec<Incoming>) -> Result<Outcome, StoreError> {
        if batch.is_empty() {
            return Ok(Outcome::default());
        }
        match db {
            Db::Sqlite(sqlite) => sqlite.ingest.submit(device.clone(), batch).await,
            Db::Postgres(pg) if batch.len() <= GROUP_BATCH_MAX => pg.ingest.submit(device.clone(), batch).await,
            // A large batch is worth a transaction of its own, beside the group writer.
            Db::Postgres(pg) => {
                let mut tx = pg.pool.begin().await?;
                let rows = resolve_batch!(tx, device, &batch, now_ms(), &mut SensorCache::new()).await?;
                let mut inserted = insert_rows!(tx, &rows).await?;
                let stored = take_stored(rows, &mut inserted);
                for payload in notify_payloads(&stored) {
                    sqlx::query(NOTIFY).bind(NOTIFY_CHANNEL).bind(payload).execute(&mut *tx).await?;
                }
                tx.commit().await?;
                Ok(Outcome { duplicates: batch.len() - stored.len(), stored })
            }
        }
    }

    fn now_ms() -> i64 {
        jiff::Timestamp::now().as_millisecond()
    }

    /// Group commit: one task owns a write connection and commits every batch waiting for it
    /// in one transaction, so that many small requests share one disk flush. Each batch is
    /// checked before anything of it is written, so an invalid batch is refused alone; valid
    /// ones are inserted together and answered after the commit. The task keeps a cache of
    /// resolved sensors. SQLite writes only through it; PostgreSQL sends it the batches of at
    /// most [`GROUP_BATCH_MAX`] readings.
    #[derive(Clone, Debug)]
    pub struct GroupCommit {
        jobs: mpsc::Sender<Job>,
        sensors_changed: Arc<AtomicBool>,
    }

    /// The longest a group writer keeps a resolved sensor before reading it again.
    pub const SENSOR_CACHE_TTL: Duration = Duration::from_secs(60);

    /// Batches up to this size go through PostgreSQL's group writer; larger ones commit alone.
    pub const GROUP_BATCH_MAX: usize = 100;

    #[derive(Debug)]
    struct Job {
        device: Device,
        batch: Vec<Incoming>,
        reply: oneshot::Sender<Result<Outcome, StoreError>>,
    }

    /// The pool a group writer writes through.
    enum Writer {
        Sqlite(SqlitePool),
        Postgres(PgPool),
    }

    /// The most batches, and readings, one commit takes.
    const GROUP_JOBS: usize = 256;
    const GROUP_READINGS: usize = 20_000;

    impl GroupCommit {
        /// Starts a group writer on SQLite's write pool (its only connection).
        pub fn sqlite(pool: SqlitePool) -> GroupCommit {
            GroupCommit::spawn(Writer::Sqlite(pool))
        }

        /// Starts a group writer on a PostgreSQL pool; it holds one connection at a time.
        pub fn postgres(pool: PgPool) -> GroupCommit {
            GroupCommit::spawn(Writer::Postgres(pool))
        }

        fn spawn(writer: Writer) -> GroupCommit {
            let (jobs, rx) = mpsc::channel(1024);
            let sensors_changed = Arc::new(AtomicBool::new(false));
            tokio::spawn(run_groups(writer, rx, sensors_changed.clone()));
            GroupCommit { jobs, sensors_changed }
        }

        /// Tells the writer that a sensor's stored fields changed, so that it reads sensors
        /// again before its next commit.
        pub fn sensors_changed(&self) {
            self.sensors_changed.store(true, Ordering::Release);
        }

        async fn submit(&self, device: Device, batch: Vec<Incoming>) -> Result<Outcome, StoreError> {
            let (reply, answer) = oneshot::channel();
            let gone = || StoreError::Unavailable("the writer has stopped".into());
            self.jobs.send(Job { device, batch, reply }).await.map_err(|_| gone())?;
            answer.await.map_err(|_| gone())?
        }
    }

    async fn run_groups(writer: Writer, mut rx: mpsc::Receiver<Job>, sensors_changed: Arc<AtomicBool>) {
        let mut cache = SensorCache::new();
        let mut cached_since = Instant::now();
        while let Some(first) = rx.recv().await {
            if sensors_changed.swap(false, Ordering::Acquire) || cached_since.elapsed() > SENSOR_CACHE_TTL {
                cache.clear();
                cached_since = Instant::now();
            }
            let mut readings = first.batch.len();
            let mut jobs = vec![first];
            while jobs.len() < GROUP_JOBS && readings < GROUP_READINGS {
                let Ok(job) = rx.try_recv() else { break };
                readings += job.batch.len();
                jobs.push(job);
            }
            let committed = match &writer {
                Writer::Sqlite(pool) => commit_group!(pool.begin_with("begin immediate"), jobs, &mut cache, false).await,
                Writer::Postgres(pool) => commit_group!(pool.begin(), jobs, &mut cache, true).await,
            };
            if !committed {
                // Sensors the failed transaction created are not in the database.
                cache.clear();
            }
        }
    }

    /// Commits the valid batches of `$jobs` in one transaction begun by `$begin`, notifying
    /// [`NOTIFY_CHANNEL`] if `$notify`, and answers every job: invalid batches at once, valid
    /// ones after the commit. Evaluates to a future of whether the transaction committed (or
    /// never began).
    macro_rules! commit_group {
        ($begin:expr, $jobs:expr, $cache:expr, $notify:expr) => {
            async {
                let (jobs, cache, notify): (Vec<Job>, &mut SensorCache, bool) = ($jobs, $cache, $notify);
                let (replies, work): (Vec<_>, Vec<_>) = jobs.into_iter().map(|j| (j.reply, (j.device, j.batch))).unzip();
                let mut replies: Vec<Option<oneshot::Sender<Result<Outcome, StoreError>>>> =
                    replies.into_iter().map(Some).collect();
                let mut answer = |i: usize, result: Result<Outcome, StoreError>| {
                    if let Some(reply) = replies[i].take() {
                        let _ = reply.send(result);
                    }
                };
                let mut tx = match $begin.await {
                    Ok(tx) => tx,
                    Err(e) => {
                        for i in 0..work.len() {
                            answer(i, Err(StoreError::Unavailable(e.to_string())));
                        }
                        return true;
                    }
                };
                let now_ms = now_ms();
                let mut valid = Vec::with_capacity(work.len());
                let mut failure = None;
                for (i, (device, batch)) in work.iter().enumerate() {
                    match resolve_batch!(tx, device, batch, now_ms, &mut *cache).await {
                        Ok(rows) => valid.push((i, rows)),
                        Err(e @ StoreError::Invalid { .. }) => answer(i, Err(e)),
                        Err(e) => {
                            failure = Some(e.to_string());
                            break;
                        }
                    }
                }
                let mut results: Vec<(usize, Vec<Stored>)> = Vec::with_capacity(valid.len());
                if failure.is_none() {
                    let all: Vec<(Arc<Sensor>, &Incoming)> = valid.iter().flat_map(|(_, rows)| rows.iter().cloned()).collect();
                    match insert_rows!(tx, &all).await {
                        Ok(mut inserted) => {
                            results = valid.into_iter().map(|(i, rows)| (i, take_stored(rows, &mut inserted))).collect();
                        }
                        Err(e) => failure = Some(e.to_string()),
                    }
                }
                if failure.is_none() && notify {
                    let stored: Vec<Stored> = results.iter().flat_map(|(_, s)| s.iter().cloned()).collect();
                    for payload in notify_payloads(&stored) {
                        if let Err(e) = sqlx::query(NOTIFY).bind(NOTIFY_CHANNEL).bind(payload).execute(&mut *tx).await {
                            failure = Some(e.to_string());
                            break;
                        }
                    }
                }
                if failure.is_none()
                    && let Err(e) = tx.commit().await
                {
                    failure = Some(e.to_string());
                }
                match failure {
                    Some(message) => {
                        for i in 0..work.len() {
                            answer(i, Err(StoreError::Unavailable(message.clone())));
                        }
                        false
                    }
                    None => {
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

    fn check(index: usize, reading: &Incoming, sensor: &Sensor) -> Result<(), StoreError> {
        if let Some(kind) = reading.kind
            && kind != sensor.kind
        {
            return Err(StoreError::Invalid {
                index,
                field: "kind",
                message: format!("sensor {:?} is a {} sensor, not {}", sensor.key, sensor.kind, kind),
            });
        }
        sensor.kind.check(reading.value).map_err(|message| StoreError::Invalid {
            index,
            field: "value",
            message,
        })
    }

    /// [`history_in`] with at most [`MAX_POINTS`](super::MAX_POINTS) points per sensor.
    pub async fn history(db: &Db, kind: Kind, from_ms: i64, to_ms: i64) -> Result<Vec<Series>, sqlx::Error> {
        history_in(db, kind, from_ms, to_ms, super::MAX_POINTS).await
    }

    /// The history of every sensor of `kind` between `from_ms` and `to_ms`, as at most
    /// `points` buckets per sensor (mean, min and max of each), with each sensor's latest
    /// reading. Buckets at least a minute wide are read from the coarsest rollup tier that
    /// fits, not from raw readings; narrower ones are single readings.
    pub async fn history_in(db: &Db, kind: Kind, from_ms: i64, to_ms: i64, points: i64) -> Result<Vec<Series>, sqlx::Error> {
        let sensors = crate::sensor::ssr::list_by_kind(db, kind).await?;
        let mut series = Vec::with_capacity(sensors.len());
        for sensor in sensors {
            series.push(sensor_history(db, sensor, from_ms, to_ms, points).await?);
        }
        // The order of the legend and of live additions (`merge_live`), whatever the database's.
        series.sort_by_cached_key(|s| (s.sensor.label(), s.sensor.sensor_id));
        Ok(series)
    }

    /// One sensor's history, as [`history`] gives it.
    pub async fn sensor_history(db: &Db, sensor: Sensor, from_ms: i64, to_ms: i64, points: i64) -> Result<Series, sqlx::Error> {
        const LATEST: &str = "select at_ms, value from reading where sensor_id = $1 \
             order by at_ms desc limit 1";
        let plan = Plan::new(from_ms, to_ms, points);
        let buckets = buckets(db, sensor.sensor_id, from_ms, to_ms, plan).await?;
        let latest: Option<(i64, f64)> =
            with_db!(db, read, |pool| sqlx::query_as(LATEST).bind(sensor.sensor_id).fetch_optional(pool).await)?;
        let half = plan.bucket_ms / 2;
        let points = buckets
            .into_iter()
            .map(|b| {
                if b.count == 1 && plan.tier_ms.is_none() {
                    Point { at_ms: b.first_at_ms, value: b.mean, min: b.min, max: b.max, span_ms: 0 }
                } else {
                    Point { at_ms: b.start_ms + half, value: b.mean, min: b.min, max: b.max, span_ms: plan.bucket_ms }
                }
            })
            .collect();
        Ok(Series { sensor, points, latest: latest.map(|(at_ms, value)| Point::raw(at_ms, value)) })
    }

    /// The smallest and largest value of a sensor in `[from_ms, to_ms)`, from the 1-minute
    /// rollups (`from_ms` and `to_ms` are taken as whole minutes; local days start on one).
    pub async fn extremes(db: &Db, sensor_id: i64, from_ms: i64, to_ms: i64) -> Result<Option<(f64, f64)>, sqlx::Error> {
        const SQL: &str = "select min(value_min), max(value_max) from rollup \
             where sensor_id = $1 and tier_ms = 60000 and bucket_ms >= $2 and bucket_ms < $3";
        let (lo, hi): (Option<f64>, Option<f64>) =
            with_db!(db, read, |pool| sqlx::query_as(SQL).bind(sensor_id).bind(from_ms).bind(to_ms).fetch_one(pool).await)?;
        Ok(lo.zip(hi))
    }

    /// Where a range query reads from, and how wide its buckets are.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub struct Plan {
        /// Bucket width in milliseconds: the range divided by the points asked for, or wider.
        pub bucket_ms: i64,
        /// The rollup tier read, or `None` for raw readings.
        pub tier_ms: Option<i64>,
    }

    impl Plan {
        /// The plan for `points` buckets over `[from_ms, to_ms)`.
        pub fn new(from_ms: i64, to_ms: i64, points: i64) -> Plan {
            let bucket_ms = ((to_ms - from_ms) / points.max(1)).max(1);
            Plan { bucket_ms, tier_ms: crate::rollup::tier_for(bucket_ms) }
        }
    }

    /// One sensor's readings in `[from_ms, to_ms)` as buckets of `plan.bucket_ms` (aligned to
    /// multiples of it), from the rollup tier the plan names or from raw readings.
    pub async fn buckets(db: &Db, sensor_id: i64, from_ms: i64, to_ms: i64, plan: Plan) -> Result<Vec<super::Bucket>, sqlx::Error> {
        const RAW: &str = "select (at_ms / $4) * $4 as start_ms, min(value) as min, max(value) as max, \
             avg(value) as mean, count(*) as count, min(at_ms) as first_at_ms \
             from reading where sensor_id = $1 and at_ms >= $2 and at_ms < $3 \
             group by at_ms / $4 order by 1";
        const ROLLUP: &str = "select (bucket_ms / $4) * $4 as start_ms, min(value_min) as min, \
             max(value_max) as max, sum(value_sum) / sum(value_count) as mean, \
             cast(sum(value_count) as bigint) as count, min(first_at_ms) as first_at_ms \
             from rollup where sensor_id = $1 and tier_ms = $5 and bucket_ms >= $2 and bucket_ms < $3 \
             group by bucket_ms / $4 order by 1";
        with_db!(db, read, |pool| {
            let query = match plan.tier_ms {
                Some(tier_ms) => sqlx::query_as(ROLLUP).bind(sensor_id).bind(from_ms).bind(to_ms).bind(plan.bucket_ms).bind(tier_ms),
                None => sqlx::query_as(RAW).bind(sensor_id).bind(from_ms).bind(to_ms).bind(plan.bucket_ms),
            };
            query.fetch_all(pool).await
        })
    }

    /// Deletes the readings older than `before_ms`, one sensor and one hour at a time so that
    /// no transaction holds the write lock for long. Returns how many were deleted.
    ///
    /// Switch readings are kept: appliance runs and hours of use are computed from them (they
    /// are few: a device reports a switch when it changes, and now and then).
    pub async fn prune(db: &Db, before_ms: i64) -> Result<u64, sqlx::Error> {
        const SENSORS: &str = "select sensor_id from sensor where kind <> 'switch' order by sensor_id";
        const OLDEST: &str = "select min(at_ms) from reading where sensor_id = $1";
        const DELETE: &str = "delete from reading where sensor_id = $1 and at_ms < $2";
        prune_by_slices(db, SENSORS, before_ms, crate::rollup::HOUR_MS, OLDEST, DELETE).await
    }

    /// Deletes, for every sensor, the rows that `oldest` (the oldest time of sensor `$1`) and
    /// `delete` (rows of sensor `$1` before `$2`) select, `slice_ms` at a time, up to `before_ms`.
    pub(crate) async fn prune_by_slices(
        db: &Db,
        sensors: &'static str,
        before_ms: i64,
        slice_ms: i64,
        oldest: &'static str,
        delete: &'static str,
    ) -> Result<u64, sqlx::Error> {
        let sensors: Vec<i64> = with_db!(db, read, |pool| sqlx::query_scalar(sensors).fetch_all(pool).await)?;
        let mut deleted = 0;
        for sensor_id in sensors {
            loop {
                let first: Option<i64> =
                    with_db!(db, read, |pool| sqlx::query_scalar(oldest).bind(sensor_id).fetch_one(pool).await)?;
                let Some(first) = first.filter(|first| *first < before_ms) else { break };
                let end = before_ms.min(first.saturating_add(slice_ms));
                deleted += with_db!(db, write, |pool| sqlx::query(delete)
                    .bind(sensor_id)
                    .bind(end)
                    .execute(pool)
                    .await?
                    .rows_affected());
                tokio::task::yield_now().await;
            }
        }
        Ok(deleted)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn notify_payloads_stay_under_the_limit_and_carry_every_reading() {
            let sensor = Arc::new(Sensor {
                sensor_id: 7,
                device: "house".into(),
                key: "living_room.temperature".into(),
                kind: Kind::Temperature,
                room: Some("Living room".into()),
                name: None,
                main: false,
            });
            let stored: Vec<Stored> =
                (0..500).map(|i| Stored { sensor: sensor.clone(), at_ms: 1_764_000_000_000 + i, value: 20.0 }).collect();
            let payloads = notify_payloads(&stored);
            assert!(payloads.len() > 1);
            let mut times = Vec::new();
            for payload in &payloads {
                assert!(payload.len() < 8000, "{}", payload.len());
                let readings: Vec<LiveReading> = serde_json::from_str(payload).unwrap();
                times.extend(readings.iter().map(|r| r.at.clone()));
            }
            let expected: Vec<String> = stored.iter().map(|s| rfc3339(s.at_ms)).collect();
            assert_eq!(times, expected);
            assert!(notify_payloads(&[]).is_empty());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading(sensor_id: i64, room: &str, value: f64) -> LiveReading {
        LiveReading {
            sensor_id,
            device: "house".into(),
            sensor: format!("t{sensor_id}"),
            kind: Kind::Temperature,
            room: Some(room.into()),
            value,
            at: String::new(),
        }
    }

    #[test]
    fn a_new_sensor_gets_a_series_in_label_order() {
        let mut all = Vec::new();
        merge_live(&mut all, &reading(2, "Office", 20.0), 1_000, 0);
        merge_live(&mut all, &reading(1, "Kitchen", 19.0), 1_000, 0);
        let rooms: Vec<_> = all.iter().map(|s| s.sensor.label()).collect();
        assert_eq!(rooms, ["Kitchen", "Office"]);
        assert_eq!(all[1].latest, Some(Point::raw(1_000, 20.0)));
    }

    #[test]
    fn points_stay_ordered_and_the_latest_never_goes_back() {
        let mut all = Vec::new();
        merge_live(&mut all, &reading(1, "Kitchen", 21.0), 3_000, 0);
        merge_live(&mut all, &reading(1, "Kitchen", 20.0), 1_000, 0);
        merge_live(&mut all, &reading(1, "Kitchen", 20.0), 1_000, 0);
        let times: Vec<_> = all[0].points.iter().map(|p| p.at_ms).collect();
        assert_eq!(times, [1_000, 3_000]);
        assert_eq!(all[0].latest.unwrap().value, 21.0);
    }

    #[test]
    fn points_before_the_window_are_dropped() {
        let mut all = Vec::new();
        for (at, v) in [(0, 1.0), (5_000, 2.0), (12_000, 3.0)] {
            merge_live(&mut all, &reading(1, "Kitchen", v), at, at - 10_000);
        }
        let times: Vec<_> = all[0].points.iter().map(|p| p.at_ms).collect();
        assert_eq!(times, [5_000, 12_000]);
    }
}
