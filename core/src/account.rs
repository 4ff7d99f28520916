//! The homeowner's account, the read-only share links, and the rules for their names and
//! passwords.

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
/// The longest password, in bytes.
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// The longest account name or share-link label.
pub const MAX_NAME_CHARS: usize = 64;

/// The trimmed name or label, or why it cannot be one (naming `field`).
pub fn check_name(field: &str, name: &str) -> Result<String, String> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
        return Err(format!("{field} must be 1 to {MAX_NAME_CHARS} characters without control characters"));
    }
    Ok(name.to_owned())
}

/// Why `password` cannot be a password, if it cannot.
pub fn check_password(password: &str) -> Result<(), String> {
    if password.chars().count() < MIN_PASSWORD_CHARS || password.len() > MAX_PASSWORD_BYTES {
        return Err(format!("password must be {MIN_PASSWORD_CHARS} to {MAX_PASSWORD_BYTES} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_passwords_are_checked() {
        assert_eq!(check_name("label", "  Kitchen screen "), Ok("Kitchen screen".into()));
        assert!(check_name("label", "").unwrap_err().starts_with("label must be"));
        assert!(check_name("name", &"a".repeat(65)).is_err());
        assert!(check_password("short").is_err());
        assert!(check_password("long enough").is_ok());
        assert!(check_password(&"x".repeat(1025)).is_err());
    }
}
