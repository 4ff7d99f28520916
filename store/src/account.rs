//! Accounts, browser sessions and read-only share links in the database, and password
//! hashing (Argon2id). Session and share-link tokens are random; only their SHA-256 is stored.

use crate::db::Db;
use crate::pool::with_db;
use crate::device::{new_token, token_hash};
use crate::error::Error;
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use hearth_core::account::{ShareLink, Viewer};
use hearth_core::time::now_ms;
use std::sync::Arc;
use std::time::Duration;

/// A logged-in session: whose it is, and its key.
#[derive(Clone, Debug)]
pub struct Session {
    /// SHA-256 of the cookie's token: the session's key.
    pub token_hash: Arc<str>,
    /// Who it is.
    pub viewer: Viewer,
    /// When it expires, in Unix milliseconds.
    pub expires_at_ms: i64,
}

/// What a session belongs to.
#[derive(Clone, Copy, Debug)]
pub enum Holder {
    /// An account: full access.
    Account(i64),
    /// A share link: read-only.
    ShareLink(i64),
}

/// Whether any account exists.
pub async fn any_account(db: &Db) -> Result<bool, Error> {
    const SQL: &str = "select exists (select 1 from account)";
    Ok(with_db!(db, read, |pool| sqlx::query_scalar(SQL).fetch_one(pool).await)?)
}

#[derive(sqlx::FromRow)]
struct ShareLinkRow {
    share_link_id: i64,
    label: String,
    created_at_ms: i64,
}

impl From<ShareLinkRow> for ShareLink {
    fn from(row: ShareLinkRow) -> ShareLink {
        ShareLink { share_link_id: row.share_link_id, label: row.label, created_at_ms: row.created_at_ms }
    }
}

