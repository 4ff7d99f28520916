//! Where alerts reach people besides the live stream and the webhook: **email** through an
//! SMTP server and **ntfy** (a topic on ntfy.sh or a server of one's own). The owner sets them
//! on the Alerts page; each is checked field by field here. Their secrets (the SMTP password,
//! the ntfy token) are [`Secret`]s: never printed, and never sent back to the browser, which
//! sees a [`ChannelsShown`] saying only whether one is saved.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A password or token: kept, sent where it belongs, never printed (`Debug` shows `***`).
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// A secret holding `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The value, for the one place that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether none is set.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.0.is_empty() { "\"\"" } else { "***" })
    }
}

/// How the connection to the SMTP server is secured.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// Plain connection upgraded with STARTTLS, which is required (usually port 587).
    #[default]
    StartTls,
    /// TLS from the first byte (usually port 465).
    Tls,
}

impl Security {
    /// The name in forms and settings.
    pub fn as_str(self) -> &'static str {
        match self {
            Security::StartTls => "starttls",
            Security::Tls => "tls",
        }
    }

    /// The port used when the form leaves it empty.
    pub fn default_port(self) -> u16 {
        match self {
            Security::StartTls => 587,
            Security::Tls => 465,
        }
    }
}

/// Email through an SMTP server.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Email {
    /// The SMTP server's host name (also the name its certificate must carry).
    pub host: String,
    /// Its port.
    pub port: u16,
    /// STARTTLS or TLS.
    pub security: Security,
    /// The user to log in as; empty: no login.
    pub user: String,
    /// The password.
    pub password: Secret,
    /// The sender, such as `Hearth <hearth@example.org>`.
    pub from: String,
    /// The recipients.
    pub to: Vec<String>,
}

/// Notifications through ntfy.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Ntfy {
    /// The topic's URL, such as `https://ntfy.sh/my-house-alerts`.
    pub url: String,
    /// An access token for a protected topic; empty: none.
    pub token: Secret,
}

/// The channels set, as the server keeps them.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Channels {
    /// Email, if set.
    pub email: Option<Email>,
    /// ntfy, if set.
    pub ntfy: Option<Ntfy>,
}

impl Channels {
    /// What the browser may see.
    pub fn shown(&self) -> ChannelsShown {
        ChannelsShown { email: self.email.as_ref().map(Email::shown), ntfy: self.ntfy.as_ref().map(Ntfy::shown) }
    }
}

/// Which channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    /// Email through SMTP.
    Email,
    /// ntfy.
    Ntfy,
}

impl ChannelKind {
    /// The name in the database and forms.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Email => "email",
            ChannelKind::Ntfy => "ntfy",
        }
    }
}

impl std::str::FromStr for ChannelKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "email" => Ok(ChannelKind::Email),
            "ntfy" => Ok(ChannelKind::Ntfy),
            _ => Err(format!("channel: unknown channel {s:?}: expected email or ntfy")),
        }
    }
}

/// The email settings as the browser sees them: the password only as whether one is saved.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct EmailShown {
    /// See [`Email::host`].
    pub host: String,
    /// See [`Email::port`].
    pub port: u16,
    /// See [`Email::security`].
    pub security: Security,
    /// See [`Email::user`].
    pub user: String,
    /// Whether a password is saved.
    pub password_saved: bool,
    /// See [`Email::from`].
    pub from: String,
    /// The recipients, comma-separated.
    pub to: String,
}

/// The ntfy settings as the browser sees them: the token only as whether one is saved.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct NtfyShown {
    /// See [`Ntfy::url`].
    pub url: String,
    /// Whether a token is saved.
    pub token_saved: bool,
}

/// The channels as the Alerts page shows them.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelsShown {
    /// Email, if set.
    pub email: Option<EmailShown>,
    /// ntfy, if set.
    pub ntfy: Option<NtfyShown>,
}

