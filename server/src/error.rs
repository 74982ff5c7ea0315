//! The server's one error type, mapped once to the protocol's error shapes: an HTTP body
//! `{"error": {"code", "message"}}` with a status, or a WebSocket `error` frame.

use std::time::Duration;

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use talkzone_mobile_api::{ErrorBody, ErrorCode, ErrorDetail, ServerFrame};

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
            ApiError::RateLimited { .. } => ErrorCode::RateLimited,
            ApiError::TooLarge(_) => ErrorCode::TooLarge,
            ApiError::Unavailable(_) => ErrorCode::Unavailable,
            ApiError::Store(e) if e.is_unavailable() => ErrorCode::Unavailable,
            ApiError::Store(_) | ApiError::Internal(_) => ErrorCode::Internal,
        }
    }

    pub fn status(&self) -> StatusCode {
        if let ApiError::MethodNotAllowed = self {
            return StatusCode::METHOD_NOT_ALLOWED;
        }
        match self.code() {
            ErrorCode::BadRequest | ErrorCode::BadFrame => StatusCode::BAD_REQUEST,
            ErrorCode::ValidationFailed => StatusCode::UNPROCESSABLE_ENTITY,
            ErrorCode::Unauthorized => StatusCode::UNAUTHORIZED,
            ErrorCode::Forbidden => StatusCode::FORBIDDEN,
            ErrorCode::NotFound => StatusCode::NOT_FOUND,
            ErrorCode::Conflict | ErrorCode::AlreadyAssigned => StatusCode::CONFLICT,
            ErrorCode::RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ErrorCode::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            ErrorCode::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            ErrorCode::Internal => StatusCode::INTERNAL_SERVER_ERROR,
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
            ApiError::RateLimited { retry_after } => Some(*retry_after),
            ApiError::Unavailable(_) => Some(Duration::from_secs(1)),
            ApiError::Store(e) if e.is_unavailable() => Some(Duration::from_secs(1)),
            _ => None,
        }
    }

    fn log(&self) {
        if self.status().is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
    }

    /// The WebSocket `error` frame for this error, answering `reference`.
    pub fn to_frame(&self, reference: Option<String>) -> ServerFrame {
        self.log();
        ServerFrame::Error {
            code: self.code(),
            message: self.public_message(),
            retry_after_ms: self.retry_after().map(|d| d.as_millis().max(1) as u64),
            reference,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let body =
            ErrorBody { error: ErrorDetail { code: self.code(), message: self.public_message(), details: None } };
        let mut resp = (self.status(), axum::Json(body)).into_response();
        if let Some(d) = self.retry_after() {
            // Whole seconds, rounded up: a client never retries too early.
            let secs = d.as_millis().div_ceil(1000).max(1);
            if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
                resp.headers_mut().insert(header::RETRY_AFTER, v);
            }
        }
        resp
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r.status() {
            StatusCode::PAYLOAD_TOO_LARGE => ApiError::TooLarge("request body is too large".into()),
            StatusCode::UNPROCESSABLE_ENTITY => ApiError::Validation(r.body_text()),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                ApiError::BadRequest("send the body as JSON with Content-Type: application/json".into())
            }
            _ => ApiError::BadRequest(r.body_text()),
        }
    }
}

impl From<QueryRejection> for ApiError {
    fn from(r: QueryRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

impl From<PathRejection> for ApiError {
    fn from(r: PathRejection) -> Self {
        ApiError::BadRequest(r.body_text())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
