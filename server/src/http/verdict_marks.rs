//! `POST /v1/messages/{id}/verdict-mark`, `GET /v1/admin/verdict-marks/report` and
//! `GET /v1/admin/verdict-marks/export`: staff marks on moderation verdicts (`verdict_marks`).

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use talkzone_mobile_api::{ErrorBody, MessageId, VerdictMarkReport, VerdictMarkRequest, VerdictMarkView};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath};
use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::verdict_marks;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(mark_verdict)).routes(routes!(marks_report)).routes(routes!(marks_export))
}

/// `POST /v1/messages/{id}/verdict-mark`: the moderation verdict on this message was wrong
/// (missed a risk, or saw one that is not there), and what it should have been. The caller's
/// earlier mark on the message is replaced. Roles: duty_worker, supervisor, moderator, on a
/// message they may read (others: 404).
#[utoipa::path(post, path = "/v1/messages/{id}/verdict-mark", tag = "moderation", security(("bearer" = [])),
    params(("id" = String, Path, description = "message id")), request_body = VerdictMarkRequest,
    responses((status = 201, body = VerdictMarkView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn mark_verdict(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<VerdictMarkRequest>,
) -> ApiResult<(StatusCode, ApiJson<VerdictMarkView>)> {
    Ok((StatusCode::CREATED, ApiJson(verdict_marks::mark(&state, &user, &MessageId(id), req).await?)))
}

/// `GET /v1/admin/verdict-marks/report`: recall and false positives per category of the
/// classifier in force on the messages staff marked, and the marks per month. Roles: yot_admin.
#[utoipa::path(get, path = "/v1/admin/verdict-marks/report", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = VerdictMarkReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn marks_report(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<VerdictMarkReport>> {
    Ok(ApiJson(verdict_marks::report(&state, &user).await?))
}

/// `GET /v1/admin/verdict-marks/export`: the marked messages as JSON Lines
/// (`{"id","text","labels","severity","pii","note"}`), for retraining; audited. Roles: yot_admin.
#[utoipa::path(get, path = "/v1/admin/verdict-marks/export", tag = "admin", security(("bearer" = [])),
    responses((status = 200, content_type = "application/x-ndjson", body = String), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
async fn marks_export(State(state): State<AppState>, user: AuthUser) -> ApiResult<impl IntoResponse> {
    let body = verdict_marks::export(&state, &user).await?;
    Ok(([(header::CONTENT_TYPE, "application/x-ndjson; charset=utf-8")], body))
}
