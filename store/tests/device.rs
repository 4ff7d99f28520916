//! Devices' tokens on SQLite and PostgreSQL: ingest finds a token's device from memory, and
//! still never lets a revoked or replaced token in — at once when this process revokes it,
//! within `TOKEN_TTL` when another process sharing the database does.

use hearth_store::device::{create, find_by_token, revoke, rotate_token};
use hearth_store::on_both_databases;
use hearth_store::testing::TestDb;
use hearth_store::{Db, TOKEN_TTL};
use std::time::{Duration, Instant};

/// Asks `db` for `token`'s device until it is revoked or gone, failing after a deadline far
/// beyond the TTL (a loaded machine), and returns how long it took.
async fn until_refused(db: &Db, token: &str) -> Duration {
    let start = Instant::now();
    loop {
        match find_by_token(db, token).await.unwrap() {
            Some(device) if !device.revoked => {
                assert!(start.elapsed() < TOKEN_TTL * 30, "the token still opens its device after {:?}", start.elapsed());
                tokio::task::yield_now().await;
            }
            _ => return start.elapsed(),
        }
    }
}

async fn revoked_here_stops_at_once(t: TestDb) {
    let (porch, token) = create(&t.db, "porch").await.unwrap();
    assert_eq!(find_by_token(&t.db, &token).await.unwrap(), Some(porch.clone()), "found, and now remembered");
    assert!(revoke(&t.db, "porch").await.unwrap());
    assert!(find_by_token(&t.db, &token).await.unwrap().unwrap().revoked, "revoked at once, not after the TTL");

    let (_, new) = rotate_token(&t.db, "porch").await.unwrap();
    assert!(!find_by_token(&t.db, &new).await.unwrap().unwrap().revoked);
    let (_, newer) = rotate_token(&t.db, "porch").await.unwrap();
    assert_eq!(find_by_token(&t.db, &new).await.unwrap(), None, "a replaced token stops at once");
    assert!(find_by_token(&t.db, &newer).await.unwrap().is_some());
}

async fn revoked_by_another_process_stops_within_the_ttl(t: TestDb) {
    let (_, token) = create(&t.db, "porch").await.unwrap();
    assert!(find_by_token(&t.db, &token).await.unwrap().is_some());
    // The CLI, or another server on the same PostgreSQL: a second connection of its own.
    let other = Db::connect(&t.url).await.unwrap();
    assert!(revoke(&other, "porch").await.unwrap());
    until_refused(&t.db, &token).await;
    let (_, new) = rotate_token(&other, "porch").await.unwrap();
    assert!(find_by_token(&t.db, &new).await.unwrap().is_some(), "a new token works at once: unknown tokens are not remembered");
    until_refused(&t.db, &token).await;
}

on_both_databases!(revoked_here_stops_at_once, revoked_by_another_process_stops_within_the_ttl);
