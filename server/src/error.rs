//! The one error type of Hearth's HTTP API, and how each variant becomes a status and a JSON
//! body `{"error": "...", "index": n, "field": "..."}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong with a request.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 400 Bad Request: the body is not JSON, or not of the expected shape.
    #[error("{0}")]
    Malformed(String),
    /// 400 Bad Request: a query parameter is missing or malformed.
    #[error("{message}")]
    BadParameter {
        /// The parameter at fault.
        field: &'static str,
        /// What is wrong, for a person.
        message: String,
    },
    /// 400 Bad Request: a field of a JSON body is refused, named by its path
    /// (`tariffs[0].import.zones[1].days`).
    #[error("{message}")]
    BadField {
        /// The field's path.
        field: String,
        /// What is wrong, for a person.
        message: String,
    },
    /// 404 Not Found: no such resource.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 409 Conflict: a value that must be unique is taken.
    #[error("{message}")]
    Conflict {
        /// The field whose value is taken.
        field: &'static str,
        /// What is taken, for a person.
        message: String,
    },
    /// 401 Unauthorized: no device token, or one Hearth does not know.
    #[error("missing or unknown device token: send \"Authorization: Bearer <token>\"")]
    Unauthorized,
    /// 401 Unauthorized: the device's token was revoked.
    #[error("this device token was revoked")]
    Revoked,
    /// 401 Unauthorized: the read API, the stream and server functions need a session.
    #[error("log in first: this needs a session")]
    LoggedOut,
    /// 403 Forbidden: a read-only (share link) session asked for an owner's action.
    #[error("a shared screen is read-only: log in as the owner to change anything")]
    ReadOnly,
    /// 403 Forbidden: a request that changes state carried a session cookie but came from
    /// another site's page (its `Origin` is not this server's).
    #[error("refused: this request would change something with your session but comes from another site ({0}); use Hearth's own pages")]
    CrossSite(String),
    /// 413 Payload Too Large: the body, or the number of readings in it, exceeds the limit.
    #[error("{message}")]
    TooLarge {
        /// What exceeded which limit.
        message: String,
        /// The field at fault, if any.
        field: Option<&'static str>,
    },
    /// 429 Too Many Requests, with `Retry-After`: a rate or a count limit was reached.
    #[error("{message}")]
    TooMany {
        /// Which limit, for a person.
        message: String,
        /// Seconds to wait before trying again.
        retry_after: u64,
    },
    /// 422 Unprocessable Entity: a reading breaks a rule; nothing of the request was stored.
    #[error("{message}")]
    Invalid {
        /// What is wrong, for a person.
        message: String,
        /// Position of the reading in the batch (0 for a single reading).
        index: Option<usize>,
        /// The reading's field at fault.
        field: Option<String>,
    },
    /// 503 Service Unavailable, with `Retry-After`: the database is unreachable or busy, or
    /// the server is shutting down. Nothing was stored; the client should retry.
    #[error("the service is unavailable; retry later")]
    Unavailable(#[source] Box<dyn std::error::Error + Send + Sync>),
    /// 500 Internal Server Error: logged; the client sees no detail.
    #[error("internal error")]
    Internal(#[source] Box<dyn std::error::Error + Send + Sync>),
}

#[derive(Serialize)]
struct Body<'a> {
    error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<usize>,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

impl Error {
    /// The HTTP status this error answers with.
    pub fn status(&self) -> StatusCode {
        match self {
            Error::Malformed(_) | Error::BadParameter { .. } | Error::BadField { .. } => StatusCode::BAD_REQUEST,
            Error::NotFound(_) => StatusCode::NOT_FOUND,
            Error::Conflict { .. } => StatusCode::CONFLICT,
            Error::Unauthorized | Error::Revoked | Error::LoggedOut => StatusCode::UNAUTHORIZED,
            Error::ReadOnly | Error::CrossSite(_) => StatusCode::FORBIDDEN,
            Error::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            Error::Invalid { .. } => StatusCode::UNPROCESSABLE_ENTITY,
            Error::TooMany { .. } => StatusCode::TOO_MANY_REQUESTS,
            Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// A 422 for one field of one reading.
    pub fn invalid(index: usize, field: &str, message: impl Into<String>) -> Error {
        Error::Invalid { message: message.into(), index: Some(index), field: Some(field.to_owned()) }
    }
}

impl From<hearth_store::Error> for Error {
    /// The store's error, answered with the status the store gives it
    /// ([`hearth_store::Error::status`]), as the server functions answer it too.
    fn from(e: hearth_store::Error) -> Self {
        use hearth_store::Error as Store;
        match e {
            Store::NotFound(what) => Error::NotFound(what),
            Store::Conflict { field, message } => Error::Conflict { field, message },
            Store::Invalid { index, field, message } => Error::Invalid { message, index, field: Some(field.to_owned()) },
            e if e.status() == 503 => Error::Unavailable(Box::new(e)),
            e => Error::Internal(Box::new(e)),
        }
    }
}

impl Error {
    /// Answers with `body` at `status`: how another protocol (InfluxDB, Emoncms) words this
    /// error, with what Hearth's own answer does besides (server faults logged, `Retry-After`
    /// on 429 and 503).
    pub fn respond(&self, status: StatusCode, body: impl Serialize) -> Response {
        match self {
            Error::Internal(e) => tracing::error!(error = %e, source = ?e.source(), "internal error"),
            Error::Unavailable(e) => tracing::warn!(error = %e, "unavailable"),
            _ => {}
        }
        let mut response = (status, Json(body)).into_response();
        let retry_after = match self {
            Error::Unavailable(_) => Some(5),
            Error::TooMany { retry_after, .. } => Some(*retry_after),
            _ => None,
        };
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (index, field) = match &self {
            Error::Invalid { index, field, .. } => (*index, field.as_deref()),
            Error::TooLarge { field, .. } => (None, *field),
            Error::BadField { field, .. } => (None, Some(field.as_str())),
            Error::BadParameter { field, .. } | Error::Conflict { field, .. } => (None, Some(*field)),
            Error::CrossSite(_) => (None, Some("origin")),
            _ => (None, None),
        };
        let body = Body { error: self.to_string(), index, field };
        self.respond(self.status(), body)
    }
}
