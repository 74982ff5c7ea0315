//! `/v1/me`, duty status and WebSocket tickets.

use axum::extract::State;
use talkzone_mobile_api::{DutyRequest, DutyView, ErrorBody, PasswordChange, UserView, WsTicketResponse};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::ApiJson;
use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(me))
        .routes(routes!(set_duty))
        .routes(routes!(create_ws_ticket))
        .routes(routes!(change_password))
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
    state.hub.publish(crate::realtime::Event::DisconnectUser { user_id: user.id.clone() });
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
async fn create_ws_ticket(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<WsTicketResponse>> {
    Ok(ApiJson(state.auth.issue_ticket(&user).await?))
}
