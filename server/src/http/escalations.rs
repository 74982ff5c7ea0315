//! `/v1/escalations/*` and raising one on a conversation.

use axum::extract::State;
use axum::http::StatusCode;
use talkzone_mobile_api::{
    AuditTrail, ConversationId, ErrorBody, EscalationActionRequest, EscalationList, EscalationListQuery,
    EscalationView, RaiseEscalationRequest, ResolveEscalationRequest,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::escalation;
use crate::state::AppState;
use crate::store::MAX_PAGE;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(raise_escalation))
        .routes(routes!(list_escalations))
        .routes(routes!(get_escalation))
        .routes(routes!(acknowledge_escalation))
        .routes(routes!(add_escalation_action))
        .routes(routes!(resolve_escalation))
        .routes(routes!(escalation_audit))
}

/// `POST /v1/conversations/{id}/escalations`: raise a safeguarding concern with a severity
/// (`medium`, `high`, `critical`) and reason; supervisors are alerted at once. Roles: the
/// assigned duty worker or a duty worker triaging it, supervisors.
#[utoipa::path(post, path = "/v1/conversations/{id}/escalations", tag = "escalations", security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id")), request_body = RaiseEscalationRequest,
    responses((status = 201, body = EscalationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn raise_escalation(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<RaiseEscalationRequest>,
) -> ApiResult<(StatusCode, ApiJson<EscalationView>)> {
    let v = escalation::raise(&state, &user, &ConversationId(id), &req.severity, &req.reason).await?;
    Ok((StatusCode::CREATED, ApiJson(v)))
}

/// `GET /v1/escalations`: newest first, in pages. Roles: supervisor, yot_admin.
#[utoipa::path(get, path = "/v1/escalations", tag = "escalations", security(("bearer" = [])), params(EscalationListQuery),
    responses((status = 200, body = EscalationList), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn list_escalations(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<EscalationListQuery>,
) -> ApiResult<ApiJson<EscalationList>> {
    let limit = q.limit.unwrap_or(MAX_PAGE);
    let (escalations, next_offset) =
        escalation::list(&state, &user, q.state.as_deref(), limit, q.offset.unwrap_or(0)).await?;
    Ok(ApiJson(EscalationList { escalations, next_offset }))
}

/// `GET /v1/escalations/{id}`. Roles: supervisor, yot_admin.
#[utoipa::path(get, path = "/v1/escalations/{id}", tag = "escalations", security(("bearer" = [])),
    params(("id" = String, Path, description = "escalation id")),
    responses((status = 200, body = EscalationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_escalation(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<EscalationView>> {
    Ok(ApiJson(escalation::get(&state, &user, &id).await?))
}

/// `POST /v1/escalations/{id}/acknowledge`: take it on (stops the deadline). Only one
/// supervisor can; the others get 409. Roles: supervisor.
#[utoipa::path(post, path = "/v1/escalations/{id}/acknowledge", tag = "escalations", security(("bearer" = [])),
    params(("id" = String, Path, description = "escalation id")),
    responses((status = 200, body = EscalationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn acknowledge_escalation(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<EscalationView>> {
    Ok(ApiJson(escalation::acknowledge(&state, &user, &id).await?))
}

/// `POST /v1/escalations/{id}/actions`: record what was done (`called_999`, `police`,
/// `mash_referral`, `parent_contacted`, …) with a note. Roles: supervisor.
#[utoipa::path(post, path = "/v1/escalations/{id}/actions", tag = "escalations", security(("bearer" = [])),
    params(("id" = String, Path, description = "escalation id")), request_body = EscalationActionRequest,
    responses((status = 200, body = EscalationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_escalation_action(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<EscalationActionRequest>,
) -> ApiResult<ApiJson<EscalationView>> {
    Ok(ApiJson(escalation::add_action(&state, &user, &id, &req.action, req.note.as_deref()).await?))
}

/// `POST /v1/escalations/{id}/resolve`: close it with an outcome. Roles: supervisor.
#[utoipa::path(post, path = "/v1/escalations/{id}/resolve", tag = "escalations", security(("bearer" = [])),
    params(("id" = String, Path, description = "escalation id")), request_body = ResolveEscalationRequest,
    responses((status = 200, body = EscalationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn resolve_escalation(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<ResolveEscalationRequest>,
) -> ApiResult<ApiJson<EscalationView>> {
    Ok(ApiJson(escalation::resolve(&state, &user, &id, &req.outcome, req.note.as_deref()).await?))
}

/// `GET /v1/escalations/{id}/audit`: every step, append-only. Roles: supervisor, yot_admin.
#[utoipa::path(get, path = "/v1/escalations/{id}/audit", tag = "escalations", security(("bearer" = [])),
    params(("id" = String, Path, description = "escalation id")),
    responses((status = 200, body = AuditTrail), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn escalation_audit(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<AuditTrail>> {
    Ok(ApiJson(escalation::audit_trail(&state, &user, &id).await?))
}
