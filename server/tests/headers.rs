//! The security headers: a page's Content-Security-Policy allows its scripts by this
//! response's nonce (and no inline script without it), and no answer may be framed or sniffed.

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use http_body_util::BodyExt;
use tower::ServiceExt;

#[tokio::test]
async fn pages_carry_a_nonce_policy_and_every_answer_the_usual_headers() {
    let t = common::sqlite().await;
    let cookie = common::owner_cookie(&t.db).await;
    let page = hearth::app(common::state(&t.db))
        .oneshot(Request::get("/").header(header::COOKIE, &cookie).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let headers = page.headers().clone();
    let policy = headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap().to_owned();
    let html = String::from_utf8(page.into_body().collect().await.unwrap().to_bytes().to_vec()).unwrap();
    let nonce = policy.split("'nonce-").nth(1).and_then(|rest| rest.split('\'').next()).expect(&policy).to_owned();
    assert!(nonce.len() >= 16, "{nonce}");
    for directive in ["default-src 'self'", "script-src 'self' 'nonce-", "'wasm-unsafe-eval'", "style-src 'self';", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"] {
        assert!(policy.contains(directive), "{directive} in {policy}");
    }
    let scripts_policy = policy.split(';').find(|d| d.trim().starts_with("script-src")).unwrap();
    assert!(!scripts_policy.contains("unsafe-inline"), "{policy}");
    assert!(!policy.contains("style-src 'self' 'unsafe-inline'"), "no inline <style>: {policy}");
    let scripts: Vec<&str> = html.split("<script").skip(1).map(|tag| tag.split('>').next().unwrap()).collect();
    assert!(!scripts.is_empty(), "the page has its hydration script");
    for tag in &scripts {
        assert!(tag.contains(&format!("nonce=\"{nonce}\"")), "every inline script carries the nonce: <script{tag}>");
    }
    assert!(!html.contains("<style"), "no inline style element the policy would refuse");

    let again = hearth::app(common::state(&t.db))
        .oneshot(Request::get("/").header(header::COOKIE, &cookie).body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_ne!(again.headers()[header::CONTENT_SECURITY_POLICY], headers[header::CONTENT_SECURITY_POLICY], "a new nonce each time");

    let api = hearth::app(common::state(&t.db))
        .oneshot(Request::get("/api/v1/sensors").header(header::COOKIE, &cookie).body(Body::empty()).unwrap())
        .await
        .unwrap();
    let ping = hearth::app(common::state(&t.db)).oneshot(Request::get("/ping").body(Body::empty()).unwrap()).await.unwrap();
    for (what, answer) in [("page", &headers), ("API", api.headers()), ("ingest", ping.headers())] {
        assert_eq!(answer[header::X_CONTENT_TYPE_OPTIONS], "nosniff", "{what}");
        assert_eq!(answer[header::X_FRAME_OPTIONS], "DENY", "{what}");
        assert_eq!(answer[header::REFERRER_POLICY], "same-origin", "{what}");
        assert!(answer[header::CONTENT_SECURITY_POLICY].to_str().unwrap().contains("frame-ancestors 'none'"), "{what}");
    }
    assert_eq!(api.headers()[header::CONTENT_SECURITY_POLICY], "default-src 'none'; frame-ancestors 'none'");
}
