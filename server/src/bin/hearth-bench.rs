//! Load benchmarks against a real `hearth` server over loopback HTTP.
//!
//! ```sh
//! cargo build --release -p server --bins
//! target/release/hearth-bench                                        # SQLite
//! target/release/hearth-bench --database-url postgres://root@127.0.0.1/test
//! ```
//!
//! Each run starts `hearth` (the binary next to this one) on a fresh database and a free
//! port, drives it with the scenarios below, and prints one line per scenario: batch ingest,
//! single-reading ingest, range queries over 7 and 30 days of one reading per second, live
//! fan-out, and live streams resuming with `Last-Event-ID` after missing a batch.
//! `--soak SECONDS` instead runs steady ingest with 100 live streams and reports errors and
//! the server's RSS over time (`scripts/soak.sh`).

use clap::Parser;
use futures_util::StreamExt;
use serde_json::{Value, json};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, BufReader};

/// Hearth's load benchmarks.
#[derive(Parser)]
struct Args {
    /// Database for the server under test; a fresh SQLite file by default. A PostgreSQL URL
    /// must name a database this benchmark may fill.
    #[arg(long)]
    database_url: Option<String>,
    /// Seconds each scenario runs.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Instead of the scenarios, a soak of this many seconds: steady ingest and live streams,
    /// with the server's RSS every 30 s. Exits non-zero on any error.
    #[arg(long)]
    soak: Option<u64>,
    /// Soak: live-stream clients.
    #[arg(long, default_value_t = 100)]
    soak_streams: usize,
    /// Soak: single-reading ingest requests per second.
    #[arg(long, default_value_t = 200.0)]
    soak_rate: f64,
    /// Soak: readings in the batch posted every 5 seconds.
    #[arg(long, default_value_t = 1000)]
    soak_batch: usize,
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[tokio::main]
async fn main() -> Result<(), BoxError> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("hearth-bench-{}", std::process::id()));
    let url = args.database_url.clone().unwrap_or_else(|| format!("sqlite://{}", dir.join("bench.db").display()));
    let db = hearth_store::Db::connect(&url).await?;
    let device = format!("bench-{}", jiff::Timestamp::now().as_second());
    let (_, token) = hearth_store::device::create(&db, &device).await?;
    // The read API and the stream need a session: the bench logs in as an account of its own.
    let account = hearth_store::account::set_password(&db, "bench", &hearth_store::device::new_token()).await?;
    let holder = hearth_store::account::Holder::Account(account);
    let session = hearth_store::account::open_session(&db, holder, Duration::from_secs(86_400)).await?;
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, format!("{}={session}", hearth_app::session::COOKIE).parse()?);
    db.close().await;

    let hearth = std::env::current_exe()?.with_file_name("hearth");
    let mut server = tokio::process::Command::new(&hearth)
        .env("HEARTH_DATABASE_URL", &url)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "warn,hearth=info")
        // One device and one session drive the whole load.
        .env("HEARTH_INGEST_REQUESTS_PER_SECOND", "0")
        .env("HEARTH_STREAMS_PER_SESSION", "0")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("could not start {}: {e}", hearth.display()))?;
    let mut log = BufReader::new(server.stderr.take().ok_or("no stderr")?).lines();
    let base = loop {
        let line = log.next_line().await?.ok_or("hearth exited before listening")?;
        if let Some(at) = line.find("listening on http://") {
            break line[at + "listening on ".len()..].split_whitespace().next().unwrap_or_default().to_owned();
        }
    };
    tokio::spawn(async move { while let Ok(Some(_)) = log.next_line().await {} });
    let pid = server.id().unwrap_or_default();
    println!("hearth {} on {} ({})", env!("CARGO_PKG_VERSION"), base, backend(&url));

    let client = reqwest::Client::builder().default_headers(headers.clone()).build()?;
    let bench = Bench { client, headers, endpoint: format!("{base}/api/v1/readings"), token: Arc::from(token) };
    if let Some(seconds) = args.soak {
        println!(
            "soak: {} live streams, {} single-reading posts/s, {} readings every 5 s",
            args.soak_streams, args.soak_rate, args.soak_batch
        );
        let errors = bench.soak(&base, pid, args.soak_streams, args.soak_rate, args.soak_batch, Duration::from_secs(seconds)).await?;
        server.kill().await?;
        let _ = std::fs::remove_dir_all(&dir);
        return if errors == 0 { Ok(()) } else { Err(format!("{errors} errors").into()) };
    }
    let run = Duration::from_secs(args.seconds);

    let (readings, elapsed, errors) = bench.batches(4, 5000, run).await;
    println!(
        "batch ingest   5000/request, 4 connections: {:>9.0} readings/s  ({errors} errors)",
        readings as f64 / elapsed.as_secs_f64()
    );

    let (latencies, elapsed, errors) = bench.singles(64, run).await;
    println!(
        "single ingest  64 connections:              {:>9.0} requests/s  p50 {:.2} ms  p99 {:.2} ms  ({errors} errors)",
        latencies.len() as f64 / elapsed.as_secs_f64(),
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
    );
    let loaded = Instant::now();
    let id = bench.load_history(30).await?;
    println!("loaded 30 days at 1 Hz for one sensor ({} readings) in {:.1} s", 30 * 86_400, loaded.elapsed().as_secs_f64());
    for days in [7, 30] {
        let latencies = bench.range_queries(&base, id, days, 1000, 100).await?;
        println!(
            "range query    {days:>2} days into 1000 buckets:     p50 {:.2} ms  p99 {:.2} ms  (100 queries)",
            percentile(&latencies, 0.50),
            percentile(&latencies, 0.99),
        );
    }
    let cpu_before = cpu_seconds(pid);
    let started = Instant::now();
    let (latencies, missing) = bench.fan_out(&base, 1000, Duration::from_millis(100), run).await?;
    let cpu = cpu_seconds(pid).zip(cpu_before).map(|(after, before)| 100.0 * (after - before) / started.elapsed().as_secs_f64());
    println!(
        "SSE fan-out    1000 subscribers, 10 readings/s: p50 {:.2} ms  p99 {:.2} ms  ({} deliveries, {missing} missing)  server CPU {}  RSS {} MB",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
        latencies.len(),
        cpu.map_or("?".into(), |c| format!("{c:.0} %")),
        rss_mb(pid, "VmRSS").map_or("?".into(), |m| format!("{m:.0}")),
    );
    let (latencies, errors) = bench.replay(&base, 100, 5000).await?;
    println!(
        "SSE replay     100 reconnects, 5000 missed each: p50 {:.0} ms  p99 {:.0} ms  to receive them all  ({errors} streams short, out of order or told to resync)",
        percentile(&latencies, 0.50),
        percentile(&latencies, 0.99),
    );
    println!(
        "server RSS after the run: {} MB, peak {} MB",
        rss_mb(pid, "VmRSS").map_or("?".into(), |m| format!("{m:.0}")),
        rss_mb(pid, "VmHWM").map_or("?".into(), |m| format!("{m:.0}")),
    );
    server.kill().await?;
    let _ = std::fs::remove_dir_all(&dir);
    Ok(())
}

