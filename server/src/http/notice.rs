//! Routes of the monitoring notice (the notice itself is `privacy::notice`):
//! `GET /v1/me/monitoring-notice` and `POST /v1/me/monitoring-notice/acknowledge`.

use axum::extract::State;
use talkzone_mobile_api::{AcknowledgeNoticeRequest, ErrorBody, MonitoringNotice, Role};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::ApiJson;
use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::privacy::notice::{acknowledge, view_for};
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_notice)).routes(routes!(acknowledge_notice))
}

/// `GET /v1/me/monitoring-notice`: the notice in force (who may read a support chat, in plain
/// words) and whether the caller acknowledged its version. Roles: young_person.
#[utoipa::path(get, path = "/v1/me/monitoring-notice", tag = "privacy", security(("bearer" = [])),
    responses((status = 200, body = MonitoringNotice), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn get_notice(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<MonitoringNotice>> {
    user.require(&[Role::YoungPerson])?;
    Ok(ApiJson(view_for(&state, user.id.as_str()).await?))
}

/// `POST /v1/me/monitoring-notice/acknowledge`: the caller read this version of the notice.
/// Only the version in force can be acknowledged (an old or unknown one is 422: the young
/// person has to see the current words); acknowledging again keeps the first time. There is
/// no user id in the request: nobody can acknowledge for someone else. Roles: young_person.
#[utoipa::path(post, path = "/v1/me/monitoring-notice/acknowledge", tag = "privacy", security(("bearer" = [])),
    request_body = AcknowledgeNoticeRequest,
    responses((status = 200, body = MonitoringNotice), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn acknowledge_notice(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<AcknowledgeNoticeRequest>,
) -> ApiResult<ApiJson<MonitoringNotice>> {
    Ok(ApiJson(acknowledge(&state, &user, req.version).await?))
}
