//! What the server hands every server function and server-rendered page through Leptos's
//! context, and the one way to get each: the database, the house's time zone, the login
//! settings and what the protocol front doors heard.

use crate::error::AppError;
use crate::session::Auth;
use hearth_core::mqtt::Activity;
use hearth_core::time::house::HouseZone;
use hearth_store::Db;
use leptos::prelude::{provide_context, use_context};
use std::sync::Arc;

/// Everything the server shares with server functions; it provides it with [`provide`].
#[derive(Clone, Debug)]
pub struct Shared {
    /// The database.
    pub db: Db,
    /// The house's time zone.
    pub zone: HouseZone,
    /// Login settings and the login rate limit.
    pub auth: Auth,
    /// What the protocol front doors have seen (MQTT broker, discovered prefixes, skipped inputs).
    pub activity: Arc<Activity>,
}

/// Makes `shared` the context of the request being served.
pub fn provide(shared: Shared) {
    provide_context(shared);
}

fn shared() -> Result<Shared, AppError> {
    use_context::<Shared>().ok_or_else(|| AppError::internal("server context", "the server provided no context"))
}

/// The database.
pub fn db() -> Result<Db, AppError> {
    shared().map(|s| s.db)
}

/// The house's time zone (UTC where none is provided).
pub fn zone() -> HouseZone {
    use_context::<Shared>().map_or_else(HouseZone::utc, |s| s.zone)
}

/// The login settings.
pub fn auth() -> Result<Auth, AppError> {
    shared().map(|s| s.auth)
}

/// What the protocol front doors have seen.
pub fn activity() -> Arc<Activity> {
    use_context::<Shared>().map_or_else(Arc::default, |s| s.activity)
}
