//! The one error type of the service. Each kind has a stable problem `type`, an HTTP status and a
//! title, all defined in `AppError::kind_info`; the HTTP rendering lives in `api::problem`.

use crate::domain::validation::FieldError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The body or a parameter is well-formed but some fields are wrong.
    #[error("{} field(s) are invalid", .0.len())]
    Validation(Vec<FieldError>),
    /// The request cannot be parsed at all (malformed JSON, bad query string, bad header).
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    Unauthorized(String),
    /// A known token that no longer works, and why (the problem type says which).
    #[error("{0}")]
    TokenRejected(TokenRejection),
    #[error("{0}")]
    Forbidden(String),
    /// A write authenticated by a session cookie came without its session's CSRF token.
    #[error("{0}")]
    CsrfRejected(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("{0}")]
    Conflict(String),
    /// The case's state machine does not allow the action now (409, naming the state and the
    /// actions that are possible).
    #[error(transparent)]
    IllegalTransition(#[from] crate::domain::workflow::IllegalTransition),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The change would alter the numbers of a published (locked) annual report.
    #[error("{0}")]
    ReportLocked(String),
    /// If-Match names a version of the resource that is no longer current.
    #[error("{0}")]
    PreconditionFailed(String),
    /// A state-changing request came without If-Match.
    #[error("{0}")]
    PreconditionRequired(String),
    /// An Idempotency-Key was reused with a different request body.
    #[error("{0}")]
    IdempotencyKeyReused(String),
    /// The database cannot be reached or is overloaded.
    #[error("{0}")]
    Unavailable(String),
    /// A rate limit: the client may try again after `retry_after_seconds`.
    #[error("{detail}")]
    TooManyRequests { detail: String, retry_after_seconds: u64 },
    /// A bug or an unexpected failure: the detail goes to the log, never to the client.
    #[error("internal error: {0}")]
    Internal(String),
}

/// Why a known token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TokenRejection {
    #[error("the token was revoked; ask for a new one")]
    Revoked,
    #[error("the token has expired; ask for a new one")]
    Expired,
    #[error("the account this token belongs to was deactivated")]
    Deactivated,
    #[error("the session has ended (signed out, timed out, or its password changed); sign in again")]
    SessionEnded,
}

pub struct KindInfo {
    pub slug: &'static str,
    pub status: u16,
    pub title: &'static str,
}

impl AppError {
    pub fn kind_info(&self) -> KindInfo {
        let (slug, status, title) = match self {
            AppError::Validation(_) => ("validation", 422, "The request has invalid fields"),
            AppError::BadRequest(_) => ("bad-request", 400, "The request could not be understood"),
            AppError::Unauthorized(_) => ("unauthorized", 401, "Authentication is required"),
            AppError::TokenRejected(TokenRejection::Revoked) => ("token-revoked", 401, "The token was revoked"),
            AppError::TokenRejected(TokenRejection::Expired) => ("token-expired", 401, "The token has expired"),
            AppError::TokenRejected(TokenRejection::Deactivated) => {
                ("account-deactivated", 401, "The account was deactivated")
            }
            AppError::TokenRejected(TokenRejection::SessionEnded) => ("session-ended", 401, "The session has ended"),
            AppError::CsrfRejected(_) => ("csrf", 403, "The CSRF token is missing or wrong"),
            AppError::Forbidden(_) => ("forbidden", 403, "Not allowed"),
            AppError::NotFound(_) => ("not-found", 404, "Not found"),
            AppError::MethodNotAllowed(_) => ("method-not-allowed", 405, "Method not allowed"),
            AppError::Conflict(_) => ("conflict", 409, "Conflict with the current state"),
            AppError::IllegalTransition(_) => ("illegal-transition", 409, "Not possible in the case's current state"),
            AppError::PreconditionFailed(_) => ("precondition-failed", 412, "The resource has changed"),
            AppError::ReportLocked(_) => ("report-locked", 409, "A published annual report would change"),
            AppError::PreconditionRequired(_) => ("precondition-required", 428, "If-Match is required"),
            AppError::PayloadTooLarge(_) => ("payload-too-large", 413, "The request body is too large"),
            AppError::UnsupportedMediaType(_) => ("unsupported-media-type", 415, "Unsupported media type"),
            AppError::IdempotencyKeyReused(_) => {
                ("idempotency-key-reused", 422, "Idempotency-Key reused for another request")
            }
            AppError::Unavailable(_) => ("unavailable", 503, "The service is temporarily unavailable"),
            AppError::TooManyRequests { .. } => ("too-many-requests", 429, "Too many requests"),
            AppError::Internal(_) => ("internal", 500, "Internal error"),
        };
        KindInfo { slug, status, title }
    }

    /// The problem `type` URI for a slug.
    pub fn type_uri(slug: &str) -> String {
        format!("urn:foi-tracker:problem:{slug}")
    }

