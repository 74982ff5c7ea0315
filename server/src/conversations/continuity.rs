//! Continuity for staff: a young person's earlier support chats with the service (same
//! account), so that whoever has their chat now knows how the last ones went (outcomes, tags,
//! risk) without asking them to tell it all again. Summaries only: never what was said.

use talkzone_mobile_api::{ConversationId, EarlierChat, EarlierChatList, Role};

use super::access::load_readable;
use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::model::ConversationKind;
use crate::state::AppState;
use crate::views::{kind_and_state, tags_of, user_of};

/// `GET /v1/conversations/{id}/earlier`: staff who may read the chat (its worker, a supervisor,
/// a duty worker triaging it while it is queued) see the young person's other support chats,
/// newest first. Audited as a staff read of the chat.
pub async fn earlier(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
) -> ApiResult<EarlierChatList> {
    user.require(&[Role::DutyWorker, Role::Supervisor])?;
    let conv = load_readable(state, user, conversation_id).await?;
    if conv.kind != ConversationKind::Support {
        return Err(ApiError::NotFound);
    }
    let Some(owner) = conv.owner_id.as_deref() else { return Ok(EarlierChatList { chats: Vec::new() }) };
    crate::privacy::staff_read(state, user, &conv.id, "earlier chats").await;
    let mut chats = Vec::new();
    for c in state.store.conversations_of_owner(owner).await? {
        if c.kind != ConversationKind::Support || c.id == conv.id {
            continue;
        }
        let (_, chat_state) = kind_and_state(&c)?;
        chats.push(EarlierChat {
            id: ConversationId(c.id.clone()),
            created_at: rfc3339(c.created_at),
            closed_at: c.closed_at.map(rfc3339),
            state: chat_state,
            topic: c.topic.clone(),
            risk: c.risk.as_str().to_owned(),
            outcome: c.outcome.clone(),
            tags: tags_of(&c),
            worker: user_of(&c.assigned_to, &c.assigned_name, c.assigned_role.unwrap_or(Role::DutyWorker)),
        });
    }
    Ok(EarlierChatList { chats })
}
