//! `/v1/admin/*`: account management for `yot_admin`.

use axum::extract::State;
use axum::http::StatusCode;
use talkzone_mobile_api::{Capacity, CreateUserRequest, ErrorBody, Role, StaffAccountList, UserView};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::ApiJson;
use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(list_staff, create_user)).routes(routes!(set_capacity))
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
