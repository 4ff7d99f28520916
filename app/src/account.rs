//! The homeowner's account, browser sessions and read-only share links.
//!
//! Who may call what is declared by a server function's URL prefix and enforced by the
//! server's middleware (`server/src/auth.rs`), never in each function:
//! - `#[server(prefix = "/api/public")]`: no session needed (setup, login);
//! - the default prefix `/api`: any session, the owner's or a read-only share session;
//! - `#[server(prefix = "/api/owner")]`: the owner's session only (every change).
//!
//! Functions that want to know who calls use [`ssr::viewer`].

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

/// Who is looking: the owner, or a screen opened with a share link.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Viewer {
    /// The account's name, or the share link's label in a read-only session.
    pub name: String,
    /// A share-link session: it may look at everything and change nothing.
    pub read_only: bool,
}

/// A read-only share link as the owner sees it. Its token is shown only when it is created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(sqlx::FromRow))]
pub struct ShareLink {
    /// Database id.
    pub share_link_id: i64,
    /// What the owner called it, such as "Kitchen screen".
    pub label: String,
    /// When it was created, Unix milliseconds.
    pub created_at_ms: i64,
}

/// The shortest password an account may have.
pub const MIN_PASSWORD_CHARS: usize = 8;
/// The longest account name or share-link label.
pub const MAX_NAME_CHARS: usize = 64;

/// The caller, or `None` without a session. The UI uses it to hide what a read-only
/// session cannot do.
#[server(prefix = "/api/public", endpoint = "viewer")]
pub async fn current_viewer() -> Result<Option<Viewer>, ServerFnError> {
    Ok(ssr::viewer())
}

