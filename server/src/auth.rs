//! Who may open what. One middleware ([`require_session`]) guards every route but ingest
//! (devices authenticate there with their bearer token, which opens nothing else):
//!
//! | path | needs |
//! |---|---|
//! | `/api/public/…` | nothing (setup, login) |
//! | `/api/owner/…` | the owner's session (403 for a read-only one) |
//! | any other `/api/…` (server functions, read API, stream) | a session (401 without) |
//! | `/share/<token>` | a live share link: opens a read-only session, then redirects to `/` |
//! | `/pkg/…` and the site's files | nothing |
//! | pages | a session; otherwise a redirect to `/login`, or to `/setup` while no account exists |

use crate::AppState;
use crate::error::{Error, Result};
use hearth_app::session::{Auth, ClientIp, session_cookie, session_token};
use hearth_store::account::{Holder, Session, find_session, find_share_link, open_session};
use axum::extract::{ConnectInfo, Path, Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use std::net::{IpAddr, SocketAddr};

/// What a path needs, by its prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone: login, setup, share links.
    Public,
    /// The site's compiled files.
    Asset,
    /// Any session, answered with JSON errors.
    Api,
    /// The owner's session, answered with JSON errors.
    Owner,
    /// A page: without a session, a redirect to the login.
    Page,
}

impl Access {
    /// What `path` needs.
    pub fn of(path: &str) -> Access {
        if path.starts_with("/api/public/") || path.starts_with("/share/") {
            Access::Public
        } else if path.starts_with("/api/owner/") {
            Access::Owner
        } else if path.starts_with("/api/") {
            Access::Api
        } else if path.starts_with("/pkg/") {
            Access::Asset
        } else {
            Access::Page
        }
    }
}

/// The middleware: finds the request's session (from its cookie) and the client's address,
/// puts them in the request's extensions for handlers and server functions, and refuses or
/// redirects what the session does not allow.
pub async fn require_session(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let access = Access::of(request.uri().path());
    if access == Access::Asset {
        return next.run(request).await;
    }
    if let Some(ip) = client_ip(&state, &request) {
        request.extensions_mut().insert(ClientIp(ip));
    }
    let token = session_token(request.headers());
    if token.is_some()
        && !matches!(*request.method(), Method::GET | Method::HEAD | Method::OPTIONS)
        && let Err(origin) = same_origin(state.config.public_url.as_deref(), request.headers())
    {
        tracing::warn!(%origin, path = request.uri().path(), "refused a cross-site request carrying a session cookie");
        return Error::CrossSite(origin).into_response();
    }
    let session = match token {
        Some(token) => match find_session(&state.db, &token).await {
            Ok(session) => session,
            Err(e) => return Error::from(e).into_response(),
        },
        None => None,
    };
    if let Some(session) = &session {
        request.extensions_mut().insert(session.clone());
    }
    match (access, &session) {
        (Access::Public | Access::Asset, _) => next.run(request).await,
        (Access::Owner, Some(Session { viewer, .. })) if viewer.read_only => Error::ReadOnly.into_response(),
        (Access::Api | Access::Owner, Some(_)) => next.run(request).await,
        (Access::Api | Access::Owner, None) => Error::LoggedOut.into_response(),
        (Access::Page, Some(_)) => match request.uri().path() {
            "/login" | "/setup" => Redirect::to("/").into_response(),
            _ => next.run(request).await,
        },
        (Access::Page, None) => page_without_session(&state, request, next).await,
    }
}

/// Whether a request comes from this server's own pages: the browser says `Sec-Fetch-Site:
/// same-origin`, or its `Origin` is the origin of `public_url` (`HEARTH_PUBLIC_URL`) or names
/// the host the request was sent to (`Host`). `Err` holds what the
/// request claimed, for the answer and the log.
pub fn same_origin(public_url: Option<&str>, headers: &HeaderMap) -> std::result::Result<(), String> {
    // Browsers set it and pages cannot; some send `Origin: null` on their own forms.
    if headers.get("sec-fetch-site").is_some_and(|site| site.as_bytes() == b"same-origin") {
        return Ok(());
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return match headers.get("sec-fetch-site") {
            Some(site) if site.as_bytes() == b"same-origin" => Ok(()),
            Some(site) => Err(format!("Sec-Fetch-Site: {}", String::from_utf8_lossy(site.as_bytes()))),
            None => Err("neither Origin nor Sec-Fetch-Site sent".to_owned()),
        };
    };
    let origin = String::from_utf8_lossy(origin.as_bytes()).into_owned();
    let public = public_url.and_then(|u| url::Url::parse(u).ok()).map(|u| u.origin().ascii_serialization());
    if public.is_some_and(|public| public.eq_ignore_ascii_case(&origin)) {
        return Ok(());
    }
    let authority = origin.split_once("://").map(|(_, rest)| rest);
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    match (authority, host) {
        (Some(authority), Some(host)) if !authority.is_empty() && authority.eq_ignore_ascii_case(host) => Ok(()),
        _ => Err(format!("Origin: {origin}")),
    }
}

