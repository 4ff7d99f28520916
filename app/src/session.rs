//! Browser sessions on the server: the session cookie, the login settings and rate limit,
//! and who is calling the server function being served (the middleware puts the session and
//! the client's address in the request's extensions).
//!
//! Who may call what is declared by a server function's URL prefix and enforced by the
//! server's middleware, never in each function:
//! - `#[server(prefix = "/api/public")]`: no session needed (setup, login);
//! - the default prefix `/api`: any session, the owner's or a read-only share session;
//! - `#[server(prefix = "/api/owner")]`: the owner's session only (every change).

use crate::error::AppError;
use cookie::{Cookie, SameSite};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use hearth_core::account::Viewer;
use hearth_store::account::{Holder, Session};
use hearth_store::Db;
use leptos::prelude::*;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

/// The session cookie's name.
pub const COOKIE: &str = "hearth_session";

/// The cookie of a browser that logged in before (see [`LoginLimiter`]).
pub const BROWSER_COOKIE: &str = "hearth_browser";

/// How long a browser stays known after its last login.
pub const BROWSER_LIFETIME: Duration = Duration::from_secs(400 * 24 * 3600);

/// The client's address (the proxy's `X-Forwarded-For` when trusted), put in the
/// request's extensions by the middleware.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

/// Settings and shared state of logins.
#[derive(Clone, Debug)]
pub struct Auth {
    /// Limits login attempts.
    pub limiter: Arc<LoginLimiter>,
    /// Whether cookies carry `Secure`: Hearth's public URL is HTTPS.
    pub https: bool,
    /// Whether a proxy's `X-Forwarded-Proto` and `X-Forwarded-For` are believed.
    pub trusted_proxy: bool,
    /// How long an owner's session lasts.
    pub session_lifetime: Duration,
    /// How long a share-link session lasts (a screen on the wall stays logged in).
    pub share_lifetime: Duration,
    accounts_exist: Arc<AtomicBool>,
}

impl Auth {
    /// Login settings: `attempts_per_minute` per client address and per name.
    pub fn new(attempts_per_minute: NonZeroU32, https: bool, trusted_proxy: bool, session_lifetime: Duration) -> Auth {
        Auth {
            limiter: Arc::new(LoginLimiter::new(attempts_per_minute)),
            https,
            trusted_proxy,
            session_lifetime,
            share_lifetime: Duration::from_secs(400 * 24 * 3600),
            accounts_exist: Arc::default(),
        }
    }

    /// Whether the request in `headers` came over HTTPS, so its cookies must be `Secure`.
    pub fn secure(&self, headers: &http::HeaderMap) -> bool {
        self.https
            || (self.trusted_proxy
                && headers.get("x-forwarded-proto").is_some_and(|proto| proto.as_bytes().eq_ignore_ascii_case(b"https")))
    }

    /// Whether the request being served came over HTTPS.
    pub fn secure_here(&self) -> bool {
        use_context::<http::request::Parts>().is_some_and(|parts| self.secure(&parts.headers))
    }

    /// Whether any account exists (remembered once true: accounts are never deleted).
    pub async fn accounts_exist(&self, db: &Db) -> Result<bool, hearth_store::Error> {
        if self.accounts_exist.load(Ordering::Relaxed) {
            return Ok(true);
        }
        let exist = hearth_store::account::any_account(db).await?;
        self.accounts_exist.store(exist, Ordering::Relaxed);
        Ok(exist)
    }
}

/// Login attempts allowed per client address and per account name, each a token bucket. A
/// browser that logged in to the account before (its `hearth_browser` cookie) counts against
/// a bucket of its own instead of the name's, so strangers guessing at the owner's name
/// cannot keep the owner out; its address's bucket still applies.
#[derive(Debug)]
pub struct LoginLimiter {
    by_ip: DefaultKeyedRateLimiter<IpAddr>,
    by_name: DefaultKeyedRateLimiter<String>,
    by_browser: DefaultKeyedRateLimiter<String>,
}

impl LoginLimiter {
    /// Keys remembered before forgetting those whose bucket is full again.
    const MAX_KEYS: usize = 10_000;

