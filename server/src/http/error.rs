//! The HTTP edge of [`ApiError`]: its status, the `{"error": {"code", "message"}}` body and
//! `Retry-After`, and axum's extractor rejections mapped into it.

use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use talkzone_mobile_api::{ErrorBody, ErrorCode, ErrorDetail};

use crate::error::ApiError;

/// The HTTP status of an error.
pub fn status(e: &ApiError) -> StatusCode {
    if let ApiError::MethodNotAllowed = e {
        return StatusCode::METHOD_NOT_ALLOWED;
    }
    match e.code() {
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

/// Server errors are logged (with the detail the client never sees).
pub fn log(e: &ApiError) {
    if status(e).is_server_error() {
        tracing::error!(error = %e, "request failed");
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        log(&self);
        let body =
            ErrorBody { error: ErrorDetail { code: self.code(), message: self.public_message(), details: None } };
        let mut resp = (status(&self), axum::Json(body)).into_response();
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
