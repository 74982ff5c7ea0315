//! `/v1/me`: the caller, their sessions, password, duty status and WebSocket tickets.

use axum::extract::State;
use axum::http::StatusCode;
use talkzone_mobile_api::{
    DutyRequest, DutyView, ErrorBody, PasskeyList, PasskeyRegistrationFinish, PasskeyRegistrationStarted, PasskeyView,
    PasswordChange, SessionList, SessionsEnded, UserView, WsTicketResponse,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath, SignInFrom};
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
        .routes(routes!(list_my_passkeys, add_my_passkey))
        .routes(routes!(start_passkey_registration))
        .routes(routes!(remove_my_passkey))
}

/// `GET /v1/me/passkeys`: the caller's passkeys (name, when added, when last used; never a key).
/// Roles: staff (duty_worker, supervisor, moderator, yot_admin).
#[utoipa::path(get, path = "/v1/me/passkeys", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = PasskeyList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_my_passkeys(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<PasskeyList>> {
    Ok(ApiJson(PasskeyList { passkeys: state.auth.passkeys_of(&user).await? }))
}

/// `POST /v1/me/passkeys/registration`: starts adding a passkey: the options for
/// `navigator.credentials.create` and the registration's token (single use, 5 minutes). `503`
/// when this server's origin allows no passkeys. Roles: staff.
#[utoipa::path(post, path = "/v1/me/passkeys/registration", tag = "me", security(("bearer" = [])),
    responses((status = 200, body = PasskeyRegistrationStarted), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
async fn start_passkey_registration(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<ApiJson<PasskeyRegistrationStarted>> {
    Ok(ApiJson(state.auth.start_passkey_registration(&user).await?))
}

/// `POST /v1/me/passkeys`: finishes adding a passkey with the authenticator's answer; audited
/// (`passkey_added`). `400` for a registration unknown, used or expired, or an answer that does
/// not verify; `409` for an authenticator registered already; `422` for a name that is empty or
/// too long. Roles: staff.
#[utoipa::path(post, path = "/v1/me/passkeys", tag = "me", security(("bearer" = [])),
    request_body = PasskeyRegistrationFinish,
    responses((status = 201, body = PasskeyView), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
async fn add_my_passkey(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<PasskeyRegistrationFinish>,
) -> ApiResult<(StatusCode, ApiJson<PasskeyView>)> {
    let view = state.auth.finish_passkey_registration(&user, &req.registration, &req.name, req.credential).await?;
    Ok((StatusCode::CREATED, ApiJson(view)))
}

/// `DELETE /v1/me/passkeys/{id}`: removes one of the caller's passkeys; audited
/// (`passkey_removed`). `404` for one that is not the caller's. Roles: staff.
#[utoipa::path(delete, path = "/v1/me/passkeys/{id}", tag = "me", security(("bearer" = [])),
    params(("id" = String, Path, description = "passkey id")),
    responses((status = 204, description = "removed"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn remove_my_passkey(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.auth.remove_passkey(&user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
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
/// closed). Limited like sign-ins: per client IP, and wrong current passwords per account and
/// source with growing waits (429). Roles: accounts with a password.
#[utoipa::path(post, path = "/v1/me/password", tag = "me", security(("bearer" = [])), request_body = PasswordChange,
    responses((status = 200, description = "changed; sign in again"), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn change_password(
    State(state): State<AppState>,
    user: AuthUser,
    SignInFrom { ip, context }: SignInFrom,
    ApiJson(req): ApiJson<PasswordChange>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    state.limits.check_auth_ip(ip)?;
    state.auth.change_password(&user, &req.current_password, &req.new_password, &context).await?;
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