    /// A limiter allowing `per_minute` attempts a minute (in a burst, then one every
    /// `60 / per_minute` seconds) per address, per name and per known browser.
    pub fn new(per_minute: NonZeroU32) -> LoginLimiter {
        let quota = Quota::per_minute(per_minute);
        LoginLimiter { by_ip: RateLimiter::keyed(quota), by_name: RateLimiter::keyed(quota), by_browser: RateLimiter::keyed(quota) }
    }

    /// Counts an attempt from `ip`; `Err` holds how long to wait.
    pub fn check_address(&self, ip: Option<IpAddr>) -> Result<(), Duration> {
        let Some(ip) = ip else { return Ok(()) };
        if self.by_ip.len() > Self::MAX_KEYS {
            self.by_ip.retain_recent();
        }
        let now = DefaultClock::default().now();
        self.by_ip.check_key(&ip).map_err(|n| n.wait_time_from(now))
    }

    /// Counts an attempt at the account `name` (at most [`MAX_NAME_CHARS`] characters, checked
    /// before), or from the known browser whose cookie hashes to `browser`; `Err` holds how
    /// long to wait.
    ///
    /// [`MAX_NAME_CHARS`]: hearth_core::account::MAX_NAME_CHARS
    pub fn check_account(&self, name: &str, browser: Option<&str>) -> Result<(), Duration> {
        let (limiter, key) = match browser {
            Some(browser) => (&self.by_browser, browser.to_owned()),
            None => (&self.by_name, name.trim().to_lowercase()),
        };
        if limiter.len() > Self::MAX_KEYS {
            limiter.retain_recent();
        }
        let now = DefaultClock::default().now();
        limiter.check_key(&key).map_err(|n| n.wait_time_from(now))
    }

    /// Counts an attempt from `ip` at `name`, from a browser not known.
    pub fn check(&self, ip: Option<IpAddr>, name: &str) -> Result<(), Duration> {
        self.check_address(ip)?;
        self.check_account(name, None)
    }
}

/// The session of the request being served, if it has one.
pub fn session() -> Option<Session> {
    use_context::<http::request::Parts>()?.extensions.get::<Session>().cloned()
}

/// Who calls the server function (or renders the page), if anyone is logged in.
pub fn viewer() -> Option<Viewer> {
    session().map(|s| s.viewer)
}

/// The owner, or a 403 (401 without a session). Owner-only server functions check this too,
/// since pages rendered on the server call them directly, not through the middleware.
pub fn require_owner() -> Result<Viewer, AppError> {
    match viewer() {
        Some(viewer) if !viewer.read_only => Ok(viewer),
        Some(_) => Err(AppError::read_only()),
        None => Err(AppError::logged_out()),
    }
}

/// The calling client's address, if known.
pub fn client_ip() -> Option<IpAddr> {
    use_context::<http::request::Parts>()?.extensions.get::<ClientIp>().map(|c| c.0)
}

/// Opens a session for `holder` and sets its cookie on the response.
pub async fn start_session(db: &Db, auth: &Auth, holder: Holder) -> Result<(), AppError> {
    let lifetime = match holder {
        Holder::Account(_) => auth.session_lifetime,
        Holder::ShareLink(_) => auth.share_lifetime,
    };
    let token = hearth_store::account::open_session(db, holder, lifetime).await?;
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(http::header::SET_COOKIE, session_cookie(&token, lifetime, auth.secure_here()));
    Ok(())
}

/// The token of the `hearth_browser` cookie the request being served carries, if any.
pub fn browser_token() -> Option<String> {
    let parts = use_context::<http::request::Parts>()?;
    cookie_value(&parts.headers, BROWSER_COOKIE)
}

