//! Command line and environment configuration.

use hearth_core::time::house::HouseZone;
use clap::{Args, Parser, Subcommand};
use std::fmt;
use std::num::NonZeroU32;

/// Hearth: a self-hosted, real-time home monitor.
#[derive(Parser)]
#[command(name = "hearth", version, about, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// Database: `sqlite://<file>` (embedded; created if missing) or `postgres://user@host/db`.
    #[arg(long, global = true, env = "HEARTH_DATABASE_URL", default_value = "sqlite://data/hearth.db")]
    pub database_url: DatabaseUrl,
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
    /// `serve`'s options, for when the subcommand is omitted.
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Hearth's subcommands.
#[derive(Subcommand)]
pub enum Command {
    /// Serve the dashboard and the API at LEPTOS_SITE_ADDR (default 127.0.0.1:3000).
    Serve(ServeArgs),
    /// Manage the devices allowed to post readings.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Post a simulated house's readings to a Hearth server, as a device would.
    Simulate(SimulateArgs),
    /// Write stored readings as CSV to stdout (the format of `/api/v1/export.csv`).
    Export(ExportArgs),
    /// Import readings from a CSV file: Hearth's export, or `time,value` for one sensor.
    Import(ImportArgs),
    /// Write a consistent copy of the SQLite database to FILE, while a server may be using it.
    Backup {
        /// The copy to write; it must not exist yet.
        file: std::path::PathBuf,
    },
    /// Put a backup in place of the SQLite database (refused while a server runs on it).
    Restore {
        /// The backup, as `hearth backup` wrote it.
        file: std::path::PathBuf,
    },
}

/// `hearth import`
#[derive(Args, Clone, Debug)]
pub struct ImportArgs {
    /// The CSV file.
    pub file: std::path::PathBuf,
    /// For a `time,value` file: the device its sensor belongs to (created if missing).
    #[arg(long, requires = "sensor")]
    pub device: Option<String>,
    /// For a `time,value` file: the sensor's key.
    #[arg(long, requires = "device")]
    pub sensor: Option<String>,
    /// For a `time,value` file of a new sensor: its kind.
    #[arg(long)]
    pub kind: Option<String>,
    /// For a `time,value` file of a new sensor: its room.
    #[arg(long)]
    pub room: Option<String>,
    /// The house's time zone, for local times without an offset. Default: the machine's.
    #[arg(long, env = "HEARTH_TIMEZONE", value_parser = HouseZone::named)]
    pub timezone: Option<HouseZone>,
}

/// `hearth export`
#[derive(Args, Clone, Debug)]
pub struct ExportArgs {
    /// First instant: RFC 3339, a local date (2026-01-31) or Unix ms. Default: the oldest reading.
    #[arg(long)]
    pub from: Option<String>,
    /// End (excluded; a date includes that day). Default: everything stored.
    #[arg(long)]
    pub to: Option<String>,
    /// Only sensors of these kinds, comma-separated (`temperature,humidity`).
    #[arg(long)]
    pub kind: Option<String>,
    /// One sensor only, by id (`/api/v1/sensors`): its readings as `readings.csv` gives them.
    #[arg(long)]
    pub sensor: Option<i64>,
    /// With `--sensor`: its rollups of this tier (`1m`, `10m`, `1h`) instead of raw readings.
    #[arg(long, requires = "sensor")]
    pub tier: Option<String>,
    /// The house's time zone for the local-time column. Default: the machine's.
    #[arg(long, env = "HEARTH_TIMEZONE", value_parser = HouseZone::named)]
    pub timezone: Option<HouseZone>,
}

