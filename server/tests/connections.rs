//! Connections that misbehave, against a real server: connections that never send a byte are
//! closed at the header timeout, and with the open-file limit at 1,024, 1,100 of them do not
//! keep a new client out.

mod common;

use hearth::config::Config;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// Lets this test process open more sockets than the usual soft limit of 1,024.
fn raise_own_open_file_limit() {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let Rlimit { maximum, .. } = getrlimit(Resource::Nofile);
    setrlimit(Resource::Nofile, Rlimit { current: maximum, maximum }).expect("raise the test's own limit");
}

/// Whether the server closes `stream` within `deadline` (a read that ends, or fails).
async fn closed_within(stream: &mut TcpStream, deadline: Duration) -> bool {
    let mut buf = [0u8; 64];
    matches!(tokio::time::timeout(deadline, stream.read(&mut buf)).await, Ok(Ok(0) | Err(_)))
}

/// `GET /ping` on a new connection: its status line.
async fn ping(base: &str) -> String {
    let mut stream = TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
    stream.write_all(b"GET /ping HTTP/1.1\r\nHost: hearth\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    answer.lines().next().unwrap_or_default().to_owned()
}

#[tokio::test]
async fn connections_that_send_nothing_are_closed_at_the_header_timeout() {
    raise_own_open_file_limit();
    let t = common::sqlite().await;
    let (base, _stop, _server) = common::serve(&t.db, Config { header_timeout_secs: 1, ..Config::default() }).await;
    let address = base.trim_start_matches("http://").to_owned();
    let mut silent = Vec::new();
    for _ in 0..300 {
        silent.push(TcpStream::connect(&address).await.unwrap());
    }
    for (i, stream) in silent.iter_mut().enumerate() {
        assert!(closed_within(stream, Duration::from_secs(30)).await, "connection {i} is still open 30 s after a 1 s header timeout");
    }
    assert_eq!(ping(&base).await, "HTTP/1.1 204 No Content");
}

#[tokio::test]
async fn idle_connections_beyond_the_open_file_limit_do_not_keep_a_client_out() {
    raise_own_open_file_limit();
    let t = common::sqlite().await;
    // The real binary with its hard (and so its soft) limit at 1,024 open files, and a header
    // timeout far beyond the test, so that only the connection bound can make room.
    let mut child = tokio::process::Command::new("sh")
        .args(["-c", "ulimit -Sn 1024 && ulimit -Hn 1024 && exec \"$0\" serve", env!("CARGO_BIN_EXE_hearth")])
        .env("HEARTH_DATABASE_URL", &t.url)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("HEARTH_HEADER_TIMEOUT_SECS", "600")
        .env("RUST_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("hearth starts");
    let mut log = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut base = None;
    let mut limits = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), async {
        while let Some(line) = log.next_line().await.unwrap() {
            if let Some(at) = line.find("listening on http://") {
                base = Some(line[at + "listening on ".len()..].split_whitespace().next().unwrap().to_owned());
            }
            if line.contains("open-file limit") || line.contains("connections held at once") {
                limits.push(line);
            }
            if base.is_some() && limits.len() == 2 {
                return;
            }
        }
        panic!("hearth exited before listening: {limits:?}");
    })
    .await
    .expect("hearth listens within 30 s");
    tokio::spawn(async move { while let Ok(Some(_)) = log.next_line().await {} });
    let base = base.unwrap();
    assert!(limits[0].contains("1024"), "the limits are logged: {limits:?}");
    assert!(limits[1].contains("896"), "the bound leaves room for the database and files: {limits:?}");

    let address = base.trim_start_matches("http://").to_owned();
    let mut idle = Vec::new();
    for _ in 0..1100 {
        idle.push(TcpStream::connect(&address).await.unwrap());
    }
    let started = Instant::now();
    let answer = tokio::time::timeout(Duration::from_secs(60), ping(&base)).await.expect("/ping is answered");
    let took = started.elapsed();
    println!("GET /ping with 1,100 idle connections open: {took:?}");
    assert_eq!(answer, "HTTP/1.1 204 No Content");
    assert!(took < Duration::from_secs(5), "answered at once, not after idle connections time out: {took:?}");
    let closed = {
        let mut n = 0;
        for stream in &mut idle {
            if closed_within(stream, Duration::from_millis(1)).await {
                n += 1;
            }
        }
        n
    };
    assert!(closed >= 1100 - 896, "the oldest idle connections were closed to make room: {closed}");
}