struct Bench {
    client: reqwest::Client,
    /// Carry the session cookie.
    headers: reqwest::header::HeaderMap,
    endpoint: String,
    token: Arc<str>,
}

impl Bench {
    /// `streams` clients that resume together with `Last-Event-ID` after missing `missed`
    /// readings: how long each takes to receive them all (ms, sorted), and the streams that
    /// got fewer, got them out of order, or were told to resync.
    async fn replay(&self, base: &str, streams: usize, missed: usize) -> Result<(Vec<f64>, usize), BoxError> {
        use eventsource_stream::Eventsource;
        let url = format!("{base}/api/v1/stream");
        let mut watch = self.client.get(&url).send().await?.error_for_status()?.bytes_stream().eventsource();
        let hello = watch.next().await.ok_or("the stream ended")??;
        let origin = jiff::Timestamp::now().as_millisecond() - 2 * 3_600_000;
        let readings: Vec<Value> = (0..missed as i64)
            .map(|i| json!({"sensor": "replay.power", "kind": "power", "value": i, "at": (origin + i) as f64 / 1000.0}))
            .collect();
        if !self.post(&json!({ "readings": readings })).await {
            return Err("the replayed batch was not stored".into());
        }
        // Published (on PostgreSQL the relay does it after the POST returns).
        let mut seen = 0;
        while seen < missed {
            let event = tokio::time::timeout(Duration::from_secs(30), watch.next()).await?.ok_or("the stream ended")??;
            seen += usize::from(event.event == "reading");
        }
        let stream_client = reqwest::Client::builder().default_headers(self.headers.clone()).pool_max_idle_per_host(0).build()?;
        let clients = (0..streams).map(|_| {
            let (client, url, last) = (stream_client.clone(), url.clone(), hello.id.clone());
            async move {
                let start = Instant::now();
                let response = client.get(&url).header("Last-Event-ID", last).send().await.ok()?.error_for_status().ok()?;
                let mut events = response.bytes_stream().eventsource();
                for i in 0..missed {
                    let event = tokio::time::timeout(Duration::from_secs(30), events.next()).await.ok()??.ok()?;
                    let value: Value = serde_json::from_str(&event.data).ok()?;
                    if event.event != "reading" || value["value"].as_f64() != Some(i as f64) {
                        return None;
                    }
                }
                Some(start.elapsed().as_secs_f64() * 1000.0)
            }
        });
        let results = futures_util::future::join_all(clients).await;
        let errors = results.iter().filter(|r| r.is_none()).count();
        let mut latencies: Vec<f64> = results.into_iter().flatten().collect();
        latencies.sort_by(f64::total_cmp);
        Ok((latencies, errors))
    }

