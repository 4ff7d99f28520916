//! The one error type of Hearth's server functions. It carries the HTTP status it is answered
//! with and the form field at fault, crosses to the browser as JSON
//! (`{"status": 422, "field": "name", "message": "…"}`), and is shown to the person as its
//! message. Storage errors become one through the store's own mapping
//! ([`hearth_store::Error::status`]), the same the REST API uses.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

/// `Result` with [`AppError`] as the error, for server functions.
pub type AppResult<T> = Result<T, AppError>;

/// Why a server function failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AppError {
    /// The HTTP status the call is answered with.
    pub status: u16,
    /// The form field at fault, if one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What went wrong, for a person.
    pub message: String,
}

impl AppError {
    /// An error answered with `status`.
    pub fn new(status: u16, message: impl Into<String>) -> AppError {
        AppError { status, field: None, message: message.into() }
    }

    /// 422 for `field`: the message is shown beside the form, prefixed with the field's name.
    pub fn invalid(field: &str, message: impl std::fmt::Display) -> AppError {
        AppError::on_field(422, field, message)
    }

    /// An error answered with `status`, for `field` (the message names it first).
    pub fn on_field(status: u16, field: &str, message: impl std::fmt::Display) -> AppError {
        let message = message.to_string();
        let message = if message.starts_with(field) { message } else { format!("{field}: {message}") };
        AppError { status, field: Some(field.to_owned()), message }
    }

    /// 401: no session.
    pub fn logged_out() -> AppError {
        AppError::new(401, "log in first")
    }

    /// 403: a read-only session asked for a change.
    pub fn read_only() -> AppError {
        AppError::new(403, "a shared screen is read-only: log in as the owner to change anything")
    }

    /// 404 saying `message`.
    pub fn not_found(message: impl Into<String>) -> AppError {
        AppError::new(404, message)
    }

    /// 500 that tells nothing: the cause is logged on the server under `label`.
    #[cfg(feature = "ssr")]
    pub fn internal(label: &str, cause: impl std::fmt::Display) -> AppError {
        tracing::error!(error = %cause, "{label}");
        AppError::new(500, "internal error")
    }
}

#[cfg(feature = "ssr")]
impl From<hearth_store::Error> for AppError {
    /// The store's error with its status; a server fault is logged where it was met (the
    /// file and line of the `?`) and told as nothing more than what the caller can do.
    #[track_caller]
    fn from(e: hearth_store::Error) -> AppError {
        let at = std::panic::Location::caller();
        match e.status() {
            500 => AppError::internal(&format!("server function failed at {at}"), &e),
            503 => {
                tracing::warn!(error = %e, %at, "database unavailable");
                AppError::new(503, "the database is busy or unreachable: try again in a moment")
            }
            status => match e.field() {
                Some(field) => AppError::on_field(status, field, &e),
                None => AppError::new(status, e.to_string()),
            },
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(e: ServerFnErrorErr) -> AppError {
        let status = match e {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => 400,
            ServerFnErrorErr::Request(_) => 0,
            _ => 500,
        };
        AppError::new(status, e.to_string())
    }

    /// Encodes the error for the browser and, on the server, answers the call with its status.
    fn ser(&self) -> server_fn::Bytes {
        #[cfg(feature = "ssr")]
        if let (Some(response), Ok(status)) =
            (leptos::prelude::use_context::<leptos_axum::ResponseOptions>(), http::StatusCode::from_u16(self.status))
        {
            response.set_status(status);
        }
        <JsonEncoding as server_fn::Encodes<AppError>>::encode(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_field_error_names_its_field_once() {
        let e = AppError::invalid("name", "a device name is 1 to 64 characters");
        assert_eq!((e.status, e.field.as_deref()), (422, Some("name")));
        assert_eq!(e.message, "name: a device name is 1 to 64 characters");
        assert_eq!(AppError::invalid("label", "label must be 1 to 64 characters").message, "label must be 1 to 64 characters");
    }

    #[test]
    fn it_crosses_to_the_browser_as_json() {
        let e = AppError::on_field(409, "name", "a device named \"x\" already exists");
        let back: AppError = serde_json::from_slice(&<JsonEncoding as server_fn::Encodes<AppError>>::encode(&e).unwrap()).unwrap();
        assert_eq!(back, e);
        assert_eq!(AppError::from_server_fn_error(ServerFnErrorErr::MissingArg("name".into())).status, 400);
    }
}
