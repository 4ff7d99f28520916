//! Helpers shared by the integration tests: a fresh database of each kind, app state, and
//! devices.

#![allow(dead_code)]

use app::account::ssr::Holder;
use app::store::Db;
use hearth::AppState;
use hearth::config::Config;
use leptos::prelude::LeptosOptions;
use std::process::Stdio;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// The PostgreSQL server the tests use; `HEARTH_TEST_POSTGRES_URL` overrides it.
pub fn postgres_admin_url() -> String {
    std::env::var("HEARTH_TEST_POSTGRES_URL").unwrap_or_else(|_| "postgres://root@127.0.0.1:5432/test".into())
}

/// A database that lives as long as the test: a SQLite file in a temporary folder, or a
/// PostgreSQL database dropped afterwards.
pub struct TestDb {
    pub db: Db,
    /// The URL a separate `hearth` process can open it with.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    pg_name: Option<String>,
}

/// A new, migrated SQLite database in a temporary folder.
pub async fn sqlite() -> TestDb {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("hearth.db").display());
    let db = Db::connect(&url).await.expect("SQLite opens");
    TestDb { db, url, _dir: Some(dir), pg_name: None }
}

/// A new, migrated database on the test PostgreSQL server. Panics, failing the test, when the
/// server cannot be reached: the PostgreSQL path is never skipped silently.
pub async fn postgres() -> TestDb {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let name = format!("hearth_test_{}_{}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
    let admin_url = postgres_admin_url();
    let admin = sqlx::PgPool::connect(&admin_url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at {admin_url} is unreachable ({e}); start it (see README) to run the PostgreSQL tests")
    });
    sqlx::query(sqlx::AssertSqlSafe(format!("drop database if exists {name}"))).execute(&admin).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("create database {name}"))).execute(&admin).await.unwrap();
    admin.close().await;
    let (base, _) = admin_url.rsplit_once('/').expect("URL with a database");
    let url = format!("{base}/{name}");
    let db = Db::connect(&url).await.expect("PostgreSQL test database opens");
    TestDb { db, url, _dir: None, pg_name: Some(name) }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.pg_name.take() else { return };
        // Drop runs outside any runtime guarantee, so drop the database from a thread of its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                if let Ok(admin) = sqlx::PgPool::connect(&postgres_admin_url()).await {
                    let sql = format!("drop database if exists {name} with (force)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&admin).await;
                }
            });
        })
        .join();
    }
}

/// Leptos options for a server whose site files may not exist (the API does not need them).
pub fn leptos_options() -> LeptosOptions {
    LeptosOptions::builder().output_name("hearth").site_root("target/site").build()
}

/// App state on `db` with default limits.
pub fn state(db: &Db) -> AppState {
    state_with(db, Config::default())
}

/// App state on `db` with `config`.
pub fn state_with(db: &Db, config: Config) -> AppState {
    AppState::new(leptos_options(), db.clone(), config)
}

/// Registers a device and returns its token.
pub async fn device_token(db: &Db, name: &str) -> String {
    app::device::ssr::create(db, name).await.expect("device created").1
}

/// The owner's account name and password in tests.
pub const OWNER: (&str, &str) = ("owner", "correct-horse-battery");

/// Creates the owner's account (if missing) and a session for it; returns the `Cookie`
/// header value that carries the session.
pub async fn owner_cookie(db: &Db) -> String {
    let account = app::account::ssr::set_password(db, OWNER.0, OWNER.1).await.expect("owner account");
    session_cookie(db, Holder::Account(account)).await
}

/// A session for `holder`, as a `Cookie` header value.
pub async fn session_cookie(db: &Db, holder: Holder) -> String {
    let token = app::account::ssr::open_session(db, holder, Duration::from_secs(3600)).await.expect("session opens");
    format!("{}={token}", app::account::ssr::COOKIE)
}

/// A client that sends the owner's session cookie with every request.
pub async fn owner_client(db: &Db) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, owner_cookie(db).await.parse().expect("cookie header"));
    reqwest::Client::builder().default_headers(headers).build().expect("client")
}

/// A server in this process on a free port with `config`: its base URL, the sender that
/// stops it, and its task.
pub async fn serve(db: &Db, config: Config) -> (String, tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a free port");
    let base = format!("http://{}", listener.local_addr().expect("bound"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(hearth::serve(listener, state_with(db, config), async move {
        let _ = stopped.await;
    }));
    (base, stop, server)
}

/// Defines one `#[tokio::test]` per listed `async fn(TestDb)` in a `sqlite` module and
/// another in a `postgres` module, so every storage behaviour is checked on both databases.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[tokio::test] async fn $name() { super::$name($crate::common::sqlite().await).await })*
        }
        mod postgres {
            $(#[tokio::test] async fn $name() { super::$name($crate::common::postgres().await).await })*
        }
    };
}

/// Starts the real `hearth` binary on a free port with `database_url` and extra environment,
/// and returns it (killed when dropped) with its base URL, once it listens.
pub async fn spawn_hearth(database_url: &str, env: &[(&str, &str)]) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_hearth"))
        .env("HEARTH_DATABASE_URL", database_url)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("RUST_LOG", "info")
        .envs(env.iter().copied())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("hearth starts");
    let mut log = BufReader::new(child.stderr.take().unwrap()).lines();
    let base = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = log.next_line().await.unwrap() {
            if let Some(at) = line.find("listening on http://") {
                return line[at + "listening on ".len()..].split_whitespace().next().unwrap().to_owned();
            }
        }
        panic!("hearth exited before listening");
    })
    .await
    .expect("hearth listens within 20 s");
    // Keep draining its log so it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = log.next_line().await {} });
    (child, base)
}

/// One stored reading with its sensor: (device, key, kind, room, at_ms, value).
pub type StoredReading = (String, String, String, Option<String>, i64, f64);

/// Every stored reading, by device, sensor key and time.
pub async fn readings(db: &Db) -> Vec<StoredReading> {
    const SQL: &str = "select d.name, s.key, s.kind, s.room, r.at_ms, r.value from reading r \
         join sensor s on s.sensor_id = r.sensor_id join device d on d.device_id = s.device_id \
         order by d.name, s.key, r.at_ms";
    match db {
        Db::Sqlite(sqlite) => sqlx::query_as(SQL).fetch_all(&sqlite.read).await,
        Db::Postgres(pg) => sqlx::query_as(SQL).fetch_all(&pg.pool).await,
    }
    .expect("readings query")
}
