//! `/v1/services/*` and sharing a service into a chat: the services directory.

use axum::extract::State;
use axum::http::StatusCode;
use talkzone_mobile_api::{
    ConversationId, ErrorBody, ServiceCardSent, ServiceList, ServiceRequest, ServiceSearchQuery, ServiceView,
    ShareServiceRequest,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath, ApiQuery};
use crate::auth::AuthUser;
use crate::directory;
use crate::error::ApiResult;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(search_services, create_service))
        .routes(routes!(get_service, update_service))
        .routes(routes!(retire_service))
        .routes(routes!(share_service))
}

/// `GET /v1/services`: search the directory (at most 100 entries, by name). Roles: any
/// signed-in user; `include_retired` yot_admin.
#[utoipa::path(get, path = "/v1/services", tag = "directory", security(("bearer" = [])), params(ServiceSearchQuery),
    responses((status = 200, body = ServiceList), (status = 403, body = ErrorBody)))]
async fn search_services(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<ServiceSearchQuery>,
) -> ApiResult<ApiJson<ServiceList>> {
    let found =
        directory::search(&state, &user, q.q.as_deref(), q.category.as_deref(), q.include_retired.unwrap_or(false))
            .await?;
    Ok(ApiJson(found))
}

/// `POST /v1/services`: add an entry. Roles: yot_admin.
#[utoipa::path(post, path = "/v1/services", tag = "directory", security(("bearer" = [])), request_body = ServiceRequest,
    responses((status = 201, body = ServiceView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn create_service(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<ServiceRequest>,
) -> ApiResult<(StatusCode, ApiJson<ServiceView>)> {
    Ok((StatusCode::CREATED, ApiJson(directory::create(&state, &user, req).await?)))
}

/// `GET /v1/services/{id}`. Roles: any signed-in user (a retired entry: yot_admin).
#[utoipa::path(get, path = "/v1/services/{id}", tag = "directory", security(("bearer" = [])),
    params(("id" = String, Path, description = "service id")),
    responses((status = 200, body = ServiceView), (status = 404, body = ErrorBody)))]
async fn get_service(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<ServiceView>> {
    Ok(ApiJson(directory::get(&state, &user, &id).await?))
}

/// `PUT /v1/services/{id}`: replace an entry's details; cards already shared keep theirs.
/// Roles: yot_admin.
#[utoipa::path(put, path = "/v1/services/{id}", tag = "directory", security(("bearer" = [])), request_body = ServiceRequest,
    params(("id" = String, Path, description = "service id")),
    responses((status = 200, body = ServiceView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn update_service(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<ServiceRequest>,
) -> ApiResult<ApiJson<ServiceView>> {
    Ok(ApiJson(directory::update(&state, &user, &id, req).await?))
}

/// `POST /v1/services/{id}/retire`: hidden from search and sharing. Roles: yot_admin.
#[utoipa::path(post, path = "/v1/services/{id}/retire", tag = "directory", security(("bearer" = [])),
    params(("id" = String, Path, description = "service id")),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn retire_service(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    directory::retire(&state, &user, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /v1/conversations/{id}/service-cards`: share a directory entry into the chat as a
/// `service_card` message (its `body` is the entry as JSON). Roles: the assigned duty worker,
/// or a supervisor who has joined the chat.
#[utoipa::path(post, path = "/v1/conversations/{id}/service-cards", tag = "directory", security(("bearer" = [])),
    request_body = ShareServiceRequest, params(("id" = String, Path, description = "conversation id")),
    responses((status = 201, body = ServiceCardSent), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
async fn share_service(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<ShareServiceRequest>,
) -> ApiResult<(StatusCode, ApiJson<ServiceCardSent>)> {
    Ok((StatusCode::CREATED, ApiJson(directory::share(&state, &user, &ConversationId(id), req).await?)))
}
