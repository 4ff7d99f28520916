//! The alert channels set on the Alerts page (email, ntfy), one row each in `alert_channel`
//! with its settings as JSON. Their secrets are stored as they must be sent; they leave the
//! store only towards the server's senders (the page gets [`Channels::shown`]).

use crate::db::Db;
use crate::error::Error;
use crate::pool::with_db;
use hearth_core::alert::channel::{ChannelKind, Channels, Email, Ntfy};
use hearth_core::time::now_ms;

fn decode(e: serde_json::Error) -> Error {
    Error::Database(sqlx::Error::Decode(e.into()))
}

/// The channels set.
pub async fn channels(db: &Db) -> Result<Channels, Error> {
    const SQL: &str = "select kind, settings from alert_channel";
    let rows: Vec<(String, String)> = with_db!(db, read, |pool| sqlx::query_as(SQL).fetch_all(pool).await)?;
    let mut channels = Channels::default();
    for (kind, settings) in rows {
        match kind.parse::<ChannelKind>() {
            Ok(ChannelKind::Email) => channels.email = Some(serde_json::from_str::<Email>(&settings).map_err(decode)?),
            Ok(ChannelKind::Ntfy) => channels.ntfy = Some(serde_json::from_str::<Ntfy>(&settings).map_err(decode)?),
            Err(_) => tracing::warn!(kind, "unknown alert channel in the database; ignored"),
        }
    }
    Ok(channels)
}

async fn put(db: &Db, kind: ChannelKind, settings: String) -> Result<(), Error> {
    const SQL: &str = "insert into alert_channel (kind, settings, updated_at_ms) values ($1, $2, $3) \
         on conflict (kind) do update set settings = excluded.settings, updated_at_ms = excluded.updated_at_ms";
    with_db!(db, write, |pool| sqlx::query(SQL).bind(kind.as_str()).bind(&settings).bind(now_ms()).execute(pool).await.map(drop))?;
    Ok(())
}

/// Sets (or replaces) the email settings.
pub async fn set_email(db: &Db, email: &Email) -> Result<(), Error> {
    put(db, ChannelKind::Email, serde_json::to_string(email).map_err(decode)?).await
}

/// Sets (or replaces) the ntfy settings.
pub async fn set_ntfy(db: &Db, ntfy: &Ntfy) -> Result<(), Error> {
    put(db, ChannelKind::Ntfy, serde_json::to_string(ntfy).map_err(decode)?).await
}

/// Turns a channel off (forgetting its settings); `false` if it was not set.
pub async fn remove(db: &Db, kind: ChannelKind) -> Result<bool, Error> {
    const SQL: &str = "delete from alert_channel where kind = $1";
    Ok(with_db!(db, write, |pool| sqlx::query(SQL).bind(kind.as_str()).execute(pool).await?.rows_affected() > 0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::on_both_databases;
    use crate::testing::TestDb;
    use hearth_core::alert::channel::{Secret, Security};

    async fn channels_are_kept_replaced_and_removed(t: TestDb) {
        assert_eq!(channels(&t.db).await.unwrap(), Channels::default());
        let email = Email {
            host: "smtp.example.org".into(),
            port: 587,
            security: Security::StartTls,
            user: "hearth".into(),
            password: Secret::new("s3cret"),
            from: "hearth@example.org".into(),
            to: vec!["me@example.org".into()],
        };
        set_email(&t.db, &email).await.unwrap();
        set_ntfy(&t.db, &Ntfy { url: "https://ntfy.sh/a".into(), token: Secret::default() }).await.unwrap();
        set_ntfy(&t.db, &Ntfy { url: "https://ntfy.sh/b".into(), token: Secret::new("tk") }).await.unwrap();
        let kept = channels(&t.db).await.unwrap();
        assert_eq!(kept.email, Some(email));
        assert_eq!(kept.ntfy.as_ref().map(|n| (n.url.as_str(), n.token.expose())), Some(("https://ntfy.sh/b", "tk")));
        assert!(remove(&t.db, ChannelKind::Email).await.unwrap());
        assert!(!remove(&t.db, ChannelKind::Email).await.unwrap());
        assert_eq!(channels(&t.db).await.unwrap().email, None);
    }

    on_both_databases!(channels_are_kept_replaced_and_removed);
}