    pub fn validation(path: &str, message: impl Into<String>) -> AppError {
        AppError::Validation(vec![FieldError::new(path, message)])
    }

    pub fn internal(e: impl std::fmt::Display) -> AppError {
        AppError::Internal(e.to_string())
    }
}

impl From<diesel::result::Error> for AppError {
    /// A fault of the database's surroundings (it is unreachable, restarting, locked, out of disk,
    /// read-only) is 503: the request may succeed if retried. Anything else is a bug: 500.
    fn from(e: diesel::result::Error) -> Self {
        let text = error_chain(&e);
        if is_database_unavailable(&e) {
            AppError::Unavailable(format!("the database cannot serve the request now: {text}"))
        } else {
            AppError::Internal(format!("database: {text}"))
        }
    }
}

/// Whether a database error is the database being unavailable rather than a wrong query.
pub fn is_database_unavailable(e: &diesel::result::Error) -> bool {
    use diesel::result::{DatabaseErrorKind, Error};
    match e {
        Error::DatabaseError(
            DatabaseErrorKind::ClosedConnection
            | DatabaseErrorKind::UnableToSendCommand
            | DatabaseErrorKind::ReadOnlyTransaction,
            _,
        ) => true,
        Error::DatabaseError(_, info) => {
            let message = info.message().to_ascii_lowercase();
            [
                // SQLite: SQLITE_BUSY / SQLITE_LOCKED, SQLITE_FULL, SQLITE_READONLY, SQLITE_IOERR,
                // SQLITE_CANTOPEN.
                "database is locked",
                "database table is locked",
                "database or disk is full",
                "readonly database",
                "disk i/o error",
                "unable to open database file",
                // PostgreSQL: disk full (53100), shutdown and recovery (57P0x), lost connections.
                "no space left on device",
                "could not extend file",
                "terminating connection",
                "the database system is",
                "server closed the connection",
                "connection to server",
                "could not write to file",
            ]
            .iter()
            .any(|fault| message.contains(fault))
        }
        Error::BrokenTransactionManager => true,
        _ => false,
    }
}

impl From<diesel::r2d2::PoolError> for AppError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        AppError::Unavailable(format!("no database connection available: {e}"))
    }
}

impl From<Vec<FieldError>> for AppError {
    fn from(errors: Vec<FieldError>) -> Self {
        AppError::Validation(errors)
    }
}

impl From<FieldError> for AppError {
    fn from(error: FieldError) -> Self {
        AppError::Validation(vec![error])
    }
}

impl From<crate::domain::decide::Refusal> for AppError {
    fn from(refusal: crate::domain::decide::Refusal) -> Self {
        use crate::domain::decide::Refusal;
        match refusal {
            Refusal::Forbidden(message) => AppError::Forbidden(message),
            Refusal::Invalid(errors) => AppError::Validation(errors),
            Refusal::Conflict(message) => AppError::Conflict(message),
        }
    }
}

/// An error with its causes, `outer: inner: ...` (diesel names the field, its source the value).
pub fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use diesel::result::{DatabaseErrorKind, Error};

    fn database(kind: DatabaseErrorKind, message: &str) -> Error {
        Error::DatabaseError(kind, Box::new(message.to_owned()))
    }

    #[test]
    fn faults_of_the_database_are_503_and_bugs_stay_500() {
        let unavailable = [
            database(DatabaseErrorKind::ClosedConnection, "server closed the connection unexpectedly"),
            database(DatabaseErrorKind::UnableToSendCommand, "no connection to the server"),
            database(DatabaseErrorKind::ReadOnlyTransaction, "cannot execute INSERT in a read-only transaction"),
            database(DatabaseErrorKind::Unknown, "database is locked"),
            database(DatabaseErrorKind::Unknown, "database or disk is full"),
            database(DatabaseErrorKind::Unknown, "attempt to write a readonly database"),
            database(DatabaseErrorKind::Unknown, "disk I/O error"),
            database(DatabaseErrorKind::Unknown, "could not extend file \"base/1/2\": No space left on device"),
            database(DatabaseErrorKind::Unknown, "terminating connection due to administrator command"),
            database(DatabaseErrorKind::Unknown, "the database system is shutting down"),
            Error::BrokenTransactionManager,
        ];
        for e in unavailable {
            let text = e.to_string();
            assert!(matches!(AppError::from(e), AppError::Unavailable(_)), "{text}");
        }
        let bugs = [
            database(DatabaseErrorKind::Unknown, "syntax error at or near \"SELCT\""),
            database(DatabaseErrorKind::UniqueViolation, "duplicate key value"),
            database(DatabaseErrorKind::Unknown, "database disk image is malformed"),
            Error::NotFound,
        ];
        for e in bugs {
            let text = e.to_string();
            assert!(matches!(AppError::from(e), AppError::Internal(_)), "{text}");
        }
    }
}
