//! The staff record of a support chat: tags and private notes (never shown to the young
//! person).

use talkzone_mobile_api::{limits, ConversationId, ConversationView, NoteView, Role};

use super::access::{load_readable, may_hand_over};
use super::view::{tell_parties, view};
use crate::audit;
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget};
use crate::state::AppState;
use crate::store::NoteRecord;
use crate::views::note_view;

/// Tags as stored: trimmed, each once, in the order given. Stored joined by commas, so a tag
/// holds none.
pub(super) fn check_tags(tags: Vec<String>) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        let t = t.trim();
        let n = t.chars().count();
        if n == 0 || n > 40 || t.contains(',') || t.chars().any(char::is_control) {
            return Err(ApiError::Validation(
                "tags are 1 to 40 characters, without commas or control characters".into(),
            ));
        }
        if !out.iter().any(|o| o == t) {
            out.push(t.to_owned());
        }
    }
    if out.len() > 20 {
        return Err(ApiError::Validation("at most 20 tags".into()));
    }
    Ok(out)
}

/// `PUT /v1/conversations/{id}/tags`: replaces a support chat's tags, open or closed (workers
/// often code a chat after it ends). The assigned worker or a supervisor; audited. The
/// worker's other screens are told; the young person is not.
pub async fn set_tags(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
    tags: Vec<String>,
) -> ApiResult<ConversationView> {
    let conv = load_readable(state, user, conversation_id).await?;
    let assigned = may_hand_over(user, &conv)?;
    let tags = check_tags(tags)?;
    let entry = audit::event(
        state.clock.now_ms(),
        Some(user.id.as_str()),
        AuditAction::ConversationTagged,
        AuditTarget::Conversation,
        &conv.id,
        Some(tags.join(", ")),
    );
    // The update holds only while the chat is still the worker's: a transfer since the read wins.
    if !state.store.set_tags(&conv.id, &tags, assigned.as_deref(), entry).await? {
        return Err(ApiError::Forbidden("only the assigned worker or a supervisor can do this"));
    }
    let record = state.store.conversation(&conv.id).await?.ok_or(ApiError::NotFound)?;
    tell_parties(state, &record, [record.assigned_to.as_deref()]).await?;
    view(state, user, &record).await
}

/// `POST /v1/conversations/{id}/notes`: staff only; never delivered to the young person.
pub async fn add_note(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
    body: &str,
) -> ApiResult<NoteView> {
    user.require(&[Role::DutyWorker, Role::Supervisor])?;
    let conv = load_readable(state, user, conversation_id).await?;
    let n = body.trim().chars().count();
    if n == 0 || n > limits::MAX_BODY_CHARS {
        return Err(ApiError::Validation("a note must be 1 to 4000 characters".into()));
    }
    let note = NoteRecord {
        id: crate::ids::random_id(),
        conversation_id: conv.id.clone(),
        author_id: user.id.0.clone(),
        author_name: Some(user.display_name.clone()),
        body: crate::input::contain_bidi(body.trim()).into_owned(),
        created_at: state.clock.now_ms(),
    };
    state.store.add_note(note.clone()).await?;
    Ok(note_view(&note, user.role))
}

/// `GET /v1/conversations/{id}/notes` (staff with access).
pub async fn notes(state: &AppState, user: &AuthUser, conversation_id: &ConversationId) -> ApiResult<Vec<NoteView>> {
    user.require(&[Role::DutyWorker, Role::Supervisor])?;
    let conv = load_readable(state, user, conversation_id).await?;
    let mut out = Vec::new();
    for n in state.store.notes(&conv.id).await? {
        let role = state.store.user(&n.author_id).await?.map_or(Role::DutyWorker, |u| u.role);
        out.push(note_view(&n, role));
    }
    Ok(out)
}
