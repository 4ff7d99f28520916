//! Alerts by email: each alert this server records is sent through the SMTP server set on
//! the Alerts page (STARTTLS or TLS, with lettre over rustls), to every recipient set there,
//! in order and with the [`Retry`](crate::jobs::reach::Retry) of every channel.

use crate::jobs::reach::{Note, Reach, note};
use hearth_core::alert::AlertEvent;
use hearth_core::alert::channel::{Email, Security};
use hearth_store::Db;
use lettre::message::Mailbox;
use lettre::message::header::ContentType;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::time::Duration;
use tokio::sync::mpsc;

/// The email of `note`, from and to the addresses of `email`, with a link to `page`.
pub fn message(email: &Email, note: &Note, page: Option<&str>) -> Result<Message, String> {
    let from: Mailbox = email.from.parse().map_err(|e| format!("from: {e}"))?;
    let mut builder = Message::builder().from(from).subject(format!("[Hearth] {}", note.title)).header(ContentType::TEXT_PLAIN);
    for to in &email.to {
        builder = builder.to(to.parse::<Mailbox>().map_err(|e| format!("to: {to:?}: {e}"))?);
    }
    let mut body = note.message.clone();
    if let Some(page) = page {
        body.push_str(&format!("\n\nAlerts: {page}\n"));
    }
    builder.body(body).map_err(|e| format!("email: {e}"))
}

/// A connection to the SMTP server of `email`, trusting `reach`'s extra roots too.
fn transport(email: &Email, reach: &Reach) -> Result<AsyncSmtpTransport<Tokio1Executor>, String> {
    let mut tls = TlsParameters::builder(email.host.clone());
    for pem in reach.extra_roots.iter() {
        tls = tls.add_root_certificate(Certificate::from_pem(pem).map_err(|e| format!("HEARTH_ALERT_CA_FILE: {e}"))?);
    }
    let tls = tls.build_rustls().map_err(|e| format!("email: {e}"))?;
    let tls = match email.security {
        Security::StartTls => Tls::Required(tls),
        Security::Tls => Tls::Wrapper(tls),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&email.host)
        .port(email.port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(10)));
    if !email.user.is_empty() {
        builder = builder.credentials(Credentials::new(email.user.clone(), email.password.expose().to_owned()));
    }
    Ok(builder.build())
}

/// Sends `note` by `email` once; why not, for a person.
pub async fn send(email: &Email, note: &Note, reach: &Reach) -> Result<(), String> {
    let message = message(email, note, reach.alerts_page().as_deref())?;
    let response = transport(email, reach)?.send(message).await.map_err(|e| format!("email: {}:{}: {e}", email.host, email.port))?;
    if response.is_positive() { Ok(()) } else { Err(format!("email: the server answered {}", response.code())) }
}

/// Sends every alert of `queue` by email, in order, while email is set; until the queue closes.
pub async fn run(db: Db, reach: Reach, mut queue: mpsc::Receiver<AlertEvent>) {
    while let Some(event) = queue.recv().await {
        let note = note(&event, &reach.zone);
        let (db, note, reach) = (&db, &note, &reach);
        reach
            .retry
            .run("email", event.alert.alert_id, move || async move {
                let channels = hearth_store::alert::channel::channels(db).await.map_err(|e| e.to_string())?;
                match channels.email {
                    Some(email) => send(&email, note, reach).await,
                    None => Ok(()),
                }
            })
            .await;
    }
}
