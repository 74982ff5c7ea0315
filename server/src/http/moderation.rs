//! `/v1/reports` and `/v1/moderation/*`: the human moderation queue.

use axum::extract::State;
use axum::http::StatusCode;
use talkzone_mobile_api::{
    AppealDecisionRequest, AppealRequest, BulkDecisionRequest, BulkDecisionResult, DecisionRequest, ErrorBody,
    ModerationContext, ModerationItemView, ModerationLog, ModerationQueue, ReportReceipt, ReportRequest,
    UserActionRequest,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath};
use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::moderation_queue as mq;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_report))
        .routes(routes!(moderation_queue))
        .routes(routes!(claim_item))
        .routes(routes!(item_context))
        .routes(routes!(decide_item))
        .routes(routes!(decide_bulk))
        .routes(routes!(appeal_item))
        .routes(routes!(decide_appeal))
        .routes(routes!(act_on_user))
        .routes(routes!(moderation_log))
}

/// `POST /v1/reports`: report a room message you can see, or a user you share a room with
/// (moderators and supervisors: anyone), with a reason; the reported text is kept with the
/// report. The same report again while the first is open returns the first. A message of a
/// 1:1 support chat never reaches moderators: its young person's report goes to a supervisor
/// as an escalation (`state` `sent_to_supervisor`, with a `message` to show); staff get 422
/// and are told to raise an escalation. At most 10 reports at once and 20 an hour (429).
/// Roles: any signed-in user.
#[utoipa::path(post, path = "/v1/reports", tag = "moderation", security(("bearer" = [])), request_body = ReportRequest,
    responses((status = 201, body = ReportReceipt), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn create_report(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<ReportRequest>,
) -> ApiResult<(StatusCode, ApiJson<ReportReceipt>)> {
    Ok((StatusCode::CREATED, ApiJson(mq::report(&state, &user, req).await?)))
}

/// `GET /v1/moderation/queue`: open items and requested appeals, most severe first, then
/// oldest, each with its age against the service level. Roles: moderator, supervisor.
#[utoipa::path(get, path = "/v1/moderation/queue", tag = "moderation", security(("bearer" = [])),
    responses((status = 200, body = ModerationQueue), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn moderation_queue(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<ModerationQueue>> {
    Ok(ApiJson(mq::queue(&state, &user, "queue").await?))
}

/// `POST /v1/moderation/items/{id}/claim`: take an item for 5 minutes; others cannot decide it
/// meanwhile. Roles: moderator, supervisor.
#[utoipa::path(post, path = "/v1/moderation/items/{id}/claim", tag = "moderation", security(("bearer" = [])),
    params(("id" = String, Path, description = "item id")),
    responses((status = 200, body = ModerationItemView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn claim_item(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<ModerationItemView>> {
    Ok(ApiJson(mq::claim(&state, &user, &id).await?))
}

/// `GET /v1/moderation/items/{id}/context`: the messages around the item's message (three each
/// side; before a held one, what was said up to it), as far as the caller may read its
/// conversation. Roles: moderator, supervisor.
#[utoipa::path(get, path = "/v1/moderation/items/{id}/context", tag = "moderation", security(("bearer" = [])),
    params(("id" = String, Path, description = "item id")),
    responses((status = 200, body = ModerationContext), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn item_context(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<ModerationContext>> {
    Ok(ApiJson(mq::context(&state, &user, &id).await?))
}

/// `POST /v1/moderation/items/{id}/decision`: approve, redact (with `body`) or reject a held
/// message; remove or dismiss a report. Roles: moderator, supervisor.
#[utoipa::path(post, path = "/v1/moderation/items/{id}/decision", tag = "moderation", security(("bearer" = [])),
    params(("id" = String, Path, description = "item id")), request_body = DecisionRequest,
    responses((status = 200, body = ModerationItemView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide_item(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<DecisionRequest>,
) -> ApiResult<ApiJson<ModerationItemView>> {
    Ok(ApiJson(mq::decide(&state, &user, &id, req).await?))
}

/// `POST /v1/moderation/bulk`: one decision for up to 500 items. Roles: moderator, supervisor.
#[utoipa::path(post, path = "/v1/moderation/bulk", tag = "moderation", security(("bearer" = [])),
    request_body = BulkDecisionRequest,
    responses((status = 200, body = BulkDecisionResult), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn decide_bulk(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<BulkDecisionRequest>,
) -> ApiResult<ApiJson<BulkDecisionResult>> {
    Ok(ApiJson(mq::bulk(&state, &user, req).await?))
}

/// `POST /v1/moderation/items/{id}/appeal`: ask once for a decision about you to be reviewed
/// by a different moderator. Roles: the sender of the message or the reported user.
#[utoipa::path(post, path = "/v1/moderation/items/{id}/appeal", tag = "moderation", security(("bearer" = [])),
    params(("id" = String, Path, description = "item id")), request_body = AppealRequest,
    responses((status = 200, body = ReportReceipt), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn appeal_item(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<AppealRequest>,
) -> ApiResult<ApiJson<ReportReceipt>> {
    Ok(ApiJson(mq::appeal(&state, &user, &id, &req.reason).await?))
}

/// `POST /v1/moderation/items/{id}/appeal/decision`: uphold or overturn. Roles: moderator,
/// supervisor, other than the one who made the first decision.
#[utoipa::path(post, path = "/v1/moderation/items/{id}/appeal/decision", tag = "moderation", security(("bearer" = [])),
    params(("id" = String, Path, description = "item id")), request_body = AppealDecisionRequest,
    responses((status = 200, body = ModerationItemView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn decide_appeal(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<AppealDecisionRequest>,
) -> ApiResult<ApiJson<ModerationItemView>> {
    Ok(ApiJson(mq::decide_appeal(&state, &user, &id, req).await?))
}

/// `POST /v1/moderation/users/{id}/actions`: warn, mute (rooms only, for `duration_s`),
/// unmute, suspend (ends open sessions at once), unsuspend; with a reason, logged.
/// Roles: moderator, supervisor; targets young people and parents/carers.
#[utoipa::path(post, path = "/v1/moderation/users/{id}/actions", tag = "moderation", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")), request_body = UserActionRequest,
    responses((status = 200, description = "done"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn act_on_user(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<UserActionRequest>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    mq::act_on_user(&state, &user, &id, req).await?;
    Ok(ApiJson(serde_json::json!({})))
}

/// `GET /v1/moderation/log`: every decision, newest first. Roles: moderator, supervisor,
/// yot_admin.
#[utoipa::path(get, path = "/v1/moderation/log", tag = "moderation", security(("bearer" = [])),
    responses((status = 200, body = ModerationLog), (status = 403, body = ErrorBody)))]
async fn moderation_log(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<ModerationLog>> {
    Ok(ApiJson(mq::log(&state, &user).await?))
}