    async fn post(&self, body: &Value) -> bool {
        match self.client.post(&self.endpoint).bearer_auth(&*self.token).json(body).send().await {
            Ok(r) => r.status().is_success(),
            Err(_) => false,
        }
    }

    /// `connections` clients each posting batches of `size` readings (distinct times) for `run`.
    async fn batches(&self, connections: usize, size: usize, run: Duration) -> (usize, Duration, usize) {
        let start = Instant::now();
        let results = futures_util::stream::iter(0..connections)
            .map(|c| async move {
                let (mut stored, mut errors, mut round) = (0, 0, 0i64);
                let origin = jiff::Timestamp::now().as_millisecond() - 86_400_000;
                while start.elapsed() < run {
                    let readings: Vec<Value> = (0..size)
                        .map(|i| {
                            let at_ms = origin + (round * size as i64 + i as i64) * 10 + c as i64;
                            json!({"sensor": format!("batch.{c}"), "kind": "power", "value": (i % 500) as f64, "at": at_ms as f64 / 1000.0})
                        })
                        .collect();
                    if self.post(&json!({ "readings": readings })).await { stored += size } else { errors += 1 }
                    round += 1;
                }
                (stored, errors)
            })
            .buffer_unordered(connections)
            .collect::<Vec<_>>()
            .await;
        let elapsed = start.elapsed();
        (results.iter().map(|r| r.0).sum(), elapsed, results.iter().map(|r| r.1).sum())
    }