/// A page asked for without a session: the login and setup pages (whichever applies) and the
/// site's files are served, anything else redirects to the one that applies.
async fn page_without_session(state: &AppState, request: Request, next: Next) -> Response {
    let accounts = match state.auth.accounts_exist(&state.db).await {
        Ok(exist) => exist,
        Err(e) => return Error::from(e).into_response(),
    };
    let path = request.uri().path();
    let entry = if accounts { "/login" } else { "/setup" };
    if path == entry || is_site_file(state, path) {
        return next.run(request).await;
    }
    if !matches!(*request.method(), Method::GET | Method::HEAD) {
        return Error::LoggedOut.into_response();
    }
    Redirect::to(entry).into_response()
}

/// Whether `path` names a file of the site (such as `/favicon.svg`).
fn is_site_file(state: &AppState, path: &str) -> bool {
    let relative = path.trim_start_matches('/');
    if relative.is_empty() || relative.split('/').any(|segment| segment == ".." || segment.starts_with('.')) {
        return false;
    }
    std::path::Path::new(&*state.leptos_options.site_root).join(relative).is_file()
}

/// The client's address: the peer's, or with `--trusted-proxy` the nearest address the
/// proxy appended to `X-Forwarded-For`.
pub(crate) fn client_ip(state: &AppState, request: &Request) -> Option<IpAddr> {
    if state.config.trusted_proxy
        && let Some(forwarded) = forwarded_for(request.headers())
    {
        return Some(forwarded);
    }
    request.extensions().get::<ConnectInfo<SocketAddr>>().map(|info| info.0.ip())
}

fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let list = headers.get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok()).next_back()?;
    list.rsplit(',').next()?.trim().parse().ok()
}

/// `GET /share/{token}`: opens a read-only session for a live share link and redirects to
/// the overview; an unknown or revoked link gets a page saying so.
pub async fn open_share(State(state): State<AppState>, headers: HeaderMap, Path(token): Path<String>) -> Result<Response> {
    let Some(link) = find_share_link(&state.db, &token).await? else {
        let page = Html("<!DOCTYPE html><title>Hearth</title><p>This share link is unknown or was revoked. Ask the homeowner for a new one.</p>");
        return Ok((StatusCode::NOT_FOUND, page).into_response());
    };
    let lifetime = state.auth.share_lifetime;
    let token = open_session(&state.db, Holder::ShareLink(link.share_link_id), lifetime).await?;
    let cookie = session_cookie(&token, lifetime, state.auth.secure(&headers));
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/")).into_response())
}

/// The login settings of `config`.
pub fn settings(config: &crate::config::Config) -> Auth {
    let lifetime = std::time::Duration::from_secs(u64::from(config.session_days.max(1)) * 24 * 3600);
    Auth::new(config.login_attempts_per_minute, config.https(), config.trusted_proxy, lifetime)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_classified_by_prefix() {
        let cases = [
            ("/api/public/login", Access::Public),
            ("/share/hth_abc", Access::Public),
            ("/api/owner/revoke_device", Access::Owner),
            ("/api/v1/stream", Access::Api),
            ("/api/v1/sensors/1/series", Access::Api),
            ("/api/history123", Access::Api),
            ("/pkg/hearth.wasm", Access::Asset),
            ("/", Access::Page),
            ("/login", Access::Page),
            ("/apis", Access::Page),
        ];
        for (path, access) in cases {
            assert_eq!(Access::of(path), access, "{path}");
        }
    }

    #[test]
    fn origins_are_compared_with_the_host_or_the_public_url() {
        let headers = |pairs: &[(&'static str, &'static str)]| {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers.insert(*name, value.parse().unwrap());
            }
            headers
        };
        let own = headers(&[("host", "hearth.lan:3000"), ("origin", "http://hearth.lan:3000")]);
        assert_eq!(same_origin(None, &own), Ok(()));
        let other_port = headers(&[("host", "hearth.lan:3000"), ("origin", "http://hearth.lan:8080")]);
        assert_eq!(same_origin(None, &other_port), Err("Origin: http://hearth.lan:8080".into()));
        let proxied = headers(&[("host", "127.0.0.1:3000"), ("origin", "https://home.example.org")]);
        assert!(same_origin(None, &proxied).is_err());
        assert_eq!(same_origin(Some("https://home.example.org/"), &proxied), Ok(()));
        assert!(same_origin(Some("https://home.example.org"), &headers(&[("origin", "https://evil.example")])).is_err());
        assert!(same_origin(None, &headers(&[("host", "hearth.lan"), ("origin", "null")])).is_err());
        assert_eq!(same_origin(None, &headers(&[("sec-fetch-site", "same-origin")])), Ok(()));
        assert!(same_origin(None, &headers(&[("sec-fetch-site", "same-site")])).is_err());
        assert!(same_origin(None, &headers(&[("host", "hearth.lan")])).is_err(), "neither header: refused");
        assert_eq!(same_origin(None, &headers(&[("origin", "null"), ("sec-fetch-site", "same-origin")])), Ok(()));
    }

    #[test]
    fn the_nearest_forwarded_address_is_used() {
        let mut headers = HeaderMap::new();
        headers.insert("x-forwarded-for", "203.0.113.9, 198.51.100.7".parse().unwrap());
        assert_eq!(forwarded_for(&headers), Some(IpAddr::from([198, 51, 100, 7])));
        assert_eq!(forwarded_for(&HeaderMap::new()), None);
    }
}
