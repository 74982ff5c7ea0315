//! `/v1/rooms/*`: moderated peer rooms.

use axum::extract::State;
use axum::http::StatusCode;
use talkzone_mobile_api::{ConversationId, ConversationView, CreateRoomRequest, ErrorBody, RoomList};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath};
use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::rooms;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(create_room, list_rooms)).routes(routes!(join_room)).routes(routes!(leave_room))
}

/// `POST /v1/rooms`: a room with a topic, an age band and a moderation mode. Roles: yot_admin.
#[utoipa::path(post, path = "/v1/rooms", tag = "rooms", security(("bearer" = [])), request_body = CreateRoomRequest,
    responses((status = 201, body = ConversationView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn create_room(
    State(state): State<AppState>,
    user: AuthUser,
    ApiJson(req): ApiJson<CreateRoomRequest>,
) -> ApiResult<(StatusCode, ApiJson<ConversationView>)> {
    Ok((StatusCode::CREATED, ApiJson(rooms::create(&state, &user, req).await?)))
}

/// `GET /v1/rooms`: open rooms, each with whether the caller has joined.
/// Roles: young_person, duty_worker, supervisor, moderator, yot_admin.
#[utoipa::path(get, path = "/v1/rooms", tag = "rooms", security(("bearer" = [])),
    responses((status = 200, body = RoomList), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
async fn list_rooms(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<RoomList>> {
    Ok(ApiJson(RoomList { rooms: rooms::list(&state, &user).await? }))
}

/// `POST /v1/rooms/{id}/join`: join explicitly, then `subscribe` and `send` as in any
/// conversation. Roles: young_person.
#[utoipa::path(post, path = "/v1/rooms/{id}/join", tag = "rooms", security(("bearer" = [])),
    params(("id" = String, Path, description = "room id")),
    responses((status = 200, body = ConversationView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
async fn join_room(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<ConversationView>> {
    Ok(ApiJson(rooms::join(&state, &user, &ConversationId(id)).await?))
}

/// `POST /v1/rooms/{id}/leave`. Roles: a member.
#[utoipa::path(post, path = "/v1/rooms/{id}/leave", tag = "rooms", security(("bearer" = [])),
    params(("id" = String, Path, description = "room id")),
    responses((status = 200, body = ConversationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn leave_room(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<ConversationView>> {
    Ok(ApiJson(rooms::leave(&state, &user, &ConversationId(id)).await?))
}
