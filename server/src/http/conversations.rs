//! `/v1/conversations/*`: support conversations over REST. The same functions serve the
//! WebSocket frames (see `crate::conversations`).

use axum::extract::State;
use axum::http::StatusCode;
use talkzone_mobile_api::{
    limits, CloseRequest, ConversationId, ConversationList, ConversationListQuery, ConversationState, ConversationView,
    CreateConversationRequest, EarlierChatList, EndChatRequest, ErrorBody, MarkAbuseRequest, MessagesPage,
    MessagesQuery, NoteList, NoteRequest, NoteView, OutcomeList, RequeueRequest, Role, TagsRequest, TransferRequest,
};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath, ApiQuery, ClientIp};
use crate::auth::AuthUser;
use crate::conversations;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use crate::store::{ConversationFilter, MAX_PAGE};

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_conversation, list_conversations))
        .routes(routes!(get_conversation))
        .routes(routes!(list_messages))
        .routes(routes!(accept_conversation))
        .routes(routes!(transfer_conversation))
        .routes(routes!(requeue_conversation))
        .routes(routes!(close_conversation))
        .routes(routes!(end_conversation))
        .routes(routes!(mark_abuse))
        .routes(routes!(set_tags))
        .routes(routes!(add_note, list_notes))
        .routes(routes!(list_outcomes))
        .routes(routes!(join_conversation))
        .routes(routes!(earlier_chats))
}

/// `GET /v1/conversations/{id}/earlier`: the young person's other support chats with the
/// service (same account), newest first, with their outcomes, tags and risk, never their
/// messages. Roles: staff who may read the chat (its duty worker; any duty worker while it is
/// queued; supervisors).
#[utoipa::path(get, path = "/v1/conversations/{id}/earlier", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, body = EarlierChatList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn earlier_chats(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<EarlierChatList>> {
    Ok(ApiJson(conversations::earlier(&state, &user, &ConversationId(id)).await?))
}

/// `POST /v1/conversations/{id}/join`: a supervisor joins the chat and can write in it; the
/// young person is told. Roles: supervisor.
#[utoipa::path(post, path = "/v1/conversations/{id}/join", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, body = ConversationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn join_conversation(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<ConversationView>> {
    Ok(ApiJson(conversations::join_as_supervisor(&state, &user, &ConversationId(id)).await?))
}

