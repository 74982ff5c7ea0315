//! `/v1/desk` and `/v1/rota/*`: who is on duty now and next, and the duty rota.

use axum::extract::State;
use axum::http::StatusCode;
use talkzone_mobile_api::{DeskView, ErrorBody, Rota, RotaQuery, ShiftRequest, ShiftView};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::auth::AuthUser;
use crate::desk;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(get_desk)).routes(routes!(add_shift, get_rota)).routes(routes!(remove_shift))
}

/// `GET /v1/desk`: who is on duty now (open chats, capacity, connected, hours in the last 24
/// hours), who is next on the rota, and how many are waiting. Roles: staff.
#[utoipa::path(get, path = "/v1/desk", tag = "desk", security(("bearer" = [])),
    responses((status = 200, body = DeskView), (status = 403, body = ErrorBody)))]
async fn get_desk(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<DeskView>> {
    Ok(ApiJson(desk::desk(&state, &user).await?))
}

/// `GET /v1/rota/shifts`: shifts overlapping `from`–`to`. Roles: staff.
#[utoipa::path(get, path = "/v1/rota/shifts", tag = "desk", security(("bearer" = [])), params(RotaQuery),
    responses((status = 200, body = Rota), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn get_rota(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<RotaQuery>,
) -> ApiResult<ApiJson<Rota>> {
    Ok(ApiJson(desk::rota(&state, &user, q.from.as_deref(), q.to.as_deref()).await?))
}

/// `POST /v1/rota/shifts`: a worker's shift (at most 24 hours). Roles: yot_admin.
#[utoipa::path(post, path = "/v1/rota/shifts", tag = "desk", security(("bearer" = [])), request_body = ShiftRequest,
    responses((status = 201, body = ShiftView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn add_shift(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<ShiftRequest>,
) -> ApiResult<(StatusCode, ApiJson<ShiftView>)> {
    Ok((StatusCode::CREATED, ApiJson(desk::add_shift(&state, &user, req).await?)))
}

/// `DELETE /v1/rota/shifts/{id}`. Roles: yot_admin.
#[utoipa::path(delete, path = "/v1/rota/shifts/{id}", tag = "desk", security(("bearer" = [])),
    params(("id" = String, Path, description = "shift id")),
    responses((status = 200, description = "removed"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn remove_shift(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<serde_json::Value>> {
    desk::remove_shift(&state, &user, &id).await?;
    Ok(ApiJson(serde_json::json!({})))
}
