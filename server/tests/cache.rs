//! What browsers may keep, through `app(state)`: the compiled files under `/pkg` kept a year
//! when their names are hashed and sent as the brotli variant written at build time; pages
//! and other files revalidated, and answered 304 when unchanged.

mod common;

use axum::body::Body;
use axum::http::{Request, Response, StatusCode, header};
use hearth::AppState;
use hearth::cache::{IMMUTABLE, PAGE, REVALIDATE};
use hearth::config::Config;
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use tower::ServiceExt;

const WASM: &[u8] = b"\0asm\x01\0\0\0 the module itself, uncompressed";
const WASM_BR: &[u8] = b"what brotli made of it at build time";

/// A site folder with a hashed WASM file and its brotli variant, and a favicon.
fn site() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("pkg")).unwrap();
    std::fs::write(dir.path().join("pkg/hearth.QmFzZTY0aGFzaA.wasm"), WASM).unwrap();
    std::fs::write(dir.path().join("pkg/hearth.QmFzZTY0aGFzaA.wasm.br"), WASM_BR).unwrap();
    std::fs::write(dir.path().join("favicon.svg"), "<svg xmlns=\"http://www.w3.org/2000/svg\"/>").unwrap();
    dir
}

fn state(db: &hearth_store::Db, site: &tempfile::TempDir, hashed: bool) -> AppState {
    let options = LeptosOptions::builder()
        .output_name("hearth")
        .site_root(site.path().to_str().unwrap())
        .hash_files(hashed)
        .build();
    AppState::new(options, db.clone(), Config::default())
}

async fn get(state: &AppState, uri: &str, headers: &[(header::HeaderName, &str)]) -> (Response<Body>, Vec<u8>) {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(name, *value);
    }
    let response = hearth::app(state.clone()).oneshot(request.body(Body::empty()).unwrap()).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes().to_vec();
    (Response::from_parts(parts, Body::empty()), bytes)
}

fn header_of<'a>(response: &'a Response<Body>, name: header::HeaderName) -> Option<&'a str> {
    response.headers().get(name).map(|v| v.to_str().unwrap())
}

#[tokio::test]
async fn hashed_compiled_files_are_kept_a_year_and_sent_precompressed() {
    let t = common::sqlite().await;
    let site = site();
    let state = state(&t.db, &site, true);
    let uri = "/pkg/hearth.QmFzZTY0aGFzaA.wasm";

    let (br, body) = get(&state, uri, &[(header::ACCEPT_ENCODING, "gzip, deflate, br, zstd")]).await;
    assert_eq!(br.status(), StatusCode::OK);
    assert_eq!(header_of(&br, header::CACHE_CONTROL), Some(IMMUTABLE));
    assert_eq!(header_of(&br, header::CONTENT_ENCODING), Some("br"));
    assert_eq!(header_of(&br, header::CONTENT_TYPE), Some("application/wasm"));
    assert_eq!(body, WASM_BR, "the file brotli wrote at build time, not a compression of our own");

    let (plain, body) = get(&state, uri, &[]).await;
    assert_eq!(plain.status(), StatusCode::OK);
    assert_eq!(header_of(&plain, header::CONTENT_ENCODING), None);
    assert_eq!(body, WASM);

    // Without a session: the page's files are public.
    let last_modified = header_of(&br, header::LAST_MODIFIED).expect("a validator").to_owned();
    let (again, body) = get(&state, uri, &[(header::IF_MODIFIED_SINCE, &last_modified), (header::ACCEPT_ENCODING, "br")]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(header_of(&again, header::CACHE_CONTROL), Some(IMMUTABLE));

    let (missing, _) = get(&state, "/pkg/hearth.0ther.wasm", &[]).await;
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert_eq!(header_of(&missing, header::CACHE_CONTROL), None);
}

#[tokio::test]
async fn compiled_files_without_hashed_names_are_revalidated() {
    let t = common::sqlite().await;
    let site = site();
    let state = state(&t.db, &site, false);
    let (response, _) = get(&state, "/pkg/hearth.QmFzZTY0aGFzaA.wasm", &[]).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(header_of(&response, header::CACHE_CONTROL), Some(REVALIDATE));
}

#[tokio::test]
async fn other_files_are_revalidated_and_answered_304_when_unchanged() {
    let t = common::sqlite().await;
    let site = site();
    let state = state(&t.db, &site, false);
    let cookie = common::owner_cookie(&t.db).await;
    let (icon, body) = get(&state, "/favicon.svg", &[(header::COOKIE, &cookie)]).await;
    assert_eq!(icon.status(), StatusCode::OK);
    assert!(String::from_utf8(body).unwrap().starts_with("<svg"));
    assert_eq!(header_of(&icon, header::CACHE_CONTROL), Some(REVALIDATE));
    let last_modified = header_of(&icon, header::LAST_MODIFIED).expect("a validator").to_owned();
    let (again, body) = get(&state, "/favicon.svg", &[(header::COOKIE, &cookie), (header::IF_MODIFIED_SINCE, &last_modified)]).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
}

#[tokio::test]
async fn pages_are_revalidated_and_answered_304_until_they_change() {
    let t = common::sqlite().await;
    let site = site();
    let state = state(&t.db, &site, false);
    let cookie = common::owner_cookie(&t.db).await;
    let page = |if_none_match: Option<String>| {
        let (state, cookie) = (state.clone(), cookie.clone());
        async move {
            let mut headers = vec![(header::COOKIE, cookie.as_str()), (header::ACCEPT_ENCODING, "br")];
            if let Some(tag) = &if_none_match {
                headers.push((header::IF_NONE_MATCH, tag.as_str()));
            }
            let (response, body) = get(&state, "/sharing", &headers).await;
            (response, body)
        }
    };

    let (first, _) = page(None).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(header_of(&first, header::CONTENT_ENCODING), Some("br"));
    assert_eq!(header_of(&first, header::CACHE_CONTROL), Some(PAGE));
    let tag = header_of(&first, header::ETAG).expect("an ETag").to_owned();
    assert!(tag.starts_with("W/\""), "{tag}");

    let (again, body) = page(Some(tag.clone())).await;
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    assert!(body.is_empty(), "a 304 has no body, compressed or not");
    assert_eq!(header_of(&again, header::CONTENT_ENCODING), None);
    assert_eq!(header_of(&again, header::ETAG), Some(tag.as_str()));
    assert_eq!(header_of(&again, header::CACHE_CONTROL), Some(PAGE));
    // The browser's copy keeps the policy it came with: its scripts carry that policy's nonce.
    assert!(header_of(&first, header::CONTENT_SECURITY_POLICY).is_some_and(|p| p.contains("'nonce-")));
    assert_eq!(header_of(&again, header::CONTENT_SECURITY_POLICY), None);

    hearth_store::account::insert_share_link(&t.db, "Kitchen screen").await.unwrap();
    let (changed, body) = page(Some(tag.clone())).await;
    assert_eq!(changed.status(), StatusCode::OK);
    assert!(!body.is_empty());
    assert_ne!(header_of(&changed, header::ETAG), Some(tag.as_str()));
}

