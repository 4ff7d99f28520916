//! Alerts reaching people: email through a real SMTP server on loopback (aiosmtpd from PyPI,
//! with STARTTLS and with TLS, a certificate of the test's own CA, and a login) and ntfy
//! through a local HTTP server recording what ntfy would get; both set by the owner through
//! the Alerts page's server functions, with "send a test"; secrets never sent back; and a
//! failing channel delaying neither another one nor the order of its own alerts.

mod alerting;
mod common;

use alerting::{Received, bodies, minutely, receiver, sensor_id};
use axum::http::StatusCode;
use hearth::config::{Config, DatabaseUrl, PemFile};
use hearth_core::alert::{NewRule, RuleKind};
use hearth_core::time::now_ms;
use hearth_store::Db;
use serde_json::{Value, json};
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

/// A certificate authority of the test's own and a certificate it signed for `localhost`:
/// writes `ca.pem`, `cert.pem` and `key.pem` into `dir`.
fn certificates(dir: &Path) {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair};
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name.push(DnType::CommonName, "Hearth test CA");
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let cert = CertificateParams::new(vec!["localhost".to_owned()]).unwrap().signed_by(&key, &issuer).unwrap();
    std::fs::write(dir.join("ca.pem"), ca_cert.pem()).unwrap();
    std::fs::write(dir.join("cert.pem"), cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), key.serialize_pem()).unwrap();
}

/// aiosmtpd on a free port of 127.0.0.1 with `security` (`starttls` or `tls`), taking mail
/// from `hearth` with password `s3cret-pass`: the process (killed when dropped), its port and
/// the messages it received.
async fn smtp_server(security: &str, dir: &Path) -> (tokio::process::Child, u16, Received) {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtp/smtp_server.py");
    let mut child = tokio::process::Command::new("python3")
        .arg(script)
        .args(["--security", security, "--user", "hearth", "--password", "s3cret-pass"])
        .arg("--cert")
        .arg(dir.join("cert.pem"))
        .arg("--key")
        .arg(dir.join("key.pem"))
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("python3 runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = tokio::time::timeout(Duration::from_secs(20), lines.next_line())
        .await
        .expect("the SMTP server starts within 20 s")
        .unwrap()
        .expect("the SMTP server starts (python3 with aiosmtpd: scripts/setup.sh installs it)");
    let port = serde_json::from_str::<Value>(&first).unwrap()["port"].as_u64().unwrap() as u16;
    let received: Received = Arc::default();
    let messages = received.clone();
    tokio::spawn(async move {
        while let Ok(Some(line)) = lines.next_line().await {
            messages.lock().unwrap().push((String::new(), None, serde_json::from_str(&line).unwrap()));
        }
    });
    (child, port, received)
}

/// POSTs `form` to the owner's server function at `path`; its status and body.
async fn call(client: &reqwest::Client, base: &str, path: &str, form: &[(&str, &str)]) -> (u16, String) {
    let response = client.post(format!("{base}{path}")).form(form).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn email_form<'a>(port: &'a str, security: &'a str, password: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("email[host]", "localhost"),
        ("email[port]", port),
        ("email[security]", security),
        ("email[user]", "hearth"),
        ("email[password]", password),
        ("email[from]", "Hearth <hearth@example.org>"),
        ("email[to]", "me@example.org, you@example.org"),
    ]
}

/// Readings that open an alert of an "above −12 °C for 10 min" rule on `kitchen/freezer.temp`
/// and, with `resolve`, resolve it: posted by a new device, the rule added.
async fn freezer_alert(db: &Db, base: &str, resolve: bool) {
    let token = common::device_token(db, "kitchen").await;
    let now = now_ms();
    let mut readings = minutely("freezer.temp", "temperature", 60, 40, -9.0, now);
    if resolve {
        readings.extend(minutely("freezer.temp", "temperature", 39, 20, -18.0, now));
    }
    let posted = reqwest::Client::new().post(format!("{base}/api/v1/readings")).bearer_auth(&token).json(&json!({ "readings": readings })).send().await.unwrap();
    assert_eq!(posted.status(), 200);
    let sensor_id = sensor_id(db, "kitchen", "freezer.temp").await;
    let rule = NewRule { kind: RuleKind::Above, sensor_id: Some(sensor_id), device_id: None, threshold: Some(-12.0), margin: Some(1.0), minutes: Some(10), factor: None };
    hearth_store::alert::insert_rule(db, &rule).await.unwrap();
}

