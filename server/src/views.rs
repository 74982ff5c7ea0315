//! Records as the protocol shows them: pure functions from a stored record to its wire view
//! (no I/O, no state), shared by the chat paths, the group-commit writer, moderation, privacy
//! exports and the WebSocket catch-up.

use talkzone_mobile_api::{
    ConversationId, ConversationKind, ConversationState, MessageId, MessageView, NoteView, Role, UserId, UserView,
};

use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::error::ApiResult;
use crate::model::MessageStatus;
use crate::store::{ConversationRecord, MessageRecord, NoteRecord};

/// In a room, members see each other's display names only: the sender id shown is a
/// pseudonym, stable within that room and unrelated to the account or to other rooms.
pub fn room_pseudonym(room_id: &str, user_id: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("talkzone-room-member\0{room_id}\0{user_id}").as_bytes());
    let hex: String = digest.iter().take(10).map(|b| format!("{b:02x}")).collect();
    format!("m_{hex}")
}

/// The id others see for a user in a conversation: a pseudonym in rooms.
pub fn shown_id(conv: &ConversationRecord, user_id: &UserId) -> UserId {
    if conv.kind == ConversationKind::Room {
        UserId(room_pseudonym(&conv.id, user_id.as_str()))
    } else {
        user_id.clone()
    }
}

/// The stored verdict as staff see it.
pub fn moderation_summary(verdict_json: Option<&str>) -> Option<talkzone_mobile_api::ModerationSummary> {
    let v: talkzone_moderation::Verdict = serde_json::from_str(verdict_json?).ok()?;
    Some(talkzone_mobile_api::ModerationSummary {
        severity: v.severity.as_str().to_owned(),
        labels: v.labels.iter().map(|c| c.as_str().to_owned()).collect(),
        flags: v
            .flags
            .iter()
            .map(|f| talkzone_mobile_api::ModerationFlag {
                category: f.category.as_str().to_owned(),
                severity: f.severity.as_str().to_owned(),
                rule: f.rule.clone(),
                matched: f.matched.clone(),
            })
            .collect(),
        pii: v
            .pii
            .iter()
            .map(|p| talkzone_mobile_api::PiiFound { kind: p.kind.as_str().to_owned(), text: p.text.clone() })
            .collect(),
    })
}

/// The message as staff see it: with the moderation verdict.
pub fn staff_message_view(m: &MessageRecord, in_room: bool) -> Option<MessageView> {
    let mut view = message_view(m, in_room)?;
    view.moderation = moderation_summary(m.verdict.as_deref());
    Some(view)
}

/// The message as `viewer` may see it.
pub fn message_view_for(viewer: &AuthUser, m: &MessageRecord, in_room: bool) -> Option<MessageView> {
    if viewer.role.is_staff() {
        staff_message_view(m, in_room)
    } else {
        message_view(m, in_room)
    }
}

/// The message as clients see it; `None` while it has no `seq` (held for moderation). Carries
/// no moderation verdict (see [`staff_message_view`]).
pub fn message_view(m: &MessageRecord, in_room: bool) -> Option<MessageView> {
    let seq = m.seq?;
    let sender = match (&m.sender_id, m.sender_role) {
        (Some(id), Some(role)) => Some(UserView {
            id: UserId(if in_room { room_pseudonym(&m.conversation_id, id) } else { id.clone() }),
            role,
            display_name: m.sender_name.clone().unwrap_or_default(),
        }),
        _ => None,
    };
    Some(MessageView {
        conversation_id: ConversationId(m.conversation_id.clone()),
        seq,
        message_id: MessageId(m.id.clone()),
        client_msg_id: m.client_msg_id.clone(),
        sender,
        body: m.body.clone(),
        sent_at: rfc3339(m.sent_at),
        kind: m.kind,
        removed: m.status == MessageStatus::Removed,
        moderation: None,
    })
}

pub fn user_of(id: &Option<String>, name: &Option<String>, role: Role) -> Option<UserView> {
    id.as_ref().map(|id| UserView { id: UserId(id.clone()), role, display_name: name.clone().unwrap_or_default() })
}

/// A stored conversation's kind and state as the protocol names them.
pub fn kind_and_state(c: &ConversationRecord) -> ApiResult<(ConversationKind, ConversationState)> {
    Ok((c.kind, c.state))
}

pub fn tags_of(c: &ConversationRecord) -> Vec<String> {
    c.tags.as_deref().unwrap_or("").split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect()
}

pub fn note_view(n: &NoteRecord, role: Role) -> NoteView {
    NoteView {
        id: n.id.clone(),
        author: UserView {
            id: UserId(n.author_id.clone()),
            role,
            display_name: n.author_name.clone().unwrap_or_default(),
        },
        body: n.body.clone(),
        created_at: rfc3339(n.created_at),
    }
}
