//! `/v1/admin/moderation/policy…` and `/v1/admin/monitoring-notice…`: the versioned texts the
//! service runs on (`policies`, `privacy::notice`). Roles: yot_admin.

use axum::extract::State;
use talkzone_mobile_api::{ErrorBody, NoticeRequest, PolicyInForce, PolicyVersionList, Role};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::model::PolicyKind;
use crate::policies;
use crate::state::AppState;

/// A policy file is far larger than any other request body.
pub const POLICY_MAX_BYTES: usize = 1024 * 1024;

pub fn router() -> OpenApiRouter<AppState> {
    let (schemas, paths, policy_routes) = routes!(get_policy, replace_policy);
    OpenApiRouter::new()
        .routes((schemas, paths, policy_routes.layer(axum::extract::DefaultBodyLimit::max(POLICY_MAX_BYTES))))
        .routes(routes!(policy_versions))
        .routes(routes!(restore_policy))
        .routes(routes!(notice_versions))
        .routes(routes!(replace_notice))
}

/// `GET /v1/admin/moderation/policy`: the moderation policy in force (TOML). Roles: yot_admin.
#[utoipa::path(get, path = "/v1/admin/moderation/policy", tag = "admin", security(("bearer" = [])),
    responses((status = 200, content_type = "application/toml", body = String), (status = 403, body = ErrorBody)))]
async fn get_policy(State(state): State<AppState>, user: AuthUser) -> ApiResult<impl axum::response::IntoResponse> {
    user.require(&[Role::YotAdmin])?;
    Ok(([(axum::http::header::CONTENT_TYPE, "application/toml; charset=utf-8")], state.moderation.source().to_string()))
}

/// `PUT /v1/admin/moderation/policy`: a new version of the moderation policy. It is checked
/// first (a bad one is refused with what is wrong, and the old one stays), stored, audited,
/// and in force on every node within a second. Roles: yot_admin.
#[utoipa::path(put, path = "/v1/admin/moderation/policy", tag = "admin", security(("bearer" = [])),
    request_body(content = String, content_type = "application/toml"),
    responses((status = 200, description = "in force", body = PolicyInForce), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn replace_policy(
    State(state): State<AppState>,
    user: AuthUser,
    body: axum::body::Bytes,
) -> ApiResult<ApiJson<PolicyInForce>> {
    user.require(&[Role::YotAdmin])?;
    let text = std::str::from_utf8(&body).map_err(|_| ApiError::BadRequest("the policy must be UTF-8 TOML".into()))?;
    Ok(ApiJson(policies::replace_moderation(&state, &user, text).await?))
}

/// `GET /v1/admin/moderation/policy/versions`: every stored version, newest first, the one in
/// force marked (none stored: the built-in policy is in force). Roles: yot_admin.
#[utoipa::path(get, path = "/v1/admin/moderation/policy/versions", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = PolicyVersionList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn policy_versions(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<PolicyVersionList>> {
    Ok(ApiJson(policies::versions(&state, &user, PolicyKind::Moderation).await?))
}

/// `POST /v1/admin/moderation/policy/versions/{version}/restore`: puts an earlier version back
/// in force, as a new version (the history keeps both). Roles: yot_admin.
#[utoipa::path(post, path = "/v1/admin/moderation/policy/versions/{version}/restore", tag = "admin",
    security(("bearer" = [])), params(("version" = i64, Path, description = "the version to put back")),
    responses((status = 200, description = "in force", body = PolicyInForce), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn restore_policy(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(version): ApiPath<i64>,
) -> ApiResult<ApiJson<PolicyInForce>> {
    Ok(ApiJson(policies::restore_moderation(&state, &user, version).await?))
}

/// `GET /v1/admin/monitoring-notice/versions`: every stored version of the monitoring notice,
/// newest first (none stored: the built-in notice, version 1, is in force). Roles: yot_admin.
#[utoipa::path(get, path = "/v1/admin/monitoring-notice/versions", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = PolicyVersionList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn notice_versions(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<PolicyVersionList>> {
    Ok(ApiJson(policies::versions(&state, &user, PolicyKind::MonitoringNotice).await?))
}

/// `PUT /v1/admin/monitoring-notice`: a new version of the notice young people are shown at the
/// start of a support chat; each sees it until they acknowledge it. Roles: yot_admin.
#[utoipa::path(put, path = "/v1/admin/monitoring-notice", tag = "admin", security(("bearer" = [])),
    request_body = NoticeRequest,
    responses((status = 200, description = "in force", body = PolicyInForce), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn replace_notice(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<NoticeRequest>,
) -> ApiResult<ApiJson<PolicyInForce>> {
    Ok(ApiJson(crate::privacy::notice::replace(&state, &user, &req.text).await?))
}
