//! How long browsers keep what they fetched. The compiled files under `/pkg` carry a hash of
//! their content in their names (cargo-leptos `hash-files`): a new build has new names, so
//! they are kept a year without asking again. Pages and the other files are `no-cache`: kept,
//! but asked for again each time with a validator (`ETag` for pages, `Last-Modified` for
//! files), and answered 304 without a body when nothing changed. Files are sent as the brotli
//! or gzip variant written beside them at build time when the browser accepts it.

use axum::body::{Body, Bytes};
use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::BodyExt;
use leptos::prelude::LeptosOptions;
use sha2::{Digest, Sha256};
use std::path::Path;
use tower_http::services::ServeDir;

/// `Cache-Control` of files whose name changes with their content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// `Cache-Control` of pages: per session, kept only to be revalidated.
pub const PAGE: &str = "private, no-cache";
/// `Cache-Control` of the other files: revalidated at each use.
pub const REVALIDATE: &str = "no-cache";

/// The directory `dir` as files, with the precompressed variants (`.br`, `.gz`) beside them
/// served to browsers that accept them. Conditional requests (`If-Modified-Since`) are answered
/// 304.
pub fn files(dir: impl AsRef<Path>) -> ServeDir {
    ServeDir::new(dir).precompressed_br().precompressed_gzip()
}

/// Whether the site's compiled files have hashed names: cargo-leptos says so in the
/// environment when it runs the server, and leaves its list of hashes (`hash.txt`) beside the
/// binary it built, which is what a server started without it goes by.
pub fn hashed_names(options: &LeptosOptions) -> bool {
    if std::env::var_os("LEPTOS_HASH_FILES").is_some() {
        return options.hash_files;
    }
    std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(options.hash_file.as_ref())))
        .is_some_and(|file| file.is_file())
}

/// Middleware for `/pkg`: a year when the names are hashed, else revalidated at each use.
pub async fn compiled_files(hashed: bool, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let policy = if hashed { IMMUTABLE } else { REVALIDATE };
    if matches!(response.status(), StatusCode::OK | StatusCode::NOT_MODIFIED) {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    }
    response
}

/// Middleware for pages and the site's other files. A page (HTML answered 200 to a GET) gets
/// `private, no-cache` and a weak `ETag`, a hash of its content; a request whose
/// `If-None-Match` names it is answered 304 without the page. Other files answered 200 or 304
/// get `no-cache` (their validator is `Last-Modified`). Everything else passes untouched.
pub async fn validators(request: Request, next: Next) -> Response {
    let get = matches!(*request.method(), Method::GET | Method::HEAD);
    let if_none_match = request.headers().get(header::IF_NONE_MATCH).cloned();
    let response = next.run(request).await;
    if !get || response.headers().contains_key(header::CACHE_CONTROL) {
        return response;
    }
    match response.status() {
        StatusCode::OK if is_html(response.headers()) => page(response, if_none_match).await,
        StatusCode::OK | StatusCode::NOT_MODIFIED if response.headers().contains_key(header::LAST_MODIFIED) => {
            let mut response = response;
            response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(REVALIDATE));
            response
        }
        _ => response,
    }
}

/// For the compression layer: a 304 has no body to compress.
pub fn has_body(status: StatusCode, _: axum::http::Version, _: &HeaderMap, _: &axum::http::Extensions) -> bool {
    status != StatusCode::NOT_MODIFIED
}

fn is_html(headers: &HeaderMap) -> bool {
    headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.starts_with("text/html"))
}

/// The page read whole, its `ETag` set, and 304 instead when the browser holds it already.
async fn page(response: Response, if_none_match: Option<HeaderValue>) -> Response {
    let (mut parts, body) = response.into_parts();
    let bytes: Bytes = match body.collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(e) => {
            tracing::warn!(error = %e, "page not rendered");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let tag = etag(&bytes);
    parts.headers.insert(header::CACHE_CONTROL, HeaderValue::from_static(PAGE));
    parts.headers.insert(header::ETAG, tag.clone());
    if if_none_match.is_some_and(|held| matches(&held, &tag)) {
        parts.status = StatusCode::NOT_MODIFIED;
        parts.headers.remove(header::CONTENT_LENGTH);
        parts.headers.remove(header::CONTENT_TYPE);
        return Response::from_parts(parts, Body::empty());
    }
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(bytes.len()));
    Response::from_parts(parts, Body::from(bytes))
}

/// A weak entity tag: the first 128 bits of the page's SHA-256, without the nonce the page's
/// scripts carry (new for every response).
fn etag(content: &[u8]) -> HeaderValue {
    let mut hasher = Sha256::new();
    match nonce(content) {
        Some(nonce) => {
            let mut rest = content;
            while let Some(at) = find(rest, nonce) {
                hasher.update(&rest[..at]);
                rest = &rest[at + nonce.len()..];
            }
            hasher.update(rest);
        }
        None => hasher.update(content),
    }
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    HeaderValue::try_from(format!("W/\"{hex}\"")).expect("hex is a valid header value")
}

/// The value of the page's first `nonce` attribute.
fn nonce(page: &[u8]) -> Option<&[u8]> {
    const ATTRIBUTE: &[u8] = b" nonce=\"";
    let start = find(page, ATTRIBUTE)? + ATTRIBUTE.len();
    let len = page[start..].iter().position(|b| *b == b'"')?;
    (len > 0).then(|| &page[start..start + len])
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Whether an `If-None-Match` list names `tag` (weak comparison, as RFC 9110 asks for it).
fn matches(held: &HeaderValue, tag: &HeaderValue) -> bool {
    let Ok(held) = held.to_str() else { return false };
    let opaque = |t: &str| t.trim().trim_start_matches("W/").to_owned();
    let ours = opaque(tag.to_str().unwrap_or_default());
    held.trim() == "*" || held.split(',').any(|t| opaque(t) == ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_compares_weakly_and_in_lists() {
        let tag = etag(b"page");
        let value = tag.to_str().unwrap().to_owned();
        let strong = value.trim_start_matches("W/").to_owned();
        for held in [value.clone(), strong, format!("\"other\", {value}"), "*".to_owned()] {
            assert!(matches(&HeaderValue::try_from(held.as_str()).unwrap(), &tag), "{held}");
        }
        assert!(!matches(&HeaderValue::from_static("W/\"other\""), &tag));
        assert_ne!(etag(b"page"), etag(b"page!"));
        let page = |nonce: &str| format!("<link crossorigin=\"{nonce}\"><script nonce=\"{nonce}\">x</script>");
        assert_eq!(etag(page("abc").as_bytes()), etag(page("xyz123").as_bytes()), "the nonce is left out");
        assert_ne!(etag(page("abc").as_bytes()), etag(page("abc").replace('x', "y").as_bytes()));
    }
}