#[tokio::test]
async fn email_reaches_a_real_smtp_server_over_starttls_and_tls() {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    let (_starttls, starttls_port, by_starttls) = smtp_server("starttls", dir.path()).await;
    let (_tls, tls_port, by_tls) = smtp_server("tls", dir.path()).await;
    let t = common::sqlite().await;
    let ca = PemFile::read(dir.path().join("ca.pem").to_str().unwrap()).unwrap();
    let config = Config { alert_interval_seconds: 1, alert_ca_file: Some(ca), ..Config::default() };
    let (base, _stop, _server) = common::serve(&t.db, config).await;
    let owner = common::owner_client(&t.db).await;
    let (port, tls_port_text) = (starttls_port.to_string(), tls_port.to_string());

    let (status, body) = call(&owner, &base, "/api/owner/save_alert_email", &email_form("70000", "starttls", "s3cret-pass")).await;
    assert_eq!(status, 422, "{body}");
    assert!(body.contains("\"field\":\"port\""), "the refusal names the field: {body}");
    let (status, body) = call(&owner, &base, "/api/owner/test_alert_channel", &[("channel", "email")]).await;
    assert!(status == 502 && body.contains("not set"), "{status} {body}");

    // STARTTLS on a port of its own, logged in.
    let (status, body) = call(&owner, &base, "/api/owner/save_alert_email", &email_form(&port, "starttls", "s3cret-pass")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(&owner, &base, "/api/owner/test_alert_channel", &[("channel", "email")]).await;
    assert_eq!(status, 200, "{body}");
    let test = bodies(&by_starttls, 1, Duration::from_secs(10)).await.remove(0);
    assert_eq!(test["from"], "hearth@example.org");
    assert_eq!(test["to"], json!(["me@example.org", "you@example.org"]));
    assert_eq!((test["login"].as_str(), test["tls"].as_bool()), (Some("hearth"), Some(true)), "logged in over TLS: {test}");
    assert!(test["data"].as_str().unwrap().contains("Subject: [Hearth] Hearth: test"), "{test}");

    // The password is kept, never shown.
    let (_, page) = call(&owner, &base, "/api/load_alerts", &[]).await;
    assert!(!page.contains("s3cret-pass") && page.contains("\"password_saved\":true"), "{page}");
    // A wrong password is refused by the server, and said so.
    call(&owner, &base, "/api/owner/save_alert_email", &email_form(&port, "starttls", "wrong")).await;
    let (status, body) = call(&owner, &base, "/api/owner/test_alert_channel", &[("channel", "email")]).await;
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("email"), "{body}");

    // TLS from the first byte, the saved password kept by an empty field: an alert arrives.
    call(&owner, &base, "/api/owner/save_alert_email", &email_form(&port, "starttls", "s3cret-pass")).await;
    let (status, body) = call(&owner, &base, "/api/owner/save_alert_email", &email_form(&tls_port_text, "tls", "")).await;
    assert_eq!(status, 200, "{body}");
    freezer_alert(&t.db, &base, false).await;
    let alert = bodies(&by_tls, 1, Duration::from_secs(20)).await.remove(0);
    let data = alert["data"].as_str().unwrap();
    assert!(data.contains("Subject: [Hearth] Alert: Freezer temperature"), "{data}");
    assert!(data.contains("Freezer temperature above =E2=88=9212 =C2=B0C for 10 min: =E2=88=929 =C2=B0C") || data.contains("above −12 °C for 10 min: −9 °C"), "{data}");
    assert_eq!((alert["login"].as_str(), alert["tls"].as_bool()), (Some("hearth"), Some(true)));
    assert_eq!(by_starttls.lock().unwrap().len(), 1, "only the test went by STARTTLS");
}

