//! Who may do what with a conversation: the one place that decides it, and the loads that
//! refuse what the caller may not see (as not found, so that existence does not leak).

use talkzone_mobile_api::{ConversationId, Role};

use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::model::{ConversationKind, ConversationState};
use crate::state::AppState;
use crate::store::ConversationRecord;

/// What a caller may do with a conversation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Access {
    /// Nothing; the conversation is reported as not found, so its existence does not leak.
    None,
    /// Read history and subscribe.
    Read,
    /// Also send, type and mark read.
    Write,
}

/// The one place that decides access to a support conversation.
///
/// - the young person it belongs to: write (read once closed);
/// - the worker it is assigned to: write (read once closed);
/// - duty workers and supervisors: read while it is queued, to triage before accepting;
/// - supervisors: read any conversation (safeguarding oversight);
/// - everyone else (other young people, moderators, admins, parents/carers): nothing.
///
/// Peer rooms: members may write (read once closed); moderators and supervisors may read;
/// nobody else, not even other young people until they join.
pub fn access(user: &AuthUser, conv: &ConversationRecord, member: bool) -> Access {
    if conv.kind == ConversationKind::Room {
        return match (member, user.role) {
            (true, _) if conv.state != ConversationState::Closed => Access::Write,
            (true, _) | (_, Role::Moderator | Role::Supervisor) => Access::Read,
            _ => Access::None,
        };
    }
    let uid = user.id.as_str();
    let open = conv.state != ConversationState::Closed;
    let participant = conv.owner_id.as_deref() == Some(uid) || conv.assigned_to.as_deref() == Some(uid);
    if participant {
        return if open { Access::Write } else { Access::Read };
    }
    // A supervisor who joined the chat takes part in it.
    if member && user.role == Role::Supervisor && open {
        return Access::Write;
    }
    match user.role {
        Role::Supervisor => Access::Read,
        Role::DutyWorker if conv.state == ConversationState::Queued => Access::Read,
        _ => Access::None,
    }
}

/// Whether the caller's access lasts only while the conversation is queued (a duty worker
/// triaging a chat that is not theirs): such subscriptions end when it is accepted.
pub fn triage_only(user: &AuthUser, conv: &ConversationRecord) -> bool {
    let uid = user.id.as_str();
    let participant = conv.owner_id.as_deref() == Some(uid) || conv.assigned_to.as_deref() == Some(uid);
    conv.kind != ConversationKind::Room && !participant && user.role == Role::DutyWorker
}

/// The caller's access to a conversation (membership is looked up only where it matters: rooms,
/// and supervisors who may have joined a support chat).
pub async fn access_of(state: &AppState, user: &AuthUser, conv: &ConversationRecord) -> ApiResult<Access> {
    let lookup = conv.kind == ConversationKind::Room || user.role == Role::Supervisor;
    let member = lookup && state.store.membership(&conv.id, user.id.as_str()).await?.is_some();
    Ok(access(user, conv, member))
}

/// Loads a conversation the caller may at least read.
pub async fn load_readable(state: &AppState, user: &AuthUser, id: &ConversationId) -> ApiResult<ConversationRecord> {
    let conv = state.store.conversation(id.as_str()).await?.ok_or(ApiError::NotFound)?;
    if access_of(state, user, &conv).await? == Access::None {
        return Err(ApiError::NotFound);
    }
    Ok(conv)
}

pub async fn load_writable(state: &AppState, user: &AuthUser, id: &ConversationId) -> ApiResult<ConversationRecord> {
    let conv = state.store.conversation(id.as_str()).await?.ok_or(ApiError::NotFound)?;
    match access_of(state, user, &conv).await? {
        Access::None => Err(ApiError::NotFound),
        Access::Write => Ok(conv),
        Access::Read if conv.state == ConversationState::Closed => {
            Err(ApiError::Conflict("this conversation is closed".into()))
        }
        Access::Read => Err(ApiError::Forbidden("only the conversation's participants can do this")),
    }
}

/// Loads a conversation whose read marker the caller may raise: anyone who may write in it,
/// and, once it is closed, whoever took part in it. The message that closes a chat is read
/// after the close, and refusing that marker would show a reader an error for reading.
pub async fn load_for_read_marker(
    state: &AppState,
    user: &AuthUser,
    id: &ConversationId,
) -> ApiResult<ConversationRecord> {
    let conv = state.store.conversation(id.as_str()).await?.ok_or(ApiError::NotFound)?;
    let lookup = conv.kind == ConversationKind::Room || user.role == Role::Supervisor;
    let member = lookup && state.store.membership(&conv.id, user.id.as_str()).await?.is_some();
    let was_open = ConversationRecord {
        state: if conv.kind == ConversationKind::Room { ConversationState::Open } else { ConversationState::Assigned },
        ..conv.clone()
    };
    match (access(user, &conv, member), access(user, &was_open, member)) {
        (Access::None, _) => Err(ApiError::NotFound),
        (_, Access::Write) => Ok(conv),
        _ => Err(ApiError::Forbidden("only the conversation's participants can do this")),
    }
}

/// The assigned worker, or a supervisor, may hand a chat over.
pub fn may_hand_over(user: &AuthUser, conv: &ConversationRecord) -> ApiResult<Option<String>> {
    if conv.kind != ConversationKind::Support {
        return Err(ApiError::NotFound);
    }
    match user.role {
        Role::Supervisor => Ok(None),
        Role::DutyWorker if conv.assigned_to.as_deref() == Some(user.id.as_str()) => Ok(Some(user.id.0.clone())),
        Role::DutyWorker => Err(ApiError::Forbidden("only the assigned worker or a supervisor can do this")),
        _ => Err(ApiError::Forbidden("your role may not do this")),
    }
}