/// `hearth device …`
#[derive(Subcommand)]
pub enum DeviceCommand {
    /// Register a device and print its token (on stdout, alone; shown only this once).
    Add {
        /// A unique name, such as `kitchen-esp32`.
        name: String,
        /// The MQTT topic prefix that identifies the device on the broker: a Tasmota topic
        /// (`tasmota_1A2B3C`), a Shelly or ESPHome topic prefix, or `<device>` in `hearth/<device>/…`.
        #[arg(long)]
        mqtt_prefix: Option<String>,
    },
    /// List the registered devices.
    List,
    /// Give a device a new Emoncms API key (32 characters, as emonhub requires) and print it
    /// (on stdout, alone; shown only this once). It replaces any earlier key.
    Apikey {
        /// The device's name.
        name: String,
    },
    /// Revoke a device's token: every request with it is refused from now on.
    Revoke {
        /// The device's name.
        name: String,
    },
}

/// `hearth serve`
#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Also run the simulated house against this server, as device `simulated-house`, and
    /// give the account `demo` a password printed at start (or `--demo-password`).
    #[arg(long, env = "HEARTH_SIMULATE")]
    pub simulate: bool,
    /// The demo account's password with `--simulate`; a random one when not given.
    #[arg(long, env = "HEARTH_DEMO_PASSWORD", hide_env_values = true)]
    pub demo_password: Option<String>,
    /// With `--simulate`: the house's latitude in degrees (north positive), which the
    /// simulated roof's sun follows. Default: the time zone's main city's, else 45°.
    #[arg(long, env = "HEARTH_LATITUDE", value_parser = latitude, allow_hyphen_values = true)]
    pub latitude: Option<f64>,
    #[command(flatten)]
    pub config: Config,
}