#[tokio::test]
async fn ntfy_gets_the_message_title_priority_and_tags_in_order() {
    let (ntfy, received) = receiver(|_| StatusCode::OK).await;
    let t = common::sqlite().await;
    let (base, _stop, _server) = common::serve(&t.db, Config { alert_interval_seconds: 1, ..Config::default() }).await;
    let owner = common::owner_client(&t.db).await;
    let topic = format!("{ntfy}/house-alerts");
    let (status, body) = call(&owner, &base, "/api/owner/save_alert_ntfy", &[("ntfy[url]", "ntfy.sh"), ("ntfy[token]", "")]).await;
    assert!(status == 422 && body.contains("\"field\":\"url\""), "{status} {body}");
    let (status, body) = call(&owner, &base, "/api/owner/save_alert_ntfy", &[("ntfy[url]", &topic), ("ntfy[token]", "tk_test_token")]).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = call(&owner, &base, "/api/owner/test_alert_channel", &[("channel", "ntfy")]).await;
    assert_eq!(status, 200, "{body}");
    let (path, auth, test) = received.lock().unwrap()[0].clone();
    assert_eq!((path.as_str(), auth.as_deref()), ("/", Some("Bearer tk_test_token")), "published as JSON to the server's root");
    assert_eq!((test["topic"].as_str(), test["title"].as_str()), (Some("house-alerts"), Some("Hearth: test")));
    let (_, page) = call(&owner, &base, "/api/load_alerts", &[]).await;
    assert!(!page.contains("tk_test_token") && page.contains("\"token_saved\":true"), "{page}");

    freezer_alert(&t.db, &base, true).await;
    let sent = bodies(&received, 3, Duration::from_secs(20)).await;
    let opened = &sent[1];
    assert_eq!(opened["title"], "Alert: Freezer temperature");
    assert!(opened["message"].as_str().unwrap().starts_with("Freezer temperature above −12 °C for 10 min: −9 °C"), "{opened}");
    assert_eq!((opened["priority"].as_u64(), &opened["tags"]), (Some(4), &json!(["warning", "above"])));
    let resolved = &sent[2];
    assert_eq!(resolved["title"], "Resolved: Freezer temperature");
    assert_eq!((resolved["priority"].as_u64(), &resolved["tags"]), (Some(3), &json!(["white_check_mark", "above"])));
    assert!(resolved["message"].as_str().unwrap().contains("value at the end: −18 °C"), "{resolved}");

    let (status, _) = call(&owner, &base, "/api/owner/remove_alert_channel", &[("channel", "ntfy")]).await;
    assert_eq!(status, 200);
    let (status, body) = call(&owner, &base, "/api/owner/test_alert_channel", &[("channel", "ntfy")]).await;
    assert!(status == 502 && body.contains("not set"), "{status} {body}");
}

#[tokio::test]
async fn a_failing_channel_delays_neither_another_nor_its_own_order() {
    let (hook, by_webhook) = receiver(|_| StatusCode::NO_CONTENT).await;
    // ntfy refuses the first four attempts (about 7 s of retries), then takes them.
    let (ntfy, by_ntfy) = receiver(|n| if n <= 4 { StatusCode::SERVICE_UNAVAILABLE } else { StatusCode::OK }).await;
    let t = common::sqlite().await;
    let config = Config { alert_interval_seconds: 1, alert_webhook_url: Some(DatabaseUrl(hook)), ..Config::default() };
    let (base, _stop, _server) = common::serve(&t.db, config).await;
    let owner = common::owner_client(&t.db).await;
    let topic = format!("{ntfy}/house");
    assert_eq!(call(&owner, &base, "/api/owner/save_alert_ntfy", &[("ntfy[url]", &topic)]).await.0, 200);
    // Email to a port where nothing listens: every attempt fails.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port().to_string();
    assert_eq!(call(&owner, &base, "/api/owner/save_alert_email", &email_form(&closed, "starttls", "s3cret-pass")).await.0, 200);

    freezer_alert(&t.db, &base, true).await;
    let started = tokio::time::Instant::now();
    let hooked = bodies(&by_webhook, 2, Duration::from_secs(10)).await;
    assert!(started.elapsed() < Duration::from_secs(5), "the webhook waited for no other channel: {:?}", started.elapsed());
    assert_eq!(hooked.iter().map(|b| b["state"].as_str().unwrap()).collect::<Vec<_>>(), ["opened", "resolved"]);
    let tried = by_ntfy.lock().unwrap().iter().map(|(_, _, b)| b["title"].as_str().unwrap().to_owned()).collect::<Vec<_>>();
    assert!(tried.iter().all(|title| title.starts_with("Alert:")), "ntfy retries the opening before anything after it: {tried:?}");
    let all = bodies(&by_ntfy, 6, Duration::from_secs(30)).await;
    let titles: Vec<&str> = all.iter().map(|b| b["title"].as_str().unwrap()).collect();
    assert_eq!(titles, ["Alert: Freezer temperature"; 5].into_iter().chain(["Resolved: Freezer temperature"]).collect::<Vec<_>>(), "in order, once taken");
}
