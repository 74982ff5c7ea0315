//! `/v1/auth/*`: anonymous accounts, staff login, refresh and logout. Every route here is
//! rate limited per client IP; login also per account.

use axum::extract::State;
use axum::http::StatusCode;
use talkzone_mobile_api::{
    AnonymousRequest, ErrorBody, LoginRequest, PasswordResetRequest, RefreshRequest, Role, TokenResponse,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ClientIp, SignInFrom};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::NewUser;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_anonymous_session))
        .routes(routes!(login))
        .routes(routes!(refresh))
        .routes(routes!(logout))
        .routes(routes!(reset_password))
}

/// `POST /v1/auth/password-reset`: a new password with the one-time code a YOT admin gave;
/// every session of the account ends (sign in again). `401` for a code that is not valid, used
/// or expired; `422` for a password that does not pass the checks (the code still works).
/// Roles: anyone with a code. Rate limited per IP.
#[utoipa::path(post, path = "/v1/auth/password-reset", tag = "auth", request_body = PasswordResetRequest,
    responses((status = 200, description = "set; sign in with it"), (status = 401, body = ErrorBody),
        (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn reset_password(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<PasswordResetRequest>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    state.limits.check_auth_ip(ip)?;
    state.auth.reset_password(&req.code, &req.new_password).await?;
    Ok(ApiJson(serde_json::json!({})))
}

/// `POST /v1/auth/anonymous`: creates a pseudonymous young person with a friendly random
/// display name and no personal data. Roles: anyone. Rate limited per IP; past a few free
/// sign-ups an address waits longer before each next one (429 with `Retry-After`); refused
/// (403) from an address blocked after one of its chats was marked as abuse.
#[utoipa::path(post, path = "/v1/auth/anonymous", tag = "auth", request_body = AnonymousRequest,
    responses((status = 201, body = TokenResponse), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn create_anonymous_session(
    State(state): State<AppState>,
    SignInFrom { ip, context: from }: SignInFrom,
    ApiJson(_req): ApiJson<AnonymousRequest>,
) -> ApiResult<(StatusCode, ApiJson<TokenResponse>)> {
    state.limits.check_auth_ip(ip)?;
    if state.store.source_blocked_until(&state.limits.source_key(ip), state.clock.now_ms()).await?.is_some() {
        return Err(ApiError::ForbiddenBecause(
            "We can't start a new chat account from the network you're on right now. If you're in danger now, call \
             999. Childline is free on 0800 1111, any time, or text SHOUT to 85258."
                .into(),
        ));
    }
    state.limits.check_signup(ip)?;
    let user = state
        .store
        .create_user(
            NewUser {
                id: crate::ids::random_id(),
                role: Role::YoungPerson,
                username: None,
                password_hash: None,
                display_name: crate::names::friendly_name(),
                created_at: state.clock.now_ms(),
            },
            None,
        )
        .await?;
    Ok((StatusCode::CREATED, ApiJson(state.auth.start_session(&user, "anonymous", &from).await?)))
}

/// `POST /v1/auth/login`: staff and registered users; starts a session. Roles: anyone. Rate
/// limited per IP.
#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    SignInFrom { ip, context: from }: SignInFrom,
    ApiJson(req): ApiJson<LoginRequest>,
) -> ApiResult<ApiJson<TokenResponse>> {
    state.limits.check_auth_ip(ip)?;
    state.limits.check_login_account(&req.username)?;
    Ok(ApiJson(state.auth.login(&req.username, &req.password, &from).await?))
}

/// `POST /v1/auth/refresh`: rotates the refresh token; reusing a spent one revokes the
/// session. Roles: holder of a refresh token.
#[utoipa::path(post, path = "/v1/auth/refresh", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn refresh(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<ApiJson<TokenResponse>> {
    state.limits.check_auth_ip(ip)?;
    Ok(ApiJson(state.auth.refresh(&req.refresh_token).await?))
}

/// `POST /v1/auth/logout`: ends the session the refresh token belongs to: its refresh tokens
/// revoked, its access tokens refused, its open WebSockets closed (4001) at once. The
/// account's other sessions go on. Roles: holder of a refresh token.
#[utoipa::path(post, path = "/v1/auth/logout", tag = "auth", request_body = RefreshRequest,
    responses((status = 200, description = "signed out"), (status = 429, body = ErrorBody)))]
async fn logout(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<RefreshRequest>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    state.limits.check_auth_ip(ip)?;
    state.auth.logout(&req.refresh_token).await?;
    Ok(ApiJson(serde_json::json!({})))
}