/// Starts a session for `holder` lasting `lifetime`, and returns its token (only its
/// hash is stored). Expired sessions are deleted on the way.
pub async fn open_session(db: &Db, holder: Holder, lifetime: Duration) -> Result<String, Error> {
    const PRUNE: &str = "delete from session where expires_at_ms <= $1";
    const SQL: &str = "insert into session (token_hash, account_id, share_link_id, created_at_ms, expires_at_ms) \
         values ($1, $2, $3, $4, $5)";
    let token = new_token();
    let hash = token_hash(&token);
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
pub async fn find_session(db: &Db, token: &str) -> Result<Option<Session>, Error> {
    const SQL: &str = "select a.name, l.label, s.expires_at_ms from session s \
         left join account a on a.account_id = s.account_id \
         left join share_link l on l.share_link_id = s.share_link_id \
         where s.token_hash = $1 and s.expires_at_ms > $2";
    let hash = token_hash(token);
    let row: Option<(Option<String>, Option<String>, i64)> =
        with_db!(db, read, |pool| sqlx::query_as(SQL).bind(&hash).bind(now_ms()).fetch_optional(pool).await)?;
    Ok(row.and_then(|(account, label, expires_at_ms)| {
        let viewer = match (account, label) {
            (Some(name), _) => Viewer { name, read_only: false },
            (None, Some(label)) => Viewer { name: label, read_only: true },
            (None, None) => return None,
        };
        Some(Session { token_hash: hash.into(), viewer, expires_at_ms })
    }))
}

/// Ends a session, and announces it on the bus (so that its live streams end).
pub async fn close_session(db: &Db, token_hash: &str) -> Result<(), Error> {
    const SQL: &str = "delete from session where token_hash = $1 returning token_hash";
    let ended: Vec<String> = with_db!(db, write, |pool| sqlx::query_scalar(SQL).bind(token_hash).fetch_all(pool).await)?;
    announce_ended(db, ended).await
}

async fn announce_ended(db: &Db, ended: Vec<String>) -> Result<(), Error> {
    if !ended.is_empty() {
        db.announce_committed(&crate::bus::Event::SessionsEnded(ended)).await?;
    }
    Ok(())
}

/// Remembers a browser that logged in to `account`: returns the token of its cookie (only
/// its hash is stored).
pub async fn remember_browser(db: &Db, account: i64) -> Result<String, Error> {
    const SQL: &str = "insert into known_browser (token_hash, account_id, created_at_ms) values ($1, $2, $3)";
    let token = new_token();
    let hash = token_hash(&token);
    with_db!(db, write, |pool| sqlx::query(SQL).bind(&hash).bind(account).bind(now_ms()).execute(pool).await.map(|_| ()))?;
    Ok(token)
}

/// The hash of `token` if it is the cookie of a browser that logged in to the account named
/// `name` before.
pub async fn known_browser(db: &Db, token: &str, name: &str) -> Result<Option<String>, Error> {
    const SQL: &str = "select exists (select 1 from known_browser k join account a on a.account_id = k.account_id \
         where k.token_hash = $1 and a.name = $2)";
    let hash = token_hash(token);
    let known: bool = with_db!(db, read, |pool| sqlx::query_scalar(SQL).bind(&hash).bind(name).fetch_one(pool).await)?;
    Ok(known.then_some(hash))
}

/// Hashes a password with Argon2id and its default parameters, off the async threads.
pub async fn hash_password(password: &str) -> Result<String, Error> {
    let password = password.to_owned();
    let hashed = tokio::task::spawn_blocking(move || Argon2::default().hash_password(password.as_bytes()).map(|h| h.to_string()))
        .await
        .map_err(|e| Error::Database(sqlx::Error::Protocol(e.to_string())))?;
    hashed.map_err(|e| Error::Database(sqlx::Error::Protocol(e.to_string())))
}

/// Creates the first account, or returns `None` if one exists already. Returns its id.
pub async fn create_first_account(db: &Db, name: &str, password: &str) -> Result<Option<i64>, Error> {
    const SQL: &str = "insert into account (name, password_hash, created_at_ms) \
         select $1, $2, $3 where not exists (select 1 from account) returning account_id";
    let hash = hash_password(password).await?;
    Ok(with_db!(db, write, |pool| sqlx::query_scalar(SQL).bind(name).bind(&hash).bind(now_ms()).fetch_optional(pool).await)?)
}

/// Creates the account `name` with `password`, or gives it that password if it exists
/// (the demo account of `make run`). Returns its id.
pub async fn set_password(db: &Db, name: &str, password: &str) -> Result<i64, Error> {
    const SQL: &str = "insert into account (name, password_hash, created_at_ms) values ($1, $2, $3) \
         on conflict (name) do update set password_hash = excluded.password_hash returning account_id";
    let hash = hash_password(password).await?;
    Ok(with_db!(db, write, |pool| sqlx::query_scalar(SQL).bind(name).bind(&hash).bind(now_ms()).fetch_one(pool).await)?)
}

/// The id of account `name` if `password` is its password. Takes as long for an unknown
/// name as for a wrong password, so timing does not tell which names exist.
pub async fn verify(db: &Db, name: &str, password: &str) -> Result<Option<i64>, Error> {
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
    .map_err(|e| Error::Database(sqlx::Error::Protocol(e.to_string())))?;
    Ok(id.filter(|_| matches))
}

/// Creates a share link labelled `label`; returns it with its token.
pub async fn insert_share_link(db: &Db, label: &str) -> Result<(ShareLink, String), Error> {
    const SQL: &str = "insert into share_link (label, token_hash, created_at_ms) values ($1, $2, $3) \
         returning share_link_id, label, created_at_ms";
    let token = new_token();
    let hash = token_hash(&token);
    let link: ShareLinkRow = with_db!(db, write, |pool| sqlx::query_as(SQL).bind(label).bind(&hash).bind(now_ms()).fetch_one(pool).await)?;
    Ok((link.into(), token))
}

/// Every share link, newest first.
pub async fn list_share_links(db: &Db) -> Result<Vec<ShareLink>, Error> {
    const SQL: &str = "select share_link_id, label, created_at_ms from share_link order by share_link_id desc";
    let rows: Vec<ShareLinkRow> = with_db!(db, read, |pool| sqlx::query_as(SQL).fetch_all(pool).await)?;
    Ok(rows.into_iter().map(ShareLink::from).collect())
}

/// The share link whose token is `token`.
pub async fn find_share_link(db: &Db, token: &str) -> Result<Option<ShareLink>, Error> {
    const SQL: &str = "select share_link_id, label, created_at_ms from share_link where token_hash = $1";
    let hash = token_hash(token);
    let row: Option<ShareLinkRow> = with_db!(db, read, |pool| sqlx::query_as(SQL).bind(&hash).fetch_optional(pool).await)?;
    Ok(row.map(ShareLink::from))
}

/// Deletes a share link and its sessions, announcing their end on the bus; `false` if there
/// was none.
pub async fn delete_share_link(db: &Db, share_link_id: i64) -> Result<bool, Error> {
    const SESSIONS: &str = "delete from session where share_link_id = $1 returning token_hash";
    const SQL: &str = "delete from share_link where share_link_id = $1";
    let (ended, deleted): (Vec<String>, bool) = with_db!(db, write, |pool| {
        let ended = sqlx::query_scalar(SESSIONS).bind(share_link_id).fetch_all(pool).await?;
        sqlx::query(SQL).bind(share_link_id).execute(pool).await.map(|done| (ended, done.rows_affected() > 0))
    })?;
    announce_ended(db, ended).await?;
    Ok(deleted)
}
