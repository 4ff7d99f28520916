//! What the server hands every server function and server-rendered page through Leptos's
//! context, and the one way to get each: the database, the house's time zone, the login
//! settings and what the protocol front doors heard.

use crate::error::AppError;
use hearth_core::alert::channel::ChannelKind;
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
    /// Sends a test through an alert channel (the server's senders).
    pub channel_test: ChannelTest,
}

/// A future sending a test through a channel: why it failed, for a person.
pub type TestSent = std::pin::Pin<Box<dyn std::future::Future<Output = Result<(), String>> + Send>>;

/// What sends a test through an alert channel: the server's senders, which the app cannot
/// reach by itself.
#[derive(Clone)]
pub struct ChannelTest(pub Arc<dyn Fn(ChannelKind) -> TestSent + Send + Sync>);

impl std::fmt::Debug for ChannelTest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ChannelTest")
    }
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

/// What sends a test through an alert channel.
pub fn channel_test() -> Result<ChannelTest, AppError> {
    shared().map(|s| s.channel_test)
}

/// The login settings.
pub fn auth() -> Result<Auth, AppError> {
    shared().map(|s| s.auth)
}

/// What the protocol front doors have seen.
pub fn activity() -> Arc<Activity> {
    use_context::<Shared>().map_or_else(Arc::default, |s| s.activity)
}
