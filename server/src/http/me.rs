//! `/v1/me`: the caller, their sessions, password, duty status and WebSocket tickets.

use axum::extract::State;
use axum::http::StatusCode;
use talkzone_mobile_api::{
    DutyRequest, DutyView, ErrorBody, PasswordChange, SessionList, SessionsEnded, UserView, WsTicketResponse,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath};
use crate::auth::{end_reason, AuthUser, Authenticated};
use crate::error::ApiResult;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(set_duty))
        .routes(routes!(create_ws_ticket))
        .routes(routes!(change_password))
        .routes(routes!(list_my_sessions, end_my_other_sessions))
        .routes(routes!(end_my_session))
}

/// `GET /v1/me/sessions`: the caller's live sessions (one per sign-in), newest first, with the
/// caller's own marked `current`. Roles: any signed-in user.
#[utoipa::path(get, path = "/v1/me/sessions", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = SessionList)))]
async fn list_my_sessions(State(state): State<AppState>, caller: Authenticated) -> ApiResult<ApiJson<SessionList>> {
    let sessions = state.auth.sessions_of(caller.user.id.as_str()).await?;
    let sessions = sessions.iter().map(|s| crate::auth::session_view(s, Some(&caller.session_id))).collect();
    Ok(ApiJson(SessionList { sessions }))
}

/// `DELETE /v1/me/sessions`: ends every session of the caller but the current one (their
/// tokens refused, their sockets closed). Roles: any signed-in user.
#[utoipa::path(delete, path = "/v1/me/sessions", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = SessionsEnded)))]
async fn end_my_other_sessions(
    State(state): State<AppState>,
    caller: Authenticated,
) -> ApiResult<ApiJson<SessionsEnded>> {
    let uid = caller.user.id.as_str();
    let ended = state.auth.end_other_sessions(uid, Some(&caller.session_id), end_reason::ENDED_BY_USER, None).await?;
    Ok(ApiJson(SessionsEnded { ended }))
}

/// `DELETE /v1/me/sessions/{id}`: ends one of the caller's sessions (it may be the current
/// one): its tokens are refused and its sockets close at once. `404` for a session that is not
/// the caller's or has ended. Roles: any signed-in user.
#[utoipa::path(delete, path = "/v1/me/sessions/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = String, Path, description = "session id")),
    responses((status = 204, description = "ended"), (status = 404, body = ErrorBody)))]
async fn end_my_session(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.auth.end_session(caller.user.id.as_str(), &id, end_reason::ENDED_BY_USER, None).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/me/password`: change your password; every session ends (tokens refused, sockets
/// closed). Roles: accounts with a password.
#[utoipa::path(post, path = "/v1/me/password", tag = "me", security(("bearer" = [])), request_body = PasswordChange,
    responses((status = 200, description = "changed; sign in again"), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    state.auth.change_password(&user, &req.current_password, &req.new_password).await?;
    Ok(ApiJson(serde_json::json!({})))
}

/// `GET /v1/me`: the caller. Roles: any signed-in user.
#[utoipa::path(get, path = "/v1/me", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = UserView), (status = 401, body = ErrorBody)))]
async fn me(user: AuthUser) -> ApiJson<UserView> {
    ApiJson(user.view())
}

/// `PUT /v1/me/duty`: go on or off duty. Roles: duty_worker, supervisor.
#[utoipa::path(put, path = "/v1/me/duty", tag = "me", security(("bearer" = [])), request_body = DutyRequest,
    responses((status = 200, body = DutyView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn set_duty(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<DutyRequest>,
) -> ApiResult<ApiJson<DutyView>> {
    let on_duty = crate::desk::set_duty(&state, &user, req.on_duty).await?;
    Ok(ApiJson(DutyView { on_duty }))
}

/// `POST /v1/ws-ticket`: a single-use ticket (30 s) for a browser to open `/v1/ws?ticket=`.
/// Roles: any signed-in user.
#[utoipa::path(post, path = "/v1/ws-ticket", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = WsTicketResponse), (status = 401, body = ErrorBody)))]
async fn create_ws_ticket(
    State(state): State<AppState>,
    caller: Authenticated,
) -> ApiResult<ApiJson<WsTicketResponse>> {
    Ok(ApiJson(state.auth.issue_ticket(&caller).await?))
}
