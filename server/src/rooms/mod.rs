//! Peer rooms: moderated group conversations for young people, created by `yot_admin`.
//! Members see display names only (sender ids are per-room pseudonyms); personal information
//! is never shown to other members; no young person can start a private conversation with
//! another.

pub mod policy;

use talkzone_mobile_api::{
    ConversationId, ConversationView, CreateRoomRequest, PersonalInfoMode, Role, RoomModeration,
};

use crate::auth::AuthUser;
use crate::conversations::view::view;
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget, ConversationKind, ConversationState};
use crate::state::AppState;
use crate::store::{ConversationRecord, NewRoom};

fn validate(req: &CreateRoomRequest) -> ApiResult<()> {
    let topic = req.topic.trim().chars().count();
    if topic == 0 || topic > 200 {
        return Err(ApiError::Validation("topic must be 1 to 200 characters".into()));
    }
    let band = req.age_band.trim();
    if band.is_empty() || band.len() > 20 {
        return Err(ApiError::Validation("age_band must be 1 to 20 characters, e.g. 13-15".into()));
    }
    Ok(())
}

/// `POST /v1/rooms` (yot_admin).
pub async fn create(state: &AppState, user: &AuthUser, req: CreateRoomRequest) -> ApiResult<ConversationView> {
    user.require(&[Role::YotAdmin])?;
    validate(&req)?;
    let now = state.clock.now_ms();
    let id = crate::ids::random_id();
    let audit = crate::audit::event(
        now,
        Some(user.id.as_str()),
        AuditAction::RoomCreated,
        AuditTarget::Conversation,
        &id,
        None,
    );
    let record = state
        .store
        .create_room(
            NewRoom {
                id,
                topic: req.topic.trim().to_owned(),
                age_band: req.age_band.trim().to_owned(),
                moderation_mode: match req.moderation {
                    RoomModeration::Pre => RoomModeration::Pre,
                    RoomModeration::Post => RoomModeration::Post,
                },
                pii_mode: match req.personal_info {
                    PersonalInfoMode::Hold => PersonalInfoMode::Hold,
                    PersonalInfoMode::Redact => PersonalInfoMode::Redact,
                },
                created_by: user.id.0.clone(),
                now,
            },
            audit,
        )
        .await?;
    view(state, user, &record).await
}

/// `GET /v1/rooms`: every open room, with whether the caller is a member.
pub async fn list(state: &AppState, user: &AuthUser) -> ApiResult<Vec<ConversationView>> {
    user.require(&[Role::YoungPerson, Role::DutyWorker, Role::Supervisor, Role::Moderator, Role::YotAdmin])?;
    let mut out = Vec::new();
    for r in state.store.rooms().await? {
        out.push(view(state, user, &r).await?);
    }
    Ok(out)
}

async fn load_room(state: &AppState, id: &ConversationId) -> ApiResult<ConversationRecord> {
    match state.store.conversation(id.as_str()).await? {
        Some(c) if c.kind == ConversationKind::Room && c.state != ConversationState::Closed => Ok(c),
        _ => Err(ApiError::NotFound),
    }
}

/// `POST /v1/rooms/{id}/join` (young_person): joining is always explicit.
pub async fn join(state: &AppState, user: &AuthUser, id: &ConversationId) -> ApiResult<ConversationView> {
    user.require(&[Role::YoungPerson])?;
    let room = load_room(state, id).await?;
    state.store.join(&room.id, user.id.as_str(), "member", state.clock.now_ms(), None).await?;
    view(state, user, &room).await
}

/// `POST /v1/rooms/{id}/leave`.
pub async fn leave(state: &AppState, user: &AuthUser, id: &ConversationId) -> ApiResult<ConversationView> {
    let room = load_room(state, id).await?;
    state.store.leave(&room.id, user.id.as_str(), state.clock.now_ms()).await?;
    view(state, user, &room).await
}
