//! Helpers shared by the integration tests: app state, a server on a free port, the real
//! binary, devices and sessions; fresh databases of each kind come from
//! `hearth_store::testing`.

#![allow(dead_code, unused_imports)]

use hearth::AppState;
use hearth::config::Config;
use hearth_store::Db;
use hearth_store::account::Holder;
use leptos::prelude::LeptosOptions;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

pub use hearth_store::on_both_databases;
pub use hearth_store::testing::{StoredReading, TestDb, postgres, postgres_admin_url, readings, sqlite};

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
    hearth_store::device::create(db, name).await.expect("device created").1
}

/// The owner's account name and password in tests.
pub const OWNER: (&str, &str) = ("owner", "correct-horse-battery");

/// Creates the owner's account (if missing) and a session for it; returns the `Cookie`
/// header value that carries the session.
pub async fn owner_cookie(db: &Db) -> String {
    let account = hearth_store::account::set_password(db, OWNER.0, OWNER.1).await.expect("owner account");
    session_cookie(db, Holder::Account(account)).await
}

/// A session for `holder`, as a `Cookie` header value.
pub async fn session_cookie(db: &Db, holder: Holder) -> String {
    let token = hearth_store::account::open_session(db, holder, Duration::from_secs(3600)).await.expect("session opens");
    format!("{}={token}", hearth_app::session::COOKIE)
}

/// A client that sends the owner's session cookie with every request, as the app's own pages
/// do (`Sec-Fetch-Site: same-origin`).
pub async fn owner_client(db: &Db) -> reqwest::Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert(reqwest::header::COOKIE, owner_cookie(db).await.parse().expect("cookie header"));
    headers.insert("sec-fetch-site", reqwest::header::HeaderValue::from_static("same-origin"));
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

/// Starts the real `hearth` binary on a free port with `database_url` and extra environment,
/// and returns it (killed when dropped) with its base URL, once it listens. The binary is this
/// build's, or the one `HEARTH_BIN` names (a release build, for the tests that measure).
pub async fn spawn_hearth(database_url: &str, env: &[(&str, &str)]) -> (tokio::process::Child, String) {
    let program = std::env::var_os("HEARTH_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_hearth").into());
    let mut child = tokio::process::Command::new(program)
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

/// A TCP proxy to `upstream` that can be cut (every connection closed, new ones dropped) and
/// restored.
pub struct Proxy {
    pub port: u16,
    up: tokio::sync::watch::Sender<bool>,
}

impl Proxy {
    /// A proxy to the database server of `database_url`, and the URL that reaches the same
    /// database through it.
    pub async fn to_database(database_url: &str) -> (Proxy, String) {
        let mut url = reqwest::Url::parse(database_url).expect("a database URL");
        let upstream = format!("{}:{}", url.host_str().expect("a host"), url.port().unwrap_or(5432));
        let proxy = Proxy::start(upstream).await;
        url.set_host(Some("127.0.0.1")).expect("a host");
        url.set_port(Some(proxy.port)).expect("a port");
        (proxy, url.into())
    }

    pub async fn start(upstream: String) -> Proxy {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (up, _) = tokio::sync::watch::channel(true);
        let watcher = up.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let mut state = watcher.subscribe();
                if !*state.borrow_and_update() {
                    continue;
                }
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else { return };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = state.wait_for(|up| !up) => {}
                    }
                });
            }
        });
        Proxy { port, up }
    }

    pub fn cut(&self) {
        self.up.send_replace(false);
    }

    pub fn restore(&self) {
        self.up.send_replace(true);
    }
}
