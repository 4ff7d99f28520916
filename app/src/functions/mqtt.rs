//! Server functions of the MQTT panel: the broker connection, every device's prefix and online
//! state, discovered prefixes and skipped inputs; setting a prefix, adding a discovered device.

use crate::error::AppResult;
use hearth_core::mqtt::{MqttOverview, NewDevice};
use leptos::prelude::*;
#[cfg(feature = "ssr")]
use {crate::context, crate::session, hearth_store::mqtt as store};

/// The broker connection, every device's prefix and online state, discovered prefixes and
/// skipped inputs.
#[server]
pub async fn get_mqtt_overview() -> AppResult<MqttOverview> {
    let links = store::links(&context::db()?).await?;
    Ok(context::activity().overview(links))
}

/// Gives a device a topic prefix, or takes it away (`None`).
#[server(prefix = "/api/owner")]
pub async fn set_mqtt_prefix(device_id: i64, prefix: Option<String>) -> AppResult<()> {
    session::require_owner()?;
    let prefix = prefix.map(|p| p.trim().to_owned()).filter(|p| !p.is_empty());
    store::set_prefix(&context::db()?, device_id, prefix.as_deref()).await?;
    if let Some(prefix) = &prefix {
        context::activity().forget_discovered(prefix);
    }
    Ok(())
}

/// Registers a discovered prefix as a new device named `name`; the answer holds its token.
#[server(prefix = "/api/owner")]
pub async fn add_mqtt_device(name: String, prefix: String) -> AppResult<NewDevice> {
    session::require_owner()?;
    let (device, token) = store::create_with_prefix(&context::db()?, name.trim(), prefix.trim()).await?;
    context::activity().forget_discovered(prefix.trim());
    Ok(NewDevice { device, token })
}