/// Limits and settings of a running server.
#[derive(Args, Clone, Debug)]
pub struct Config {
    /// Largest request body accepted by the ingest endpoint, in bytes.
    #[arg(long, env = "HEARTH_MAX_BODY_BYTES", default_value_t = 4 * 1024 * 1024)]
    pub max_body_bytes: usize,
    /// How many readings a live-stream client may fall behind before it must resync.
    #[arg(long, env = "HEARTH_STREAM_BUFFER", default_value_t = 16_384)]
    pub stream_buffer: usize,
    /// How many of the last events the server keeps for live-stream clients that reconnect:
    /// one that missed no more than these gets them replayed, others must resync (refetch).
    /// About 200 bytes each; 0: no replay.
    #[arg(long, env = "HEARTH_REPLAY_EVENTS", default_value_t = 10_000)]
    pub replay_events: usize,
    /// Days raw readings are kept (0: forever). Older ranges are drawn from the rollups.
    #[arg(long, env = "HEARTH_RETENTION_RAW_DAYS", default_value_t = 30)]
    pub retention_raw_days: u32,
    /// Days 1-minute rollups are kept (0: forever).
    #[arg(long, env = "HEARTH_RETENTION_MINUTE_DAYS", default_value_t = 365)]
    pub retention_minute_days: u32,
    /// Days 10-minute rollups are kept (0: forever).
    #[arg(long, env = "HEARTH_RETENTION_TEN_MINUTE_DAYS", default_value_t = 0)]
    pub retention_ten_minute_days: u32,
    /// Days 1-hour rollups are kept (0: forever).
    #[arg(long, env = "HEARTH_RETENTION_HOUR_DAYS", default_value_t = 0)]
    pub retention_hour_days: u32,
    /// The house's time zone, an IANA name such as `Europe/Lisbon`: "today" and "per day"
    /// are local days there. Default: the machine's time zone.
    #[arg(long, env = "HEARTH_TIMEZONE", value_parser = HouseZone::named)]
    pub timezone: Option<HouseZone>,
    /// MQTT broker to take device messages from: `mqtt://[user:password@]host[:port]`.
    #[arg(long, env = "HEARTH_MQTT_URL")]
    pub mqtt_url: Option<SecretUrl>,
    /// MQTT client id, stable across restarts so the broker keeps this server's session.
    /// Default: `hearth-<hostname>-<port>`.
    #[arg(long, env = "HEARTH_MQTT_CLIENT_ID")]
    pub mqtt_client_id: Option<String>,
    /// Shared-subscription group (`$share/<group>/#`): servers on one database use the same
    /// group, so each message is stored once; separate installations on one broker use their own.
    #[arg(long, env = "HEARTH_MQTT_GROUP", default_value = "hearth")]
    pub mqtt_group: String,
    /// Seconds the broker keeps this server's session (and queues its messages) while it is
    /// disconnected, such as during a restart.
    #[arg(long, env = "HEARTH_MQTT_SESSION_SECONDS", default_value_t = 3600)]
    pub mqtt_session_seconds: u32,
    /// The address people open Hearth at, such as `https://hearth.example.org`. When it
    /// starts with `https://`, session cookies are marked `Secure`.
    #[arg(long, env = "HEARTH_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Hearth is behind a reverse proxy that sets `X-Forwarded-For` and
    /// `X-Forwarded-Proto`: believe them for the client's address (login rate limit) and for
    /// HTTPS (`Secure` cookies). Leave off when clients reach Hearth directly.
    #[arg(long, env = "HEARTH_TRUSTED_PROXY")]
    pub trusted_proxy: bool,
    /// Folder for scheduled backups of a SQLite database (`hearth-<time>.db`); none: no
    /// scheduled backups.
    #[arg(long, env = "HEARTH_BACKUP_DIR")]
    pub backup_dir: Option<std::path::PathBuf>,
    /// Time between scheduled backups: a number with `m`, `h` or `d` (`6h`, `1d`).
    #[arg(long, env = "HEARTH_BACKUP_EVERY", default_value = "1d")]
    pub backup_every: Every,
    /// Scheduled backups kept in `HEARTH_BACKUP_DIR`; older ones are deleted.
    #[arg(long, env = "HEARTH_BACKUP_KEEP", default_value_t = 7)]
    pub backup_keep: usize,
    /// A bearer token that opens `/metrics` to clients other than loopback ones.
    #[arg(long, env = "HEARTH_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<Secret>,
    /// Days a login lasts.
    #[arg(long, env = "HEARTH_SESSION_DAYS", default_value_t = 30)]
    pub session_days: u32,
    /// Ingest requests one device may make per second (as a burst, then evenly); beyond
    /// that, 429 with `Retry-After`. 0: no limit.
    #[arg(long, env = "HEARTH_INGEST_REQUESTS_PER_SECOND", default_value_t = 50)]
    pub ingest_requests_per_second: u32,
    /// Seconds a request may take, its body included, before it is answered 408. Live
    /// streams are exempt.
    #[arg(long, env = "HEARTH_REQUEST_TIMEOUT_SECS", default_value_t = 30)]
    pub request_timeout_secs: u64,
    /// Seconds a client may take to send a request's headers before the connection is
    /// closed (so slow clients cannot hold connections open).
    #[arg(long, env = "HEARTH_HEADER_TIMEOUT_SECS", default_value_t = 10)]
    pub header_timeout_secs: u64,
    /// Connections held open at once. Beyond it, a new connection closes the oldest one that
    /// has not sent a byte yet; if none has, new connections wait in the listen queue until
    /// one closes. 0: the open-file limit minus 128 (at most 16,384).
    #[arg(long, env = "HEARTH_MAX_CONNECTIONS", default_value_t = 0)]
    pub max_connections: usize,
    /// Live streams one session may hold open at once; beyond that, 429. 0: no limit.
    #[arg(long, env = "HEARTH_STREAMS_PER_SESSION", default_value_t = 8)]
    pub streams_per_session: usize,
    /// Milliseconds a request waits for the database (SQLite's write lock held by another
    /// process, a PostgreSQL connection) before ingest answers 503 with `Retry-After`.
    #[arg(long, env = "HEARTH_DB_WAIT_MS", default_value_t = 10_000)]
    pub db_wait_ms: u64,
    /// Login attempts allowed per minute from one address, and for one account name.
    #[arg(long, env = "HEARTH_LOGIN_ATTEMPTS_PER_MINUTE", default_value_t = NonZeroU32::new(10).expect("non-zero"))]
    pub login_attempts_per_minute: NonZeroU32,
    /// Seconds between evaluations of the alert rules (at least 1).
    #[arg(long, env = "HEARTH_ALERT_INTERVAL_SECONDS", default_value_t = 5)]
    pub alert_interval_seconds: u64,
    /// URL that alerts are POSTed to as JSON when they open and resolve, retried with
    /// growing pauses until it answers 2xx. Unset: no webhook.
    #[arg(long, env = "HEARTH_ALERT_WEBHOOK_URL", hide_env_values = true)]
    pub alert_webhook_url: Option<SecretUrl>,
    /// A PEM file of certificate authorities to trust, besides the usual ones, when sending
    /// alerts (email, ntfy, webhook): for a mail server with a certificate of your own CA.
    #[arg(long, env = "HEARTH_ALERT_CA_FILE", value_parser = PemFile::read)]
    pub alert_ca_file: Option<PemFile>,
}

