//! Server functions of the account: who is looking, the first start, logging in and out, and
//! the owner's share links.

use crate::error::AppResult;
use hearth_core::account::{ShareLink, Viewer};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {crate::context, crate::error::AppError, crate::session, hearth_store::account as store};

/// The caller, or `None` without a session. The UI uses it to hide what a read-only
/// session cannot do.
#[server(prefix = "/api/public", endpoint = "viewer")]
pub async fn current_viewer() -> AppResult<Option<Viewer>> {
    Ok(session::viewer())
}

/// Creates the first account and logs it in. Refused once any account exists.
#[server(prefix = "/api/public", endpoint = "setup")]
pub async fn setup(name: String, password: String, confirm: String) -> AppResult<()> {
    let (db, auth) = (context::db()?, context::auth()?);
    let name = hearth_core::account::check_name("name", &name).map_err(|e| AppError::invalid("name", e))?;
    if password != confirm {
        return Err(AppError::invalid("confirm", "the two passwords differ"));
    }
    hearth_core::account::check_password(&password).map_err(|e| AppError::invalid("password", e))?;
    let account = store::create_first_account(&db, &name, &password)
        .await?
        .ok_or_else(|| AppError::new(409, "an account exists already: log in instead"))?;
    session::start_session(&db, &auth, store::Holder::Account(account)).await?;
    session::remember_browser(&db, &auth, account, <Login as server_fn::ServerFn>::PATH).await?;
    leptos_axum::redirect("/");
    Ok(())
}

/// Logs in with a name and password. Attempts are rate-limited per client address and per
/// name (429 with `Retry-After`), or, from a browser that logged in to that account before,
/// per browser instead of per name. A name that no account can have (empty, over 64
/// characters) or a password longer than any is refused (422) before anything is counted.
#[server(prefix = "/api/public", endpoint = "login")]
pub async fn login(name: String, password: String) -> AppResult<()> {
    let (db, auth) = (context::db()?, context::auth()?);
    let name = hearth_core::account::check_name("name", &name).map_err(|e| AppError::invalid("name", e))?;
    if password.len() > hearth_core::account::MAX_PASSWORD_BYTES {
        return Err(AppError::invalid("password", format!("password is longer than {} bytes", hearth_core::account::MAX_PASSWORD_BYTES)));
    }
    auth.limiter.check_address(session::client_ip()).map_err(too_many)?;
    let browser = match session::browser_token() {
        Some(token) => store::known_browser(&db, &token, &name).await?,
        None => None,
    };
    auth.limiter.check_account(&name, browser.as_deref()).map_err(too_many)?;
    let account = store::verify(&db, &name, &password).await?.ok_or_else(|| AppError::new(401, "wrong name or password"))?;
    session::start_session(&db, &auth, store::Holder::Account(account)).await?;
    if browser.is_none() {
        session::remember_browser(&db, &auth, account, <Login as server_fn::ServerFn>::PATH).await?;
    }
    leptos_axum::redirect("/");
    Ok(())
}

/// 429 with `Retry-After` for a login attempt beyond its limit.
#[cfg(feature = "ssr")]
fn too_many(wait: std::time::Duration) -> AppError {
    let seconds = wait.as_secs() + 1;
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.insert_header(http::header::RETRY_AFTER, http::HeaderValue::from(seconds));
    AppError::new(429, format!("too many login attempts: try again in {seconds} s"))
}

/// Ends the caller's session and clears its cookie.
#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout() -> AppResult<()> {
    let (db, auth) = (context::db()?, context::auth()?);
    if let Some(session) = session::session() {
        store::close_session(&db, &session.token_hash).await?;
    }
    let response = expect_context::<leptos_axum::ResponseOptions>();
    response.append_header(http::header::SET_COOKIE, session::removal_cookie(auth.secure_here()));
    leptos_axum::redirect("/login");
    Ok(())
}

/// The share links, newest first.
#[server(prefix = "/api/owner", endpoint = "share_links")]
pub async fn share_links() -> AppResult<Vec<ShareLink>> {
    session::require_owner()?;
    Ok(store::list_share_links(&context::db()?).await?)
}

/// Creates a share link and returns its path (`/share/<token>`), shown only this once.
#[server(prefix = "/api/owner", endpoint = "create_share_link")]
pub async fn create_share_link(label: String) -> AppResult<String> {
    session::require_owner()?;
    let label = hearth_core::account::check_name("label", &label).map_err(|e| AppError::invalid("label", e))?;
    let (_, token) = store::insert_share_link(&context::db()?, &label).await?;
    Ok(format!("/share/{token}"))
}

/// Deletes a share link; the screens that opened it lose their session at once.
#[server(prefix = "/api/owner", endpoint = "revoke_share_link")]
pub async fn revoke_share_link(share_link_id: i64) -> AppResult<()> {
    session::require_owner()?;
    if store::delete_share_link(&context::db()?, share_link_id).await? {
        Ok(())
    } else {
        Err(AppError::not_found("no such share link"))
    }
}
