//! Reading a conversation: history pages, read markers and typing indicators.

use talkzone_mobile_api::{limits, ConversationId, MessageView, MessagesPage, ServerFrame};

use super::access::{load_for_read_marker, load_readable, load_writable};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::model::ConversationKind;
use crate::realtime::Event;
use crate::state::AppState;
use crate::views::{message_view_for, shown_id};

/// `GET /v1/conversations/{id}/messages`.
pub async fn history(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
    after_seq: i64,
    limit: u32,
) -> ApiResult<MessagesPage> {
    if after_seq < 0 {
        return Err(ApiError::Validation("after_seq must be 0 or more".into()));
    }
    if limit == 0 || limit > limits::MAX_PAGE {
        return Err(ApiError::Validation(format!("limit must be between 1 and {}", limits::MAX_PAGE)));
    }
    let conv = load_readable(state, user, conversation_id).await?;
    if conv.kind == ConversationKind::Support {
        crate::privacy::staff_read(state, user, &conv.id, "history").await;
    }
    let rows = state.store.messages_after(conversation_id.as_str(), after_seq, limit).await?;
    let messages: Vec<MessageView> =
        rows.iter().filter_map(|m| message_view_for(user, m, conv.kind == ConversationKind::Room)).collect();
    let next_after_seq = messages.last().map_or(after_seq, |m| m.seq);
    Ok(MessagesPage { messages, next_after_seq })
}

/// `read`: raises the caller's read marker and tells the other participants.
pub async fn mark_read(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
    seq: i64,
) -> ApiResult<i64> {
    let conv = load_for_read_marker(state, user, conversation_id).await?;
    if seq < 0 || seq > conv.last_seq {
        return Err(ApiError::Validation(format!("seq must be between 0 and {}", conv.last_seq)));
    }
    let stored = state.store.mark_read(&conv.id, user.id.as_str(), seq, state.clock.now_ms()).await?;
    state.hub.publish(Event::ToConversation {
        conversation_id: conversation_id.clone(),
        frame: ServerFrame::Read {
            conversation_id: conversation_id.clone(),
            user_id: shown_id(&conv, &user.id),
            seq: stored,
        },
        except_user: Some(user.id.clone()),
    });
    Ok(stored)
}

/// `typing`: ephemeral, not stored.
pub async fn typing(state: &AppState, user: &AuthUser, conversation_id: &ConversationId) -> ApiResult<()> {
    let conv = load_writable(state, user, conversation_id).await?;
    let mut shown = user.view();
    shown.id = shown_id(&conv, &user.id);
    state.hub.publish(Event::ToConversation {
        conversation_id: conversation_id.clone(),
        frame: ServerFrame::Typing { conversation_id: conversation_id.clone(), user: shown },
        except_user: Some(user.id.clone()),
    });
    Ok(())
}