    /// `connections` clients each posting one reading per request for `run`; latencies in ms.
    async fn singles(&self, connections: usize, run: Duration) -> (Vec<f64>, Duration, usize) {
        let start = Instant::now();
        let results = futures_util::stream::iter(0..connections)
            .map(|c| async move {
                let (mut latencies, mut errors) = (Vec::new(), 0);
                let key = format!("single.{c}");
                let _ = self.post(&json!({"sensor": key, "kind": "temperature", "value": 20.0, "at": 946_684_800})).await;
                while start.elapsed() < run {
                    let sent = Instant::now();
                    if self.post(&json!({"sensor": key, "value": 20.5})).await {
                        latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
                    } else {
                        errors += 1;
                    }
                    // Readings without `at` take the server's time; keep them a millisecond apart.
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                (latencies, errors)
            })
            .buffer_unordered(connections)
            .collect::<Vec<_>>()
            .await;
        let elapsed = start.elapsed();
        let errors = results.iter().map(|r| r.1).sum();
        let mut latencies: Vec<f64> = results.into_iter().flat_map(|r| r.0).collect();
        latencies.sort_by(f64::total_cmp);
        (latencies, elapsed, errors)
    }
}

impl Bench {
    /// Posts `days` of one reading per second for sensor `history.power` ending now, in
    /// batches of 10,000 over 4 connections, and returns the sensor's id.
    async fn load_history(&self, days: i64) -> Result<i64, BoxError> {
        let end = jiff::Timestamp::now().as_second();
        let start = end - days * 86_400;
        let batches: Vec<i64> = (start..end).step_by(10_000).collect();
        let results = futures_util::stream::iter(batches)
            .map(|first| async move {
                let readings: Vec<Value> = (first..(first + 10_000).min(end))
                    .map(|s| json!({"sensor": "history.power", "kind": "power", "value": (s % 3600) as f64, "at": s}))
                    .collect();
                self.post(&json!({ "readings": readings })).await
            })
            .buffer_unordered(4)
            .collect::<Vec<bool>>()
            .await;
        if results.iter().any(|ok| !ok) {
            return Err("loading the history failed".into());
        }
        let sensors: Vec<Value> = self.client.get(self.endpoint.replace("/readings", "/sensors")).send().await?.json().await?;
        let id = sensors.iter().find(|s| s["key"] == "history.power").and_then(|s| s["id"].as_i64());
        id.ok_or_else(|| "the loaded sensor is not listed".into())
    }