impl Config {
    /// The house's time zone: the configured one or the machine's.
    pub fn zone(&self) -> HouseZone {
        self.timezone.clone().unwrap_or_else(HouseZone::system)
    }

    /// How the database pools wait.
    pub fn store(&self) -> hearth_store::StoreOptions {
        hearth_store::StoreOptions { wait: std::time::Duration::from_millis(self.db_wait_ms) }
    }

    /// Whether Hearth is served over HTTPS according to `--public-url`.
    pub fn https(&self) -> bool {
        self.public_url.as_deref().is_some_and(|url| url.starts_with("https://"))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            max_body_bytes: 4 * 1024 * 1024,
            stream_buffer: 16_384,
            replay_events: 10_000,
            retention_raw_days: 30,
            retention_minute_days: 365,
            retention_ten_minute_days: 0,
            retention_hour_days: 0,
            timezone: None,
            mqtt_url: None,
            mqtt_client_id: None,
            mqtt_group: "hearth".into(),
            mqtt_session_seconds: 3600,
            public_url: None,
            trusted_proxy: false,
            session_days: 30,
            login_attempts_per_minute: NonZeroU32::new(10).expect("non-zero"),
            ingest_requests_per_second: 50,
            request_timeout_secs: 30,
            header_timeout_secs: 10,
            max_connections: 0,
            streams_per_session: 8,
            db_wait_ms: 10_000,
            alert_interval_seconds: 5,
            alert_webhook_url: None,
            alert_ca_file: None,
            metrics_token: None,
            backup_dir: None,
            backup_every: Every(std::time::Duration::from_secs(24 * 3600)),
            backup_keep: 7,
        }
    }
}

/// `hearth simulate`
#[derive(Args, Clone)]
pub struct SimulateArgs {
    /// Base URL of the Hearth server.
    #[arg(long, env = "HEARTH_URL", default_value = "http://127.0.0.1:3000")]
    pub url: String,
    /// The device token to post with (from `hearth device add`).
    #[arg(long, env = "HEARTH_TOKEN")]
    pub token: String,
    /// Seconds between live readings.
    #[arg(long, default_value_t = 5.0)]
    pub interval: f64,
    /// Days of history to post first, at 5-minute steps, so charts and daily totals are
    /// full from the start.
    #[arg(long, default_value_t = 30)]
    pub backfill_days: u32,
    /// The house's time zone, an IANA name such as `Europe/Lisbon`: the rooms' day and
    /// night and the household's routine follow its clocks. Default: the machine's.
    #[arg(long, env = "HEARTH_TIMEZONE", value_parser = HouseZone::named)]
    pub timezone: Option<HouseZone>,
    /// The house's latitude in degrees (north positive, south negative): the simulated roof's
    /// sun and seasons follow it. Default: the time zone's main city where Hearth knows it
    /// (Lisbon 38.7), else 45° (south for southern zones).
    #[arg(long, env = "HEARTH_LATITUDE", value_parser = latitude, allow_hyphen_values = true)]
    pub latitude: Option<f64>,
}

/// A latitude: degrees from −90 to 90.
pub fn latitude(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(v) if (-90.0..=90.0).contains(&v) => Ok(v),
        _ => Err(format!("{text:?} is not a latitude: degrees from -90 (south) to 90 (north), such as 38.7")),
    }
}