impl Email {
    /// What the browser may see.
    pub fn shown(&self) -> EmailShown {
        EmailShown {
            host: self.host.clone(),
            port: self.port,
            security: self.security,
            user: self.user.clone(),
            password_saved: !self.password.is_empty(),
            from: self.from.clone(),
            to: self.to.join(", "),
        }
    }
}

impl Ntfy {
    /// What the browser may see.
    pub fn shown(&self) -> NtfyShown {
        NtfyShown { url: self.url.clone(), token_saved: !self.token.is_empty() }
    }
}

/// A refusal: the form field at fault and a message that names it.
pub type Refusal = (&'static str, String);

/// The email form as the page sends it (text). An empty password keeps the saved one.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmailForm {
    /// The SMTP server's host.
    #[serde(default)]
    pub host: String,
    /// Its port; empty: 587 for STARTTLS, 465 for TLS.
    #[serde(default)]
    pub port: String,
    /// `starttls` or `tls`.
    #[serde(default)]
    pub security: String,
    /// The user; empty: no login.
    #[serde(default)]
    pub user: String,
    /// The password; empty: keep the saved one.
    #[serde(default)]
    pub password: String,
    /// The sender.
    #[serde(default)]
    pub from: String,
    /// Recipients, separated by commas or spaces.
    #[serde(default)]
    pub to: String,
}

impl fmt::Debug for EmailForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmailForm")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.user)
            .field("password", &Secret::new(self.password.clone()))
            .field("from", &self.from)
            .field("to", &self.to)
            .finish()
    }
}

/// Whether `address` looks like `name@domain` (alone or as `Name <name@domain>`).
fn address_ok(address: &str) -> bool {
    let bare = match (address.find('<'), address.strip_suffix('>')) {
        (Some(open), Some(inner)) => &inner[open + 1..],
        _ => address,
    };
    match bare.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty() && !domain.is_empty() && !bare.chars().any(|c| c.is_whitespace() || c == ',' || c == '<' || c == '>')
        }
        None => false,
    }
}

impl EmailForm {
    /// The settings the form describes, with `saved`'s password when the form leaves it
    /// empty, or the field at fault.
    pub fn check(&self, saved: Option<&Email>) -> Result<Email, Refusal> {
        let host = self.host.trim();
        if host.is_empty() || host.len() > 253 || host.chars().any(|c| c.is_whitespace() || c == '/' || c == ':') {
            return Err(("host", "host: the SMTP server's name, such as smtp.example.org".into()));
        }
        let security = match self.security.trim() {
            "" | "starttls" => Security::StartTls,
            "tls" => Security::Tls,
            other => return Err(("security", format!("security must be starttls or tls, not {other:?}"))),
        };
        let port = match self.port.trim() {
            "" => security.default_port(),
            text => match text.parse::<u16>() {
                Ok(port) if port > 0 => port,
                _ => return Err(("port", format!("port must be a number from 1 to 65535, not {text:?}"))),
            },
        };
        let user = self.user.trim().to_owned();
        let password = match (self.password.as_str(), saved) {
            ("", Some(saved)) => saved.password.clone(),
            (password, _) => Secret::new(password),
        };
        if !user.is_empty() && password.is_empty() {
            return Err(("password", "password: needed with a user".into()));
        }
        let from = self.from.trim().to_owned();
        if !address_ok(&from) {
            return Err(("from", format!("from must be an address such as hearth@example.org, not {from:?}")));
        }
        let to: Vec<String> = self.to.split([',', ' ', ';', '\n']).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect();
        if to.is_empty() {
            return Err(("to", "to: at least one address".into()));
        }
        if let Some(bad) = to.iter().find(|a| !address_ok(a)) {
            return Err(("to", format!("to: {bad:?} is not an address")));
        }
        Ok(Email { host: host.to_owned(), port, security, user, password, from, to })
    }
}

/// The ntfy form as the page sends it. An empty token keeps the saved one.
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct NtfyForm {
    /// The topic's URL.
    #[serde(default)]
    pub url: String,
    /// An access token; empty: keep the saved one (if any).
    #[serde(default)]
    pub token: String,
}

