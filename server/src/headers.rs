//! The security headers of every answer: pages set their own Content-Security-Policy with the
//! nonce of their scripts (`hearth_app::shell`); every other answer gets one that allows
//! nothing. A 304 carries none: the browser keeps the policy it stored with its copy, whose
//! scripts carry that policy's nonce (a new nonce would block them). None may be framed or
//! sniffed into another type, and none sends a `Referer` to another site.

use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

/// The policy of answers that are not pages: nothing runs, nothing loads, no framing.
const NOTHING: &str = "default-src 'none'; frame-ancestors 'none'";

/// The middleware adding the headers.
pub async fn security(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let status = response.status();
    let headers = response.headers_mut();
    if status == StatusCode::NOT_MODIFIED {
        headers.remove(header::CONTENT_SECURITY_POLICY);
    } else {
        headers.entry(header::CONTENT_SECURITY_POLICY).or_insert(HeaderValue::from_static(NOTHING));
    }
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // Page addresses (a share link's above all) stay on this server. (`no-referrer` would also
    // make browsers send `Origin: null` on the app's own form posts.)
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    response
}