/// The certificates of a PEM file, read when the server starts (printed as its path).
#[derive(Clone)]
pub struct PemFile {
    /// Where it was read from.
    pub path: std::path::PathBuf,
    /// Its contents.
    pub pem: Vec<u8>,
}

impl PemFile {
    /// Reads `path`; refuses a file without a certificate.
    pub fn read(path: &str) -> Result<PemFile, String> {
        let pem = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
            return Err(format!("{path} holds no PEM certificate"));
        }
        Ok(PemFile { path: path.into(), pem })
    }
}

impl fmt::Debug for PemFile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PemFile({})", self.path.display())
    }
}

/// A database URL, whose password is hidden when printed.
#[derive(Clone)]
pub struct DatabaseUrl(pub String);

/// A URL with credentials (the MQTT broker's), whose password is hidden when printed.
pub type SecretUrl = DatabaseUrl;

impl std::str::FromStr for DatabaseUrl {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(DatabaseUrl(s.to_owned()))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // scheme://user:password@host → scheme://user:***@host
        match (self.0.find("://"), self.0.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                let credentials = &self.0[scheme + 3..at];
                match credentials.split_once(':') {
                    Some((user, _)) => write!(f, "{}{user}:***{}", &self.0[..scheme + 3], &self.0[at..]),
                    None => f.write_str(&self.0),
                }
            }
            _ => f.write_str(&self.0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_hidden() {
        let url = DatabaseUrl("postgres://hearth:s3cret@db/hearth".into());
        assert_eq!(url.to_string(), "postgres://hearth:***@db/hearth");
        assert_eq!(format!("{url:?}"), "postgres://hearth:***@db/hearth");
        assert_eq!(DatabaseUrl("sqlite://data/hearth.db".into()).to_string(), "sqlite://data/hearth.db");
        let pem = PemFile { path: "/etc/hearth/ca.pem".into(), pem: b"-----BEGIN CERTIFICATE-----".to_vec() };
        assert_eq!(format!("{pem:?}"), "PemFile(/etc/hearth/ca.pem)");
        assert!(PemFile::read("/nonexistent/ca.pem").unwrap_err().contains("/nonexistent/ca.pem"));
    }

    #[test]
    fn a_latitude_is_degrees_north_or_south() {
        assert_eq!(latitude("38.7"), Ok(38.7));
        assert_eq!(latitude("-33.9"), Ok(-33.9));
        assert!(latitude("91").is_err() && latitude("north").is_err() && latitude("NaN").is_err());
        let cli = Cli::try_parse_from(["hearth", "serve", "--simulate", "--latitude", "-34.9"]).unwrap();
        let Some(Command::Serve(args)) = cli.command else { panic!("serve") };
        assert_eq!(args.latitude, Some(-34.9));
        let sim = Cli::try_parse_from(["hearth", "simulate", "--token", "t", "--latitude", "60"]).unwrap();
        let Some(Command::Simulate(args)) = sim.command else { panic!("simulate") };
        assert_eq!(args.latitude, Some(60.0));
    }
}

/// A secret from the configuration, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::str::FromStr for Secret {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.is_empty() {
            return Err("must not be empty".into());
        }
        Ok(Secret(s.to_owned()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(…)")
    }
}

/// A period given as a number and a unit: `90s`, `30m`, `6h`, `1d`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Every(pub std::time::Duration);

impl std::str::FromStr for Every {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || format!("{s:?} is not a period: write a number and s, m, h or d (6h, 1d)");
        let split = s.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        let (number, unit) = s.split_at(split);
        let n: u64 = number.parse().map_err(|_| bad())?;
        let seconds = match unit {
            "s" => n,
            "m" => n * 60,
            "h" => n * 3600,
            "d" => n * 86_400,
            _ => return Err(bad()),
        };
        if seconds == 0 {
            return Err(bad());
        }
        Ok(Every(std::time::Duration::from_secs(seconds)))
    }
}