/// `POST /v1/conversations/{id}/transfer`: hand the chat to another worker; the reason is
/// kept in the conversation's history. Roles: the assigned duty worker, supervisors.
#[utoipa::path(post, path = "/v1/conversations/{id}/transfer", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id")), request_body = TransferRequest,
    responses((status = 200, body = ConversationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn transfer_conversation(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<TransferRequest>,
) -> ApiResult<ApiJson<ConversationView>> {
    Ok(ApiJson(conversations::transfer(&state, &user, &ConversationId(id), &req.to, &req.reason).await?))
}

/// `POST /v1/conversations/{id}/requeue`: give the chat back to the queue (ahead of new
/// arrivals at the same risk). Roles: the assigned duty worker, supervisors.
#[utoipa::path(post, path = "/v1/conversations/{id}/requeue", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id")), request_body = RequeueRequest,
    responses((status = 200, body = ConversationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn requeue_conversation(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<RequeueRequest>,
) -> ApiResult<ApiJson<ConversationView>> {
    let id = ConversationId(id);
    conversations::requeue(&state, Some(&user), &id, &req.reason).await?;
    let conv = conversations::load_readable(&state, &user, &id).await?;
    Ok(ApiJson(conversations::view(&state, &user, &conv).await?))
}

/// `PUT /v1/conversations/{id}/tags`: replace the chat's tags (open or closed); staff only, never
/// shown to the young person. Roles: the assigned duty worker, supervisors.
#[utoipa::path(put, path = "/v1/conversations/{id}/tags", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id")), request_body = TagsRequest,
    responses((status = 200, body = ConversationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn set_tags(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<TagsRequest>,
) -> ApiResult<ApiJson<ConversationView>> {
    Ok(ApiJson(conversations::set_tags(&state, &user, &ConversationId(id), req.tags).await?))
}

/// `POST /v1/conversations/{id}/close`: end the chat with an outcome from `GET /v1/outcomes`
/// and tags. Roles: the assigned duty worker, supervisors.
#[utoipa::path(post, path = "/v1/conversations/{id}/close", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id")), request_body = CloseRequest,
    responses((status = 200, body = ConversationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn close_conversation(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<CloseRequest>,
) -> ApiResult<ApiJson<ConversationView>> {
    Ok(ApiJson(conversations::close(&state, &user, &ConversationId(id), &req.outcome, req.tags).await?))
}

/// `POST /v1/conversations/{id}/end`: the young person ends their own support chat (queued or
/// with a worker), outcome `young_person_left`; the worker is told in the chat. `reason`
/// `quick_exit` when the page's quick exit sent it. Roles: the chat's young person (anyone
/// else: 404; staff: 403, they close with an outcome). 409 once it has ended.
#[utoipa::path(post, path = "/v1/conversations/{id}/end", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id")), request_body = EndChatRequest,
    responses((status = 200, body = ConversationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn end_conversation(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<EndChatRequest>,
) -> ApiResult<ApiJson<ConversationView>> {
    Ok(ApiJson(conversations::end_by_young_person(&state, &user, &ConversationId(id), req.reason).await?))
}

/// `POST /v1/conversations/{id}/notes`: a private note, visible to staff only, never to the
/// young person. Roles: duty_worker, supervisor with access to the chat.
#[utoipa::path(post, path = "/v1/conversations/{id}/notes", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id")), request_body = NoteRequest,
    responses((status = 201, body = NoteView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn add_note(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<NoteRequest>,
) -> ApiResult<(StatusCode, ApiJson<NoteView>)> {
    Ok((StatusCode::CREATED, ApiJson(conversations::add_note(&state, &user, &ConversationId(id), &req.body).await?)))
}

/// `GET /v1/conversations/{id}/notes`. Roles: duty_worker, supervisor with access to the chat.
#[utoipa::path(get, path = "/v1/conversations/{id}/notes", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, body = NoteList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn list_notes(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<NoteList>> {
    Ok(ApiJson(NoteList { notes: conversations::notes(&state, &user, &ConversationId(id)).await? }))
}

/// `GET /v1/outcomes`: the outcomes a chat can be closed with (configurable). Roles: staff.
#[utoipa::path(get, path = "/v1/outcomes", tag = "conversations", security(("bearer" = [])),
    responses((status = 200, body = OutcomeList), (status = 403, body = ErrorBody)))]
async fn list_outcomes(State(state): State<AppState>, user: AuthUser) -> ApiResult<ApiJson<OutcomeList>> {
    if !user.role.is_staff() {
        return Err(ApiError::Forbidden("staff only"));
    }
    Ok(ApiJson(OutcomeList { outcomes: state.config.desk.close_outcomes.clone() }))
}

/// `POST /v1/conversations`: opens a support chat, queued for a duty worker. A young person
/// has at most one open: a second call returns it with 200. A new chat is refused (403) from
/// an address blocked after a chat was marked as abuse, and (429) from one that has as many
/// chats waiting as it may. Roles: young_person.
#[utoipa::path(post, path = "/v1/conversations", tag = "conversations", security(("bearer" = [])),
    request_body = CreateConversationRequest,
    responses((status = 201, body = ConversationView, description = "created"),
        (status = 200, body = ConversationView, description = "the caller's open conversation"),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn open_conversation(
    State(state): State<AppState>,
    user: AuthUser,
    ClientIp(ip): ClientIp,
    ApiJson(req): ApiJson<CreateConversationRequest>,
) -> ApiResult<(StatusCode, ApiJson<ConversationView>)> {
    let (view, created) = conversations::open(&state, &user, req.topic, req.first_message, ip).await?;
    Ok((if created { StatusCode::CREATED } else { StatusCode::OK }, ApiJson(view)))
}

/// `POST /v1/conversations/{id}/abuse`: close an open support chat as abuse and block the
/// address it came from for `block_hours` (no chats, no sign-ups); its unresolved escalations
/// are resolved. Audited. Roles: supervisor.
#[utoipa::path(post, path = "/v1/conversations/{id}/abuse", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id")), request_body = MarkAbuseRequest,
    responses((status = 200, body = ConversationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn mark_abuse(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiJson(req): ApiJson<MarkAbuseRequest>,
) -> ApiResult<ApiJson<ConversationView>> {
    let id = ConversationId(id);
    Ok(ApiJson(conversations::mark_abuse(&state, &user, &id, &req.reason, req.block_hours).await?))
}

/// `GET /v1/conversations`: a young person's own conversations; for duty workers the queue
/// and their own chats; for supervisors every conversation (filters `state`, `assigned_to`).
/// Roles: young_person, duty_worker, supervisor.
#[utoipa::path(get, path = "/v1/conversations", tag = "conversations", security(("bearer" = [])), params(ConversationListQuery),
    responses((status = 200, body = ConversationList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
async fn list_conversations(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<ConversationListQuery>,
) -> ApiResult<ApiJson<ConversationList>> {
    let state_filter = q
        .state
        .as_deref()
        .map(|s| {
            ConversationState::parse(s)
                .ok_or_else(|| ApiError::BadRequest("state must be queued, assigned or closed".into()))
        })
        .transpose()?;
    let limit = q.limit.unwrap_or(MAX_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::Validation(format!("limit must be between 1 and {MAX_PAGE}")));
    }
    let mut next_offset = None;
    let rows = match user.role {
        Role::YoungPerson => {
            if q.state.is_some() || q.assigned_to.is_some() || q.limit.is_some() || q.offset.is_some() {
                return Err(ApiError::BadRequest("filters and pages are for staff".into()));
            }
            state.store.conversations_of_owner(user.id.as_str()).await?
        }
        Role::DutyWorker | Role::Supervisor => {
            let offset = q.offset.unwrap_or(0);
            // Who sees what is decided in the query, so a page is full of what the caller may
            // see (a worker: the queue and their own chats); rooms are under /v1/rooms. One
            // row more than asked tells whether another page follows.
            let filter = ConversationFilter {
                state: state_filter,
                assigned_to: q.assigned_to,
                support_only: true,
                visible_to_worker: (user.role == Role::DutyWorker).then(|| user.id.0.clone()),
                limit: Some(limit + 1),
                offset,
            };
            let mut rows = state.store.conversations_for_staff(&filter).await?;
            if rows.len() > limit as usize {
                rows.truncate(limit as usize);
                next_offset = Some(offset + limit);
            }
            rows.retain(|c| conversations::access(&user, c, false) != conversations::Access::None);
            rows
        }
        _ => return Err(ApiError::Forbidden("your role has no conversations")),
    };
    let mut out = Vec::with_capacity(rows.len());
    for r in &rows {
        out.push(conversations::view(&state, &user, r).await?);
    }
    Ok(ApiJson(ConversationList { conversations: out, next_offset }))
}

/// `GET /v1/conversations/{id}`. Roles: its young person, its worker; duty workers while it
/// is queued; supervisors. Others get 404.
#[utoipa::path(get, path = "/v1/conversations/{id}", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, body = ConversationView), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_conversation(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<ConversationView>> {
    let conv = conversations::load_readable(&state, &user, &ConversationId(id)).await?;
    Ok(ApiJson(conversations::view(&state, &user, &conv).await?))
}

/// `GET /v1/conversations/{id}/messages?after_seq=N&limit=M`: history in `seq` order.
/// Roles: as `GET /v1/conversations/{id}`.
#[utoipa::path(get, path = "/v1/conversations/{id}/messages", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id"), MessagesQuery),
    responses((status = 200, body = MessagesPage), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn list_messages(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<MessagesQuery>,
) -> ApiResult<ApiJson<MessagesPage>> {
    let page = conversations::history(
        &state,
        &user,
        &ConversationId(id),
        q.after_seq.unwrap_or(0),
        q.limit.unwrap_or(limits::DEFAULT_PAGE),
    )
    .await?;
    Ok(ApiJson(page))
}

/// `POST /v1/conversations/{id}/accept`: take a queued chat. Of racing workers exactly one
/// gets 200; the others 409 `already_assigned`. Puts the worker on duty.
/// Roles: duty_worker, supervisor.
#[utoipa::path(post, path = "/v1/conversations/{id}/accept", tag = "conversations", security(("bearer" = [])),
    params(("id" = String, Path, description = "conversation id")),
    responses((status = 200, body = ConversationView), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn accept_conversation(
    State(state): State<AppState>,
    user: AuthUser,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<ConversationView>> {
    Ok(ApiJson(conversations::accept(&state, &user, &ConversationId(id)).await?))
}