/// Creates the first account and logs it in. Refused once any account exists.
#[server(prefix = "/api/public", endpoint = "setup")]
pub async fn setup(name: String, password: String, confirm: String) -> Result<(), ServerFnError> {
    use ssr::*;
    let (db, auth) = context()?;
    let name = check_name("name", &name)?;
    if password != confirm {
        return Err(fail(422, "the two passwords differ"));
    }
    check_password(&password)?;
    let account = create_first_account(&db, &name, &password)
        .await
        .map_err(internal)?
        .ok_or_else(|| fail(409, "an account exists already: log in instead"))?;
    start_session(&db, &auth, Holder::Account(account)).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Logs in with a name and password. Attempts are rate-limited per client address and per
/// name (429 with `Retry-After`).
#[server(prefix = "/api/public", endpoint = "login")]
pub async fn login(name: String, password: String) -> Result<(), ServerFnError> {
    use ssr::*;
    let (db, auth) = context()?;
    if let Err(wait) = auth.limiter.check(client_ip(), &name) {
        let seconds = wait.as_secs() + 1;
        let response = expect_context::<leptos_axum::ResponseOptions>();
        response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
        return Err(fail(429, &format!("too many login attempts: try again in {seconds} s")));
    }
    let account = verify(&db, name.trim(), &password)
        .await
        .map_err(internal)?
        .ok_or_else(|| fail(401, "wrong name or password"))?;
    start_session(&db, &auth, Holder::Account(account)).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Ends the caller's session and clears its cookie.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> Result<(), ServerFnError> {
    use ssr::*;
    let (db, auth) = context()?;
    if let Some(session) = session() {
        close_session(&db, &session.token_hash).await.map_err(internal)?;
    }
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(http::header::SET_COOKIE, removal_cookie(auth.secure_here()));
    leptos_axum::redirect("/login");
    Ok(())
}

/// The share links, newest first.
#[server(prefix = "/api/owner", endpoint = "share_links")]
pub async fn share_links() -> Result<Vec<ShareLink>, ServerFnError> {
    use ssr::*;
    require_owner()?;
    let (db, _) = context()?;
    list_share_links(&db).await.map_err(internal)
}

/// Creates a share link and returns its path (`/share/<token>`), shown only this once.
#[server(prefix = "/api/owner", endpoint = "create_share_link")]
pub async fn create_share_link(label: String) -> Result<String, ServerFnError> {
    use ssr::*;
    require_owner()?;
    let (db, _) = context()?;
    let label = check_name("label", &label)?;
    let (_, token) = insert_share_link(&db, &label).await.map_err(internal)?;
    Ok(format!("/share/{token}"))
}

/// Deletes a share link; the screens that opened it lose their session at once.
#[server(prefix = "/api/owner", endpoint = "revoke_share_link")]
pub async fn revoke_share_link(share_link_id: i64) -> Result<(), ServerFnError> {
    use ssr::*;
    require_owner()?;
    let (db, _) = context()?;
    if delete_share_link(&db, share_link_id).await.map_err(internal)? {
        Ok(())
    } else {
        Err(fail(404, "no such share link"))
    }
}

/// The text of a server function's error, without the framework's prefix.
pub fn error_text(e: &ServerFnError) -> String {
    match e {
        ServerFnError::ServerError(message) => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(feature = "ssr")]
pub mod ssr {
    //! Accounts, sessions and share links in the database; password hashing; the session
    //! cookie; the login rate limit.

    use super::{MAX_NAME_CHARS, MIN_PASSWORD_CHARS, ShareLink, Viewer};
    use crate::store::{Db, with_db};
    use argon2::Argon2;
    use argon2::password_hash::phc::PasswordHash;
    use argon2::password_hash::{PasswordHasher, PasswordVerifier};
    use cookie::{Cookie, SameSite};
    use governor::clock::{Clock, DefaultClock};
    use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
    use leptos::prelude::*;
    use std::net::IpAddr;
    use std::num::NonZeroU32;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    /// The session cookie's name.
    pub const COOKIE: &str = "hearth_session";

    /// A logged-in request's session, put in the request's extensions by the middleware.
    #[derive(Clone, Debug)]
    pub struct Session {
        /// SHA-256 of the cookie's token: the session's key.
        pub token_hash: Arc<str>,
        /// Who it is.
        pub viewer: Viewer,
    }

    /// The client's address (the proxy's `X-Forwarded-For` when trusted), put in the
    /// request's extensions by the middleware.
    #[derive(Clone, Copy, Debug)]
    pub struct ClientIp(pub IpAddr);

    /// What a session belongs to.
    #[derive(Clone, Copy, Debug)]
    pub enum Holder {
        /// An account: full access.
        Account(i64),
        /// A share link: read-only.
        ShareLink(i64),
    }

    /// Settings and shared state of logins, given to server functions as context.
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
        pub async fn accounts_exist(&self, db: &Db) -> Result<bool, sqlx::Error> {
            if self.accounts_exist.load(Ordering::Relaxed) {
                return Ok(true);
            }
            const SQL: &str = "select exists (select 1 from account)";
            let exist: bool = with_db!(db, read, |pool| sqlx::query_scalar(SQL).fetch_one(pool).await)?;
            self.accounts_exist.store(exist, Ordering::Relaxed);
            Ok(exist)
        }
    }

    /// Login attempts allowed per client address and per account name, each a token bucket.
    #[derive(Debug)]
    pub struct LoginLimiter {
        by_ip: DefaultKeyedRateLimiter<IpAddr>,
        by_name: DefaultKeyedRateLimiter<String>,
    }

    impl LoginLimiter {
        /// Keys remembered before forgetting those whose bucket is full again.
        const MAX_KEYS: usize = 10_000;

        /// A limiter allowing `per_minute` attempts a minute (in a burst, then one every
        /// `60 / per_minute` seconds) per address and per name.
        pub fn new(per_minute: NonZeroU32) -> LoginLimiter {
            let quota = Quota::per_minute(per_minute);
            LoginLimiter { by_ip: RateLimiter::keyed(quota), by_name: RateLimiter::keyed(quota) }
        }

        /// Counts an attempt from `ip` for `name`; `Err` holds how long to wait.
        pub fn check(&self, ip: Option<IpAddr>, name: &str) -> Result<(), Duration> {
            let now = DefaultClock::default().now();
            if self.by_ip.len().max(self.by_name.len()) > Self::MAX_KEYS {
                self.by_ip.retain_recent();
                self.by_name.retain_recent();
            }
            if let Some(ip) = ip {
                self.by_ip.check_key(&ip).map_err(|n| n.wait_time_from(now))?;
            }
            self.by_name.check_key(&name.trim().to_lowercase()).map_err(|n| n.wait_time_from(now))
        }
    }

    /// The database and login settings from the server function's context.
    pub fn context() -> Result<(Db, Auth), ServerFnError> {
        let db = use_context::<Db>().ok_or_else(|| ServerFnError::new("database missing from context"))?;
        let auth = use_context::<Auth>().ok_or_else(|| ServerFnError::new("login settings missing from context"))?;
        Ok((db, auth))
    }

    /// The session of the request being served, if it has one.
    pub fn session() -> Option<Session> {
        use_context::<http::request::Parts>()?.extensions.get::<Session>().cloned()
    }

    /// Who calls the server function (or renders the page), if anyone is logged in.
    pub fn viewer() -> Option<Viewer> {
        session().map(|s| s.viewer)
    }

    /// The owner, or a 403 error. Owner-only server functions check this too, since pages
    /// rendered on the server call them directly, not through the middleware.
    pub fn require_owner() -> Result<Viewer, ServerFnError> {
        match viewer() {
            Some(viewer) if !viewer.read_only => Ok(viewer),
            Some(_) => Err(fail(403, "a shared screen is read-only: log in as the owner to change anything")),
            None => Err(fail(401, "log in first")),
        }
    }

    /// The calling client's address, if known.
    pub fn client_ip() -> Option<IpAddr> {
        use_context::<http::request::Parts>()?.extensions.get::<ClientIp>().map(|c| c.0)
    }

    /// An error answered with `status`.
    pub fn fail(status: u16, message: &str) -> ServerFnError {
        if let (Some(response), Ok(status)) =
            (use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(status))
        {
            response.set_status(status);
        }
        ServerFnError::new(message)
    }

    /// A database failure: logged, answered with a 500 that tells nothing.
    pub fn internal(e: impl std::fmt::Display) -> ServerFnError {
        tracing::error!(error = %e, "account query failed");
        fail(500, "internal error")
    }

    /// The trimmed name or label, or a 422 naming `field`.
    pub fn check_name(field: &str, name: &str) -> Result<String, ServerFnError> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(fail(
                422,
                &format!("{field} must be 1 to {MAX_NAME_CHARS} characters without control characters"),
            ));
        }
        Ok(name.to_owned())
    }

    /// A 422 unless the password is long enough.
    pub fn check_password(password: &str) -> Result<(), ServerFnError> {
        if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > 1024 {
            return Err(fail(422, &format!("password must be {MIN_PASSWORD_CHARS} to 1024 characters")));
        }
        Ok(())
    }

    /// Opens a session for `holder`, sets its cookie on the response.
    pub async fn start_session(db: &Db, auth: &Auth, holder: Holder) -> Result<(), ServerFnError> {
        let lifetime = match holder {
            Holder::Account(_) => auth.session_lifetime,
            Holder::ShareLink(_) => auth.share_lifetime,
        };
        let token = open_session(db, holder, lifetime).await.map_err(internal)?;
        let response = expect_context::<leptos_axum::ResponseOptions>();
        response.append_header(http::header::SET_COOKIE, session_cookie(&token, lifetime, auth.secure_here()));
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
        headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(Cookie::split_parse)
            .filter_map(Result::ok)
            .find(|c| c.name() == COOKIE)
            .map(|c| c.value().to_owned())
    }

    /// Starts a session for `holder` lasting `lifetime`, and returns its token (only its
    /// hash is stored). Expired sessions are deleted on the way.
    pub async fn open_session(db: &Db, holder: Holder, lifetime: Duration) -> Result<String, sqlx::Error> {
        const PRUNE: &str = "delete from session where expires_at_ms <= $1";
        const SQL: &str = "insert into session (token_hash, account_id, share_link_id, created_at_ms, expires_at_ms) \
             values ($1, $2, $3, $4, $5)";
        let token = crate::device::ssr::new_token();
        let hash = crate::device::ssr::token_hash(&token);
        let (account, share) = match holder {
            Holder::Account(id) => (Some(id), None),
            Holder::ShareLink(id) => (None, Some(id)),
        };
        let now = now_ms();
        let expires = now.saturating_add(i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX));
        with_db!(db, write, |pool| {
            sqlx::query(PRUNE).bind(now).execute(pool).await?;
            sqlx::query(SQL).bind(&hash).bind(account).bind(share).bind(now).bind(expires).execute(pool).await.map(|_| ())
        })?;
        Ok(token)
    }

    /// The live session whose cookie token is `token`.
    pub async fn find_session(db: &Db, token: &str) -> Result<Option<Session>, sqlx::Error> {
        const SQL: &str = "select a.name, l.label from session s \
             left join account a on a.account_id = s.account_id \
             left join share_link l on l.share_link_id = s.share_link_id \
             where s.token_hash = $1 and s.expires_at_ms > $2";
        let hash = crate::device::ssr::token_hash(token);
        let row: Option<(Option<String>, Option<String>)> =
            with_db!(db, read, |pool| sqlx::query_as(SQL).bind(&hash).bind(now_ms()).fetch_optional(pool).await)?;
        Ok(row.and_then(|(account, label)| {
            let viewer = match (account, label) {
                (Some(name), _) => Viewer { name, read_only: false },
                (None, Some(label)) => Viewer { name: label, read_only: true },
                (None, None) => return None,
            };
            Some(Session { token_hash: hash.into(), viewer })
        }))
    }

    /// Ends a session.
    pub async fn close_session(db: &Db, token_hash: &str) -> Result<(), sqlx::Error> {
        const SQL: &str = "delete from session where token_hash = $1";
        with_db!(db, write, |pool| sqlx::query(SQL).bind(token_hash).execute(pool).await.map(|_| ()))?;
        Ok(())
    }

    /// Hashes a password with Argon2id and its default parameters, off the async threads.
    pub async fn hash_password(password: &str) -> Result<String, sqlx::Error> {
        let password = password.to_owned();
        let hashed = tokio::task::spawn_blocking(move || Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()))
            .await
            .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        hashed.map_err(|e| sqlx::Error::Protocol(e.to_string()))
    }

    /// Creates the first account, or returns `None` if one exists already. Returns its id.
    pub async fn create_first_account(db: &Db, name: &str, password: &str) -> Result<Option<i64>, sqlx::Error> {
        const SQL: &str = "insert into account (name, password_hash, created_at_ms) \
             select $1, $2, $3 where not exists (select 1 from account) returning account_id";
        let hash = hash_password(password).await?;
        with_db!(db, write, |pool| sqlx::query_scalar(SQL).bind(name).bind(&hash).bind(now_ms()).fetch_optional(pool).await)
    }

    /// Creates the account `name` with `password`, or gives it that password if it exists
    /// (the demo account of `make run`). Returns its id.
    pub async fn set_password(db: &Db, name: &str, password: &str) -> Result<i64, sqlx::Error> {
        const SQL: &str = "insert into account (name, password_hash, created_at_ms) values ($1, $2, $3) \
             on conflict (name) do update set password_hash = excluded.password_hash returning account_id";
        let hash = hash_password(password).await?;
        with_db!(db, write, |pool| sqlx::query_scalar(SQL).bind(name).bind(&hash).bind(now_ms()).fetch_one(pool).await)
    }

    /// The id of account `name` if `password` is its password. Takes as long for an unknown
    /// name as for a wrong password, so timing does not tell which names exist.
    pub async fn verify(db: &Db, name: &str, password: &str) -> Result<Option<i64>, sqlx::Error> {
        const SQL: &str = "select account_id, password_hash from account where name = $1";
        static DECOY: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
        let row: Option<(i64, String)> = with_db!(db, read, |pool| sqlx::query_as(SQL).bind(name).fetch_optional(pool).await)?;
        let (id, stored) = match row {
            Some((id, stored)) => (Some(id), stored),
            None => (None, DECOY.get_or_try_init(|| hash_password("not anyone's password")).await?.clone()),
        };
        let password = password.to_owned();
        let matches = tokio::task::spawn_blocking(move || {
            PasswordHash::new(&stored).is_ok_and(|hash| Argon2::default().verify_password(password.as_bytes(), &hash).is_ok())
        })
        .await
        .map_err(|e| sqlx::Error::Protocol(e.to_string()))?;
        Ok(id.filter(|_| matches))
    }

    /// Creates a share link labelled `label`; returns it with its token.
    pub async fn insert_share_link(db: &Db, label: &str) -> Result<(ShareLink, String), sqlx::Error> {
        const SQL: &str = "insert into share_link (label, token_hash, created_at_ms) values ($1, $2, $3) \
             returning share_link_id, label, created_at_ms";
        let token = crate::device::ssr::new_token();
        let hash = crate::device::ssr::token_hash(&token);
        let link = with_db!(db, write, |pool| sqlx::query_as(SQL).bind(label).bind(&hash).bind(now_ms()).fetch_one(pool).await)?;
        Ok((link, token))
    }

    /// Every share link, newest first.
    pub async fn list_share_links(db: &Db) -> Result<Vec<ShareLink>, sqlx::Error> {
        const SQL: &str = "select share_link_id, label, created_at_ms from share_link order by share_link_id desc";
        with_db!(db, read, |pool| sqlx::query_as(SQL).fetch_all(pool).await)
    }

    /// The share link whose token is `token`.
    pub async fn find_share_link(db: &Db, token: &str) -> Result<Option<ShareLink>, sqlx::Error> {
        const SQL: &str = "select share_link_id, label, created_at_ms from share_link where token_hash = $1";
        let hash = crate::device::ssr::token_hash(token);
        with_db!(db, read, |pool| sqlx::query_as(SQL).bind(&hash).fetch_optional(pool).await)
    }

    /// Deletes a share link and its sessions; `false` if there was none.
    pub async fn delete_share_link(db: &Db, share_link_id: i64) -> Result<bool, sqlx::Error> {
        const SESSIONS: &str = "delete from session where share_link_id = $1";
        const SQL: &str = "delete from share_link where share_link_id = $1";
        with_db!(db, write, |pool| {
            sqlx::query(SESSIONS).bind(share_link_id).execute(pool).await?;
            Ok(sqlx::query(SQL).bind(share_link_id).execute(pool).await?.rows_affected() > 0)
        })
    }

    fn now_ms() -> i64 {
        jiff::Timestamp::now().as_millisecond()
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
        }
    }
}