    /// Latencies in ms of `count` series requests over the last `days` into `points` buckets.
    async fn range_queries(&self, base: &str, id: i64, days: i64, points: i64, count: usize) -> Result<Vec<f64>, BoxError> {
        let to = jiff::Timestamp::now();
        let from = to - jiff::SignedDuration::from_hours(24 * days);
        let url = format!("{base}/api/v1/sensors/{id}/series?from={from}&to={to}&points={points}");
        let mut latencies = Vec::with_capacity(count);
        for _ in 0..count {
            let sent = Instant::now();
            let body: Value = self.client.get(&url).send().await?.error_for_status()?.json().await?;
            latencies.push(sent.elapsed().as_secs_f64() * 1000.0);
            if body["buckets"].as_array().is_none_or(|b| b.is_empty()) {
                return Err(format!("no buckets from {url}").into());
            }
        }
        latencies.sort_by(f64::total_cmp);
        Ok(latencies)
    }
}

impl Bench {
    /// `subscribers` SSE clients while one reading is posted every `every` for `run`; returns
    /// the post-to-receive latencies in ms (over all deliveries) and how many deliveries never
    /// arrived.
    async fn fan_out(&self, base: &str, subscribers: usize, every: Duration, run: Duration) -> Result<(Vec<f64>, usize), BoxError> {
        use eventsource_stream::Eventsource;
        let origin = Instant::now();
        let posts = (run.as_millis() / every.as_millis()) as usize;
        // When reading i was posted, in µs since `origin`; 0 until then.
        let sent: Arc<Vec<std::sync::atomic::AtomicU64>> = Arc::new((0..posts).map(|_| Default::default()).collect());
        let stream_client = reqwest::Client::builder().default_headers(self.headers.clone()).pool_max_idle_per_host(0).build()?;
        let deadline = tokio::time::Instant::now() + run + Duration::from_secs(2);
        let mut listeners = Vec::with_capacity(subscribers);
        for _ in 0..subscribers {
            let response = stream_client.get(format!("{base}/api/v1/stream")).send().await?.error_for_status()?;
            let sent = sent.clone();
            listeners.push(tokio::spawn(async move {
                let mut events = response.bytes_stream().eventsource();
                let mut latencies = Vec::with_capacity(posts);
                while let Ok(Some(Ok(event))) = tokio::time::timeout_at(deadline, events.next()).await {
                    let Ok(reading) = serde_json::from_str::<Value>(&event.data) else { continue };
                    let Some(i) = reading["value"].as_f64().map(|v| v as usize) else { continue };
                    let at = sent.get(i).map_or(0, |s| s.load(std::sync::atomic::Ordering::Acquire));
                    if reading["sensor"] == "fanout.temp" && at > 0 {
                        latencies.push((origin.elapsed().as_micros() as u64).saturating_sub(at) as f64 / 1000.0);
                        if latencies.len() == posts {
                            break;
                        }
                    }
                }
                latencies
            }));
        }
        let mut tick = tokio::time::interval(every);
        for (i, slot) in sent.iter().enumerate() {
            tick.tick().await;
            slot.store(origin.elapsed().as_micros().max(1) as u64, std::sync::atomic::Ordering::Release);
            self.post(&json!({"sensor": "fanout.temp", "kind": "temperature", "value": i})).await;
        }
        let mut all = Vec::with_capacity(posts * subscribers);
        for listener in listeners {
            all.extend(listener.await?);
        }
        let missing = posts * subscribers - all.len();
        all.sort_by(f64::total_cmp);
        Ok((all, missing))
    }
}

/// What a soak run counted.
#[derive(Default)]
struct SoakCounts {
    /// Ingest requests answered 200.
    posts: AtomicU64,
    /// Readings those requests stored (each is published once to every stream).
    stored: AtomicU64,
    /// Ingest requests not answered 200, or not answered at all.
    post_errors: AtomicU64,
    /// Stream failures: a refused or broken connection, an early end, a `resync`.
    stream_errors: AtomicU64,
    /// Events received, over all streams.
    events: AtomicU64,
}

impl Bench {
    /// The soak: `subscribers` live streams open for `run` while `rate` single-reading requests
    /// per second (over 32 connections) and a batch of `batch` readings every 5 s are posted.
    /// Prints the counts and the server's RSS every 30 s; returns the number of errors
    /// (failed posts, stream failures, and deliveries missing at the end).
    async fn soak(&self, base: &str, pid: u32, subscribers: usize, rate: f64, batch: usize, run: Duration) -> Result<u64, BoxError> {
        use eventsource_stream::Eventsource;
        const CONNECTIONS: usize = 32;
        let counts = Arc::new(SoakCounts::default());
        let start = Instant::now();
        let stop = tokio::time::Instant::now() + run;
        let origin = jiff::Timestamp::now().as_millisecond() - 3 * 3_600_000;

        let stream_client = reqwest::Client::builder().default_headers(self.headers.clone()).pool_max_idle_per_host(0).build()?;
        let mut streams = Vec::with_capacity(subscribers);
        for _ in 0..subscribers {
            let (client, url, counts) = (stream_client.clone(), format!("{base}/api/v1/stream"), counts.clone());
            streams.push(tokio::spawn(async move {
                let mut received = 0u64;
                let response = match client.get(&url).send().await.and_then(|r| r.error_for_status()) {
                    Ok(response) => response,
                    Err(_) => {
                        counts.stream_errors.fetch_add(1, Ordering::Relaxed);
                        return 0;
                    }
                };
                let mut events = response.bytes_stream().eventsource();
                // Runs until well after the load stops, so that every delivery can arrive.
                let until = stop + Duration::from_secs(5);
                loop {
                    match tokio::time::timeout_at(until, events.next()).await {
                        Err(_) => return received,
                        Ok(Some(Ok(event))) if event.event == "reading" => {
                            received += 1;
                            counts.events.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(Some(Ok(event))) if event.event == "hello" => {}
                        // A `resync`: this stream lost readings.
                        Ok(Some(Ok(_))) => {
                            counts.stream_errors.fetch_add(1, Ordering::Relaxed);
                        }
                        Ok(Some(Err(_))) | Ok(None) => {
                            counts.stream_errors.fetch_add(1, Ordering::Relaxed);
                            return received;
                        }
                    }
                }
            }));
        }
        // Let every stream connect before the first post.
        tokio::time::sleep(Duration::from_secs(1)).await;

        let post = |body: Value| {
            let counts = counts.clone();
            async move {
                match self.client.post(&self.endpoint).bearer_auth(&*self.token).json(&body).send().await {
                    Ok(r) if r.status() == 200 => {
                        let receipt: Value = r.json().await.unwrap_or_default();
                        counts.posts.fetch_add(1, Ordering::Relaxed);
                        counts.stored.fetch_add(receipt["stored"].as_u64().unwrap_or(0), Ordering::Relaxed);
                    }
                    _ => {
                        counts.post_errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        };
        let singles = (0..CONNECTIONS).map(|c| {
            let post = &post;
            async move {
                let mut tick = tokio::time::interval(Duration::from_secs_f64(CONNECTIONS as f64 / rate));
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                for i in 0i64.. {
                    tick.tick().await;
                    if tokio::time::Instant::now() >= stop {
                        break;
                    }
                    post(json!({"sensor": format!("soak.{c}"), "kind": "power", "value": (i % 3000) as f64, "at": (origin + i) as f64 / 1000.0})).await;
                }
            }
        });
        let batches = async {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            for round in 0i64.. {
                tick.tick().await;
                if tokio::time::Instant::now() >= stop {
                    break;
                }
                let readings: Vec<Value> = (0..batch as i64)
                    .map(|i| json!({"sensor": "soak.batch", "kind": "energy", "value": (round * batch as i64 + i) as f64, "at": (origin + round * batch as i64 + i) as f64 / 1000.0}))
                    .collect();
                post(json!({ "readings": readings })).await;
            }
        };
        let report = async {
            let mut tick = tokio::time::interval(Duration::from_secs(30));
            tick.tick().await;
            loop {
                tick.tick().await;
                if tokio::time::Instant::now() > stop {
                    break;
                }
                println!(
                    "{:>4} s  RSS {:>5.1} MB  posts {:>8}  stored {:>9}  events {:>11}  errors: posts {}  streams {}",
                    start.elapsed().as_secs(),
                    rss_mb(pid, "VmRSS").unwrap_or(f64::NAN),
                    counts.posts.load(Ordering::Relaxed),
                    counts.stored.load(Ordering::Relaxed),
                    counts.events.load(Ordering::Relaxed),
                    counts.post_errors.load(Ordering::Relaxed),
                    counts.stream_errors.load(Ordering::Relaxed),
                );
            }
        };
        tokio::join!(futures_util::future::join_all(singles), batches, report);

        let stored = counts.stored.load(Ordering::Relaxed);
        let mut missing = 0;
        for stream in streams {
            missing += stored.saturating_sub(stream.await?);
        }
        let (post_errors, stream_errors) = (counts.post_errors.load(Ordering::Relaxed), counts.stream_errors.load(Ordering::Relaxed));
        println!(
            "soak: {} s, {} posts ({stored} readings), {} events to {subscribers} streams; errors: {post_errors} posts, {stream_errors} streams, {missing} deliveries missing; RSS at the end {:.1} MB, peak {:.1} MB",
            run.as_secs(),
            counts.posts.load(Ordering::Relaxed),
            counts.events.load(Ordering::Relaxed),
            rss_mb(pid, "VmRSS").unwrap_or(f64::NAN),
            rss_mb(pid, "VmHWM").unwrap_or(f64::NAN),
        );
        Ok(post_errors + stream_errors + missing)
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn backend(url: &str) -> &'static str {
    if url.starts_with("postgres") { "PostgreSQL" } else { "SQLite" }
}

/// CPU time (user + system) a process has used, from /proc, in seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0)
}

/// Resident memory of a process from /proc, in MB: `VmRSS` (now) or `VmHWM` (its peak).
fn rss_mb(pid: u32, field: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status.lines().find(|l| l.starts_with(field))?.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}
