//! `/v1/admin/*`: account management for `yot_admin`.

use axum::extract::State;
use axum::http::StatusCode;
use talkzone_mobile_api::{
    AccountActionRequest, Capacity, CreateUserRequest, ErrorBody, PasswordResetIssued, Role, RoleChangeRequest,
    SessionList, SessionsEnded, StaffAccount, StaffAccountList, UserView,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath};
use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::state::AppState;
use crate::store::AccountChange;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_staff, create_user))
        .routes(routes!(set_capacity))
        .routes(routes!(list_user_sessions, end_user_sessions))
        .routes(routes!(end_user_session))
        .routes(routes!(suspend_user))
        .routes(routes!(reactivate_user))
        .routes(routes!(offboard_user))
        .routes(routes!(change_role))
        .routes(routes!(issue_password_reset))
}

/// `GET /v1/admin/users`: every staff account, by name (young people and parents/carers are
/// not listed: they are not staff to manage). Roles: yot_admin.
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = StaffAccountList), (status = 403, body = ErrorBody)))]
async fn list_staff(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<StaffAccountList>> {
    Ok(ApiJson(crate::accounts::list_staff(&state, &user).await?))
}

/// `PUT /v1/admin/users/{id}/capacity`: how many chats a worker takes at once.
/// Roles: yot_admin.
#[utoipa::path(put, path = "/v1/admin/users/{id}/capacity", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")), request_body = Capacity,
    responses((status = 200, description = "set", body = Capacity), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn set_capacity(
    State(state): State<AppState>,
    user: AuthUser,
    super::extract::ApiPath(id): super::extract::ApiPath<String>,
    ApiJson(req): ApiJson<Capacity>,
) -> ApiResult<ApiJson<Capacity>> {
    crate::accounts::set_capacity(&state, &user, &id, req.capacity).await?;
    Ok(ApiJson(req))
}

/// `GET /v1/admin/users/{id}/sessions`: a staff account's live sessions (device, source, last
/// seen). Roles: yot_admin.
#[utoipa::path(get, path = "/v1/admin/users/{id}/sessions", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = SessionList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_user_sessions(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<SessionList>> {
    Ok(ApiJson(crate::accounts::list_sessions(&state, &user, &id).await?))
}

/// `DELETE /v1/admin/users/{id}/sessions`: ends every session of a staff account at once
/// (tokens refused, sockets closed); it can sign in again. Audited. Roles: yot_admin.
#[utoipa::path(delete, path = "/v1/admin/users/{id}/sessions", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")),
    responses((status = 200, body = SessionsEnded), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn end_user_sessions(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<SessionsEnded>> {
    Ok(ApiJson(crate::accounts::end_all_sessions(&state, &user, &id).await?))
}

/// `DELETE /v1/admin/users/{id}/sessions/{session_id}`: ends one session of a staff account.
/// Audited. Roles: yot_admin.
#[utoipa::path(delete, path = "/v1/admin/users/{id}/sessions/{session_id}", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id"), ("session_id" = String, Path, description = "session id")),
    responses((status = 204, description = "ended"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn end_user_session(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath((id, session_id)): ApiPath<(String, String)>,
) -> ApiResult<StatusCode> {
    crate::accounts::end_session(&state, &user, &id, &session_id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Applies a lifecycle change as the calling admin, then closes the account's sockets.
async fn change(
    state: &AppState,
    admin: &AuthUser,
    id: &str,
    change: AccountChange,
    reason: Option<&str>,
) -> ApiResult<ApiJson<StaffAccount>> {
    let now = state.clock.now_ms();
    let account = crate::accounts::change_account(state.store.as_ref(), now, Some(admin), id, change, reason).await?;
    if change != AccountChange::Reactivate {
        state.auth.account_sessions_ended(id);
    }
    Ok(ApiJson(account))
}

/// `POST /v1/admin/users/{id}/suspend`: the account cannot sign in; every session ends at once
/// (tokens refused, sockets closed) and it goes off duty. Audited. Refused (409) for the
/// admin's own account, an offboarded one and the last active YOT admin. Roles: yot_admin.
#[utoipa::path(post, path = "/v1/admin/users/{id}/suspend", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")), request_body = AccountActionRequest,
    responses((status = 200, body = StaffAccount), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn suspend_user(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<AccountActionRequest>,
) -> ApiResult<ApiJson<StaffAccount>> {
    change(&state, &user, &id, AccountChange::Suspend, req.reason.as_deref()).await
}

/// `POST /v1/admin/users/{id}/reactivate`: a suspended account may sign in again (its old
/// sessions stay ended). Audited. Roles: yot_admin.
#[utoipa::path(post, path = "/v1/admin/users/{id}/reactivate", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")), request_body = AccountActionRequest,
    responses((status = 200, body = StaffAccount), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn reactivate_user(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<AccountActionRequest>,
) -> ApiResult<ApiJson<StaffAccount>> {
    change(&state, &user, &id, AccountChange::Reactivate, req.reason.as_deref()).await
}

/// `POST /v1/admin/users/{id}/offboard`: for a leaver, for good: the account can never sign
/// in again (no password, second factor or single sign-on binding; every session ends at once)
/// and its name stays on the records it made. Audited. Roles: yot_admin.
#[utoipa::path(post, path = "/v1/admin/users/{id}/offboard", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")), request_body = AccountActionRequest,
    responses((status = 200, body = StaffAccount), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn offboard_user(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<AccountActionRequest>,
) -> ApiResult<ApiJson<StaffAccount>> {
    change(&state, &user, &id, AccountChange::Offboard, req.reason.as_deref()).await
}

/// `PUT /v1/admin/users/{id}/role`: another staff role; every session ends at once (the next
/// sign-in has the new role) and the account goes off duty. Audited. Roles: yot_admin.
#[utoipa::path(put, path = "/v1/admin/users/{id}/role", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")), request_body = RoleChangeRequest,
    responses((status = 200, body = StaffAccount), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn change_role(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<RoleChangeRequest>,
) -> ApiResult<ApiJson<StaffAccount>> {
    change(&state, &user, &id, AccountChange::Role(req.role), None).await
}

/// `POST /v1/admin/users/{id}/password-reset`: a one-time code (24 hours; any earlier one stops
/// working), shown this once, for the person to set a new password at `/console#reset=…`. No
/// password is ever sent. Audited. Roles: yot_admin.
#[utoipa::path(post, path = "/v1/admin/users/{id}/password-reset", tag = "admin", security(("bearer" = [])),
    params(("id" = String, Path, description = "user id")),
    responses((status = 201, body = PasswordResetIssued), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn issue_password_reset(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<(StatusCode, ApiJson<PasswordResetIssued>)> {
    let now = state.clock.now_ms();
    let issued = crate::accounts::issue_password_reset(state.store.as_ref(), now, Some(&user), &id).await?;
    Ok((StatusCode::CREATED, ApiJson(issued)))
}

/// `POST /v1/admin/users`: creates a staff (or registered) account. Roles: yot_admin.
#[utoipa::path(post, path = "/v1/admin/users", tag = "admin", security(("bearer" = [])), request_body = CreateUserRequest,
    responses((status = 201, body = UserView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_user(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<CreateUserRequest>,
) -> ApiResult<(StatusCode, ApiJson<UserView>)> {
    user.require(&[Role::YotAdmin])?;
    let now = state.clock.now_ms();
    let created = crate::accounts::create_account(state.store.as_ref(), now, req, Some(user.id.as_str())).await?;
    Ok((StatusCode::CREATED, ApiJson(created)))
}
