//! The server's one domain error type, free of HTTP: each variant names what went wrong and
//! its protocol [`ErrorCode`]. It becomes a response once, at each edge: an HTTP body
//! `{"error": {"code", "message"}}` with a status (`http::error`), or a WebSocket `error`
//! frame (`ws::error_frame`).

use std::time::Duration;

use talkzone_mobile_api::ErrorCode;

use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("this route does not accept that method")]
    MethodNotAllowed,
    #[error("{0}")]
    Validation(String),
    #[error("{0}")]
    Unauthorized(&'static str),
    #[error("{0}")]
    Forbidden(&'static str),
    /// Forbidden, with a message made for this case (e.g. until when a mute lasts).
    #[error("{0}")]
    ForbiddenBecause(String),
    /// Also used for things that exist but are not the caller's: a denial leaks nothing.
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    #[error("this conversation has already been accepted by another worker")]
    AlreadyAssigned,
    #[error("too many requests; try again in {} ms", retry_after.as_millis())]
    RateLimited { retry_after: Duration },
    /// Rate limited, with a message made for the person (where to get help meanwhile).
    #[error("{message}")]
    RateLimitedBecause { message: String, retry_after: Duration },
    #[error("{0}")]
    TooLarge(String),
    #[error("{0}")]
    Unavailable(String),
    #[error("storage: {0}")]
    Store(#[from] StoreError),
    #[error("internal: {0}")]
    Internal(String),
}

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::BadRequest(_) | ApiError::MethodNotAllowed => ErrorCode::BadRequest,
            ApiError::Validation(_) => ErrorCode::ValidationFailed,
            ApiError::Unauthorized(_) => ErrorCode::Unauthorized,
            ApiError::Forbidden(_) | ApiError::ForbiddenBecause(_) => ErrorCode::Forbidden,
            ApiError::NotFound => ErrorCode::NotFound,
            ApiError::Conflict(_) | ApiError::Store(StoreError::Conflict(_)) => ErrorCode::Conflict,
            ApiError::AlreadyAssigned => ErrorCode::AlreadyAssigned,
            ApiError::RateLimited { .. } | ApiError::RateLimitedBecause { .. } => ErrorCode::RateLimited,
            ApiError::TooLarge(_) => ErrorCode::TooLarge,
            ApiError::Unavailable(_) => ErrorCode::Unavailable,
            ApiError::Store(e) if e.is_unavailable() => ErrorCode::Unavailable,
            ApiError::Store(_) | ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    /// What the client is told: never a database message or a stack trace.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::Store(StoreError::Conflict(what)) => (*what).to_owned(),
            ApiError::Unavailable(_) => "the service is briefly unavailable; please try again".to_owned(),
            ApiError::Store(e) if e.is_unavailable() => {
                "the service is briefly unavailable; please try again".to_owned()
            }
            ApiError::Store(_) | ApiError::Internal(_) => "something went wrong on our side".to_owned(),
            other => other.to_string(),
        }
    }

    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ApiError::RateLimited { retry_after } | ApiError::RateLimitedBecause { retry_after, .. } => {
                Some(*retry_after)
            }
            ApiError::Unavailable(_) => Some(Duration::from_secs(1)),
            ApiError::Store(e) if e.is_unavailable() => Some(Duration::from_secs(1)),
            _ => None,
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