/// Remembers the browser being served as one that logged in to `account`: its cookie, sent
/// only to the login (`path`), lasts [`BROWSER_LIFETIME`].
pub async fn remember_browser(db: &Db, auth: &Auth, account: i64, path: &str) -> Result<(), AppError> {
    let token = hearth_store::account::remember_browser(db, account).await?;
    let max_age = cookie::time::Duration::seconds(i64::try_from(BROWSER_LIFETIME.as_secs()).unwrap_or(i64::MAX));
    let cookie = Cookie::build((BROWSER_COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path(path.to_owned())
        .secure(auth.secure_here())
        .max_age(max_age);
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(http::header::SET_COOKIE, header_value(&cookie.to_string()));
    Ok(())
}

/// The `Set-Cookie` value of a session: `HttpOnly`, `SameSite=Strict`, `Path=/`, and
/// `Secure` when served over HTTPS.
pub fn session_cookie(token: &str, lifetime: Duration, secure: bool) -> http::HeaderValue {
    let max_age = cookie::time::Duration::seconds(i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX));
    let cookie = Cookie::build((COOKIE, token))
        .http_only(true)
        .same_site(SameSite::Strict)
        .path("/")
        .secure(secure)
        .max_age(max_age);
    header_value(&cookie.to_string())
}

/// The `Set-Cookie` value that deletes the session cookie.
pub fn removal_cookie(secure: bool) -> http::HeaderValue {
    let mut cookie = Cookie::build((COOKIE, "")).http_only(true).same_site(SameSite::Strict).path("/").secure(secure).build();
    cookie.make_removal();
    header_value(&cookie.to_string())
}

fn header_value(text: &str) -> http::HeaderValue {
    // Tokens are hex and the attributes ASCII, so this cannot fail.
    http::HeaderValue::from_str(text).unwrap_or_else(|_| http::HeaderValue::from_static(""))
}

/// The session token in a request's `Cookie` headers, if any.
pub fn session_token(headers: &http::HeaderMap) -> Option<String> {
    cookie_value(headers, COOKIE)
}

fn cookie_value(headers: &http::HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == name)
        .map(|c| c.value().to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_http_only_strict_and_secure_when_asked() {
        let plain = session_cookie("abc", Duration::from_secs(60), false);
        let plain = plain.to_str().unwrap();
        assert!(plain.starts_with("hearth_session=abc;"), "{plain}");
        for attribute in ["HttpOnly", "SameSite=Strict", "Path=/", "Max-Age=60"] {
            assert!(plain.contains(attribute), "{attribute} in {plain}");
        }
        assert!(!plain.contains("Secure"), "{plain}");
        let secure = session_cookie("abc", Duration::from_secs(60), true);
        assert!(secure.to_str().unwrap().contains("Secure"));
        let removal = removal_cookie(false);
        assert!(removal.to_str().unwrap().contains("Max-Age=0"), "{removal:?}");
    }

    #[test]
    fn the_token_is_found_among_other_cookies() {
        let mut headers = http::HeaderMap::new();
        headers.append(http::header::COOKIE, http::HeaderValue::from_static("theme=dark; hearth_session=t0k"));
        assert_eq!(session_token(&headers).as_deref(), Some("t0k"));
        assert_eq!(session_token(&http::HeaderMap::new()), None);
    }

    #[test]
    fn attempts_beyond_the_quota_wait() {
        let limiter = LoginLimiter::new(NonZeroU32::new(3).unwrap());
        let ip = Some(IpAddr::from([10, 0, 0, 1]));
        for name in ["a", "b", "c"] {
            assert!(limiter.check(ip, name).is_ok());
        }
        let wait = limiter.check(ip, "d").expect_err("a fourth attempt from the address waits");
        assert!(wait > Duration::from_secs(10) && wait <= Duration::from_secs(20), "{wait:?}");
        let other = Some(IpAddr::from([10, 0, 0, 2]));
        assert!(limiter.check(other, "a").is_ok());
        assert!(limiter.check(other, "A ").is_ok());
        assert!(limiter.check(other, "a").is_err(), "three attempts at one name from anywhere");
        let home = Some(IpAddr::from([10, 0, 0, 3]));
        assert!(limiter.check_address(home).is_ok());
        assert!(limiter.check_account("a", Some("browser-hash")).is_ok(), "a known browser has a bucket of its own");
    }
}