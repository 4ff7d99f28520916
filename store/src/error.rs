//! What can go wrong in the store, classified once: every caller (the REST API, the server
//! functions, the CLI) answers by these variants, and [`Error::status`] is the one mapping of
//! them to HTTP statuses that both of Hearth's HTTP surfaces use.

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why a store operation failed. When one fails, nothing of it was stored.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 404: no such row (sensor, device, rule, share link …).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 409: a value that must be unique is taken (a device name, a topic prefix).
    #[error("{message}")]
    Conflict {
        /// The field whose value is taken.
        field: &'static str,
        /// What is taken, for a person.
        message: String,
    },
    /// 422: the input breaks a rule that depends on what is stored.
    #[error("{message}")]
    Invalid {
        /// Position of the reading in its batch, for readings.
        index: Option<usize>,
        /// The field at fault.
        field: &'static str,
        /// What is wrong, for a person.
        message: String,
    },
    /// 503: the database is busy or unreachable, or the writer has stopped; retry later.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
    /// 500: anything else the database said. Logged, never shown.
    #[error(transparent)]
    Database(sqlx::Error),
}

impl Error {
    /// A 422 for `field`.
    pub fn invalid(field: &'static str, message: impl Into<String>) -> Error {
        Error::Invalid { index: None, field, message: message.into() }
    }

    /// The HTTP status this error is answered with, by any of Hearth's HTTP surfaces.
    pub fn status(&self) -> u16 {
        match self {
            Error::NotFound(_) => 404,
            Error::Conflict { .. } => 409,
            Error::Invalid { .. } => 422,
            Error::Unavailable(_) => 503,
            Error::Database(_) => 500,
        }
    }

    /// The field at fault, if one is.
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Error::Conflict { field, .. } | Error::Invalid { field, .. } => Some(field),
            _ => None,
        }
    }

    /// Whether the database was busy or down (rather than the request or the code wrong).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, Error::Unavailable(_))
    }
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Self {
        let unavailable = match &e {
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(d) => busy_or_down(d.as_ref()),
            _ => false,
        };
        match e {
            sqlx::Error::RowNotFound => Error::NotFound("row"),
            e if unavailable => Error::Unavailable(e.to_string()),
            e => Error::Database(e),
        }
    }
}

/// Whether a database error means "busy, down or full, try again": SQLite's SQLITE_BUSY (5),
/// SQLITE_LOCKED (6) and SQLITE_FULL (13) with their extended codes; PostgreSQL's connection
/// exceptions (class 08), shutdowns (57P01–57P03), a full disk (53100), lack of memory (53200)
/// and too many connections (53300).
fn busy_or_down(e: &dyn sqlx::error::DatabaseError) -> bool {
    let Some(code) = e.code() else { return false };
    if e.try_downcast_ref::<sqlx::postgres::PgDatabaseError>().is_some() {
        code.starts_with("08") || matches!(&*code, "57P01" | "57P02" | "57P03" | "53100" | "53200" | "53300")
    } else {
        code.parse::<i32>().is_ok_and(|c| matches!(c & 0xff, 5 | 6 | 13))
    }
}

/// Maps a unique-key violation of `e` to a 409 on `field` saying `message`; any other error
/// as [`From`] does.
pub(crate) fn on_conflict(e: sqlx::Error, field: &'static str, message: impl FnOnce() -> String) -> Error {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => Error::Conflict { field, message: message() },
        e => Error::from(e),
    }
}
