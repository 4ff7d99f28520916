//! Login cannot be used to fill memory: attempts with 1 MB names, each from another address
//! (as through a proxy trusted to say so), grow the real server by less than 5 MB. Not a timed
//! test: it counts bytes, not seconds. It makes 500 attempts (half a gigabyte of names, about
//! 25 s on a loaded machine); `HEARTH_LOGIN_MEMORY_ATTEMPTS=10000` makes the 10,000
//! (see BENCHMARKS.md).

mod common;

use std::time::Duration;

/// The resident memory of process `pid`, in bytes.
fn rss(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("the server's status");
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS");
    kb * 1024
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn logins_with_one_megabyte_names_do_not_grow_the_server() {
    let attempts: usize = std::env::var("HEARTH_LOGIN_MEMORY_ATTEMPTS").ok().and_then(|n| n.parse().ok()).unwrap_or(500);
    const CONCURRENT: usize = 4;
    const LIMIT: u64 = 5 << 20;
    let t = common::sqlite().await;
    hearth_store::account::set_password(&t.db, common::OWNER.0, common::OWNER.1).await.unwrap();
    let (child, base) = common::spawn_hearth(&t.url, &[("HEARTH_TRUSTED_PROXY", "true")]).await;
    let pid = child.id().unwrap();
    let name = "n".repeat(1 << 20);
    let body = axum::body::Bytes::from(serde_urlencoded::to_string([("name", name.as_str()), ("password", "guess")]).unwrap());
    let client = reqwest::Client::new();
    let attempt = |i: usize| {
        let (client, body, url) = (client.clone(), body.clone(), format!("{base}/api/public/login"));
        async move {
            let forwarded = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
            let response = client
                .post(url)
                .header("content-type", "application/x-www-form-urlencoded")
                .header("x-forwarded-for", forwarded)
                .body(body)
                .send()
                .await
                .expect("an answer");
            response.status().as_u16()
        }
    };
    let run = |from: usize, to: usize| {
        let attempt = &attempt;
        async move {
            let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
            let mut i = from;
            while i < to {
                let batch: Vec<_> = (i..(i + CONCURRENT).min(to)).map(attempt).collect();
                for status in futures_util::future::join_all(batch).await {
                    *statuses.entry(status).or_default() += 1;
                }
                i += CONCURRENT;
            }
            statuses
        }
    };
    // Warm up: the first requests size the allocator's arenas and the server's buffers.
    let warming = std::time::Instant::now();
    run(0, 200).await;
    println!("200 warm-up attempts: {:?}", warming.elapsed());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss(pid);
    let mut statuses = std::collections::BTreeMap::<u16, usize>::new();
    for start in (200..200 + attempts).step_by(100) {
        for (status, n) in run(start, (start + 100).min(200 + attempts)).await {
            *statuses.entry(status).or_default() += n;
        }
        let grown = rss(pid).saturating_sub(before);
        // Without the check a failing server grows by 1 MB an attempt: stop it early.
        assert!(grown < LIMIT, "after {} attempts the server grew by {} KB; answers {statuses:?}", start + 100 - 200, grown >> 10);
    }
    let grown = rss(pid).saturating_sub(before);
    println!("{attempts} logins with 1 MB names: RSS {} KB → {} KB (grew {} KB); answers {statuses:?}", before >> 10, (before + grown) >> 10, grown >> 10);
    assert_eq!(statuses.get(&422), Some(&attempts), "every one refused as a name no account can have: {statuses:?}");
    drop(child);
}
