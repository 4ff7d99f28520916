//! Bad input, tried on purpose: one test per row of the README's table ("Bad input, tried on
//! purpose"), each checking the answer (status, and the error naming the field) and that
//! nothing stored changed.

mod common;

use hearth::config::Config;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Sends `head` then `trickle` one byte every 100 ms, reading meanwhile; returns what the
/// server answered (possibly nothing) and how long after the first byte it closed the
/// connection, or `None` if it was still open when everything was sent.
async fn trickle(base: &str, head: &[u8], trickle: &[u8]) -> (String, Option<Duration>) {
    let mut tcp = TcpStream::connect(base.trim_start_matches("http://")).await.unwrap();
    let started = Instant::now();
    tcp.write_all(head).await.unwrap();
    let mut answer = Vec::new();
    for byte in trickle {
        if tcp.write_all(&[*byte]).await.is_err() {
            return (String::from_utf8_lossy(&answer).into_owned(), Some(started.elapsed()));
        }
        let mut buf = [0u8; 4096];
        match tokio::time::timeout(Duration::from_millis(100), tcp.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&answer).into_owned(), Some(started.elapsed())),
            Ok(Ok(n)) => answer.extend_from_slice(&buf[..n]),
            Err(_) => {}
        }
    }
    (String::from_utf8_lossy(&answer).into_owned(), None)
}

#[tokio::test]
async fn slow_loris_headers_are_cut_off_at_the_header_timeout() {
    let t = common::sqlite().await;
    let (base, _stop, _server) = common::serve(&t.db, Config { header_timeout_secs: 1, ..Config::default() }).await;
    let (_, closed) = trickle(&base, b"POST /api/v1/readings HTTP/1.1\r\nHost: hearth\r\n", &[b'x'; 40]).await;
    let closed = closed.expect("the connection is closed before 4 s of trickled headers");
    assert!(closed >= Duration::from_millis(900) && closed < Duration::from_secs(3), "closed after {closed:?}");
}

#[tokio::test]
async fn slow_loris_bodies_get_408_at_the_request_timeout() {
    let t = common::sqlite().await;
    let token = common::device_token(&t.db, "hall").await;
    let (base, _stop, _server) = common::serve(&t.db, Config { request_timeout_secs: 1, ..Config::default() }).await;
    let head = format!(
        "POST /api/v1/readings HTTP/1.1\r\nHost: hearth\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n"
    );
    let (answer, _) = trickle(&base, head.as_bytes(), &[b' '; 40]).await;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer:?}");
}
