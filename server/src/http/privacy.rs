//! `/v1/me/export`, `DELETE /v1/me`, safeguarding holds and the admin's audit log.

use axum::extract::State;
use talkzone_mobile_api::{
    AuditQuery, AuditTrail, ConversationId, DataExport, DeletionReceipt, ErrorBody, HoldRequest, HoldState,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::privacy;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(export_my_data))
        .routes(routes!(delete_me))
        .routes(routes!(place_hold))
        .routes(routes!(lift_hold))
        .routes(routes!(audit_log))
}

/// `GET /v1/me/export`: everything held about the caller that is theirs: account, support
/// chats with all messages, messages sent in rooms (not staff notes or escalation records).
/// Roles: any signed-in user.
#[utoipa::path(get, path = "/v1/me/export", tag = "privacy", security(("bearer" = [])),
    responses((status = 200, description = "JSON download (`Content-Disposition: attachment`)", body = DataExport),
        (status = 401, body = ErrorBody)))]
async fn export_my_data(State(state): State<AppState>, user: AuthUser) -> ApiResult<impl axum::response::IntoResponse> {
    let data = privacy::export(&state, &user).await?;
    Ok(([(axum::http::header::CONTENT_DISPOSITION, "attachment; filename=\"talkzone-my-data.json\"")], ApiJson(data)))
}

/// `DELETE /v1/me`: delete the caller's account and data, except what a safeguarding hold
/// keeps (said plainly in the answer). Roles: young_person, parent_carer.
#[utoipa::path(delete, path = "/v1/me", tag = "privacy", security(("bearer" = [])),
    responses((status = 200, body = DeletionReceipt), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn delete_me(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<DeletionReceipt>> {
    Ok(ApiJson(privacy::erase(&state, &user).await?))
}

/// `POST /v1/conversations/{id}/hold`: keep a conversation past retention and deletion
/// requests, with a reason. Roles: supervisor.
#[utoipa::path(post, path = "/v1/conversations/{id}/hold", tag = "privacy", security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id")), request_body = HoldRequest,
    responses((status = 200, description = "placed", body = HoldState), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn place_hold(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<HoldRequest>,
) -> ApiResult<ApiJson<HoldState>> {
    privacy::set_hold(&state, &user, &ConversationId(id), true, &req.reason).await?;
    Ok(ApiJson(HoldState { hold: true }))
}

/// `POST /v1/conversations/{id}/hold/release`: lift a hold, with a reason. Roles: supervisor.
#[utoipa::path(post, path = "/v1/conversations/{id}/hold/release", tag = "privacy", security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id")), request_body = HoldRequest,
    responses((status = 200, description = "lifted", body = HoldState), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn lift_hold(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<HoldRequest>,
) -> ApiResult<ApiJson<HoldState>> {
    privacy::set_hold(&state, &user, &ConversationId(id), false, &req.reason).await?;
    Ok(ApiJson(HoldState { hold: false }))
}

/// `GET /v1/admin/audit?days=`: the append-only audit log, including who read which young
/// person's conversation and when. Roles: yot_admin.
#[utoipa::path(get, path = "/v1/admin/audit", tag = "privacy", security(("bearer" = [])), params(AuditQuery),
    responses((status = 200, body = AuditTrail), (status = 403, body = ErrorBody)))]
async fn audit_log(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> ApiResult<ApiJson<AuditTrail>> {
    Ok(ApiJson(privacy::audit_log(&state, &user, q.days).await?))
}