impl fmt::Debug for NtfyForm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NtfyForm").field("url", &self.url).field("token", &Secret::new(self.token.clone())).finish()
    }
}

impl NtfyForm {
    /// The settings the form describes, with `saved`'s token when the form leaves it empty,
    /// or the field at fault.
    pub fn check(&self, saved: Option<&Ntfy>) -> Result<Ntfy, Refusal> {
        let url = self.url.trim();
        let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
        let topic_ok = rest.and_then(|r| r.split_once('/')).is_some_and(|(host, topic)| {
            !host.is_empty() && !topic.is_empty() && !topic.contains(['/', '?', '#']) && !url.chars().any(char::is_whitespace)
        });
        if !topic_ok {
            return Err(("url", format!("url must be a topic's address, such as https://ntfy.sh/my-house-alerts, not {url:?}")));
        }
        let token = match (self.token.trim(), saved) {
            ("", Some(saved)) => saved.token.clone(),
            (token, _) => Secret::new(token),
        };
        if token.expose().chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(("token", "token must not contain spaces".into()));
        }
        Ok(Ntfy { url: url.to_owned(), token })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email() -> EmailForm {
        EmailForm {
            host: "smtp.example.org".into(),
            port: "".into(),
            security: "tls".into(),
            user: "hearth".into(),
            password: "s3cret".into(),
            from: "Hearth <hearth@example.org>".into(),
            to: "me@example.org, you@example.org".into(),
        }
    }

    #[test]
    fn email_forms_are_checked_field_by_field() {
        let checked = email().check(None).unwrap();
        assert_eq!((checked.port, checked.security, checked.to.len()), (465, Security::Tls, 2));
        for (form, field) in [
            (EmailForm { host: "".into(), ..email() }, "host"),
            (EmailForm { port: "70000".into(), ..email() }, "port"),
            (EmailForm { security: "ssl3".into(), ..email() }, "security"),
            (EmailForm { password: "".into(), ..email() }, "password"),
            (EmailForm { from: "hearth".into(), ..email() }, "from"),
            (EmailForm { to: "".into(), ..email() }, "to"),
            (EmailForm { to: "me@example.org, nobody".into(), ..email() }, "to"),
        ] {
            let (at, message) = form.check(None).unwrap_err();
            assert_eq!(at, field);
            assert!(message.starts_with(field), "{message} names {field}");
        }
        let kept = EmailForm { password: "".into(), ..email() }.check(Some(&checked)).unwrap();
        assert_eq!(kept.password.expose(), "s3cret", "an empty password keeps the saved one");
    }

    #[test]
    fn secrets_are_never_printed_nor_shown() {
        let checked = email().check(None).unwrap();
        assert!(!format!("{checked:?}").contains("s3cret"));
        assert!(!format!("{:?}", email()).contains("s3cret"));
        let shown = checked.shown();
        assert!(shown.password_saved);
        let ntfy = NtfyForm { url: "https://ntfy.sh/house".into(), token: "tk_abc".into() }.check(None).unwrap();
        assert!(!format!("{ntfy:?}").contains("tk_abc"));
        assert!(ntfy.shown().token_saved);
    }

    #[test]
    fn ntfy_forms_need_a_topic_url() {
        assert_eq!(NtfyForm { url: "ntfy.sh/house".into(), token: "".into() }.check(None).unwrap_err().0, "url");
        assert_eq!(NtfyForm { url: "https://ntfy.sh/".into(), token: "".into() }.check(None).unwrap_err().0, "url");
        assert_eq!(NtfyForm { url: "https://ntfy.sh/house".into(), token: "a b".into() }.check(None).unwrap_err().0, "token");
        let open = NtfyForm { url: "http://127.0.0.1:8080/house".into(), token: "".into() }.check(None).unwrap();
        assert!(open.token.is_empty());
    }
}
