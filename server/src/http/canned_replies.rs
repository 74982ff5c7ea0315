//! `/v1/canned-replies/*`: the texts the YOT admin keeps for staff to put into chats.

use axum::extract::State;
use axum::http::StatusCode;
use talkzone_mobile_api::{CannedReplyList, CannedReplyRequest, CannedReplyView, ErrorBody};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath};
use crate::auth::AuthUser;
use crate::canned_replies;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_canned_replies, create_canned_reply))
        .routes(routes!(update_canned_reply, delete_canned_reply))
}

/// `GET /v1/canned-replies`: every canned reply, by title. Roles: duty_worker, supervisor,
/// yot_admin.
#[utoipa::path(get, path = "/v1/canned-replies", tag = "canned replies", security(("bearer" = [])),
    responses((status = 200, body = CannedReplyList), (status = 403, body = ErrorBody)))]
async fn list_canned_replies(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<CannedReplyList>> {
    Ok(ApiJson(canned_replies::list(&state, &user).await?))
}

/// `POST /v1/canned-replies`: add one (a unique title; only the variables `{worker_name}` and
/// `{young_person_name}`). Roles: yot_admin.
#[utoipa::path(post, path = "/v1/canned-replies", tag = "canned replies", security(("bearer" = [])),
    request_body = CannedReplyRequest,
    responses((status = 201, body = CannedReplyView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_canned_reply(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<CannedReplyRequest>,
) -> ApiResult<(StatusCode, ApiJson<CannedReplyView>)> {
    Ok((StatusCode::CREATED, ApiJson(canned_replies::create(&state, &user, req).await?)))
}

/// `PUT /v1/canned-replies/{id}`: replace its title and body. Roles: yot_admin.
#[utoipa::path(put, path = "/v1/canned-replies/{id}", tag = "canned replies", security(("bearer" = [])),
    request_body = CannedReplyRequest, params(("id" = String, Path, description = "canned reply id")),
    responses((status = 200, body = CannedReplyView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn update_canned_reply(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<CannedReplyRequest>,
) -> ApiResult<ApiJson<CannedReplyView>> {
    Ok(ApiJson(canned_replies::update(&state, &user, &id, req).await?))
}

/// `DELETE /v1/canned-replies/{id}`. Roles: yot_admin.
#[utoipa::path(delete, path = "/v1/canned-replies/{id}", tag = "canned replies", security(("bearer" = [])),
    params(("id" = String, Path, description = "canned reply id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_canned_reply(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    canned_replies::delete(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
