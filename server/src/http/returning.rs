//! Coming back to an anonymous account: `/v1/auth/device`, `/v1/auth/recover`,
//! `/v1/me/device-credentials`, `/v1/me/recovery-phrase` (see `crate::returning`).

use axum::extract::State;
use axum::http::StatusCode;
use talkzone_mobile_api::{
    DeviceCredentialCreated, DeviceCredentialList, DeviceSignIn, ErrorBody, RecoverRequest, RecoveryPhraseCreated,
    TokenResponse,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath, ClientIp};
use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::returning;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(sign_in_with_device))
        .routes(routes!(recover))
        .routes(routes!(list_device_credentials, create_device_credential))
        .routes(routes!(forget_device_credential))
        .routes(routes!(create_recovery_phrase, remove_recovery_phrase))
}

/// `POST /v1/auth/device`: signs in with a device credential. Roles: anyone holding one.
/// Rate limited per IP.
#[utoipa::path(post, path = "/v1/auth/device", tag = "auth", request_body = DeviceSignIn,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn sign_in_with_device(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<DeviceSignIn>,
) -> ApiResult<ApiJson<TokenResponse>> {
    state.limits.check_auth_ip(ip)?;
    Ok(ApiJson(returning::sign_in_with_device(&state, &req.credential).await?))
}

/// `POST /v1/auth/recover`: signs in with a recovery phrase. Roles: anyone holding one.
/// Rate limited per IP, and per source and per phrase more strictly (`docs/privacy.md`).
#[utoipa::path(post, path = "/v1/auth/recover", tag = "auth", request_body = RecoverRequest,
    responses((status = 200, body = TokenResponse), (status = 401, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn recover(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<RecoverRequest>,
) -> ApiResult<ApiJson<TokenResponse>> {
    state.limits.check_auth_ip(ip)?;
    Ok(ApiJson(returning::recover(&state, ip, &req.phrase).await?))
}

/// `GET /v1/me/device-credentials`: the devices that remember the caller (never a secret), and
/// whether they have a recovery phrase. Roles: young_person.
#[utoipa::path(get, path = "/v1/me/device-credentials", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = DeviceCredentialList), (status = 403, body = ErrorBody)))]
async fn list_device_credentials(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<ApiJson<DeviceCredentialList>> {
    Ok(ApiJson(returning::device_credentials(&state, &user).await?))
}

/// `POST /v1/me/device-credentials`: a credential for this device, shown once. Roles:
/// young_person.
#[utoipa::path(post, path = "/v1/me/device-credentials", tag = "auth", security(("bearer" = [])),
    responses((status = 201, body = DeviceCredentialCreated), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn create_device_credential(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<(StatusCode, ApiJson<DeviceCredentialCreated>)> {
    Ok((StatusCode::CREATED, ApiJson(returning::create_device_credential(&state, &user).await?)))
}

/// `DELETE /v1/me/device-credentials/{id}`: forgets a device. Roles: young_person (their own).
#[utoipa::path(delete, path = "/v1/me/device-credentials/{id}", tag = "auth", security(("bearer" = [])),
    params(("id" = String, Path, description = "device credential id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn forget_device_credential(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    returning::forget_device_credential(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/me/recovery-phrase`: a new recovery phrase, shown once; the old one stops
/// working. Roles: young_person.
#[utoipa::path(post, path = "/v1/me/recovery-phrase", tag = "auth", security(("bearer" = [])),
    responses((status = 201, body = RecoveryPhraseCreated), (status = 403, body = ErrorBody)))]
async fn create_recovery_phrase(
    State(state): State<AppState>,
    user: AuthUser,
) -> ApiResult<(StatusCode, ApiJson<RecoveryPhraseCreated>)> {
    Ok((StatusCode::CREATED, ApiJson(returning::create_recovery_phrase(&state, &user).await?)))
}

/// `DELETE /v1/me/recovery-phrase`: the phrase stops working. Roles: young_person.
#[utoipa::path(delete, path = "/v1/me/recovery-phrase", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove_recovery_phrase(State(state): State<AppState>, user: AuthUser) -> ApiResult<StatusCode> {
    returning::remove_recovery_phrase(&state, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}
