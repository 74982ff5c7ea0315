//! Chats the young person stopped answering (docs/duty-desk.md, "Inactive chats"): when staff
//! wrote last and the young person has not answered for `inactive_prompt_after`, the assigned
//! worker is told (a `notice` frame, kind [`QUIET_NOTICE`]); once the silence reaches
//! `inactive_close_after`, and the worker has had the whole warning, the chat closes with the
//! outcome [`NO_RESPONSE`] and a message that the young person can come back, which frees the
//! worker's slot. A young person who left with the quick exit is not among them: their chat
//! closed at once, `closed_reason` `quick_exit`, which the worker sees as different.

use talkzone_mobile_api::{ConversationId, ServerFrame, UserId};

use super::lifecycle::handed_over;
use super::system::{announcement, system_viewer};
use crate::audit;
use crate::error::ApiResult;
use crate::model::{AuditAction, AuditTarget, ClosedReason};
use crate::realtime::Event;
use crate::state::AppState;
use crate::store::{Handover, SilentChat};

/// The outcome of a chat closed because the young person stopped answering.
pub const NO_RESPONSE: &str = "no_response";
/// The `notice` kind that tells the worker the young person has gone quiet.
pub const QUIET_NOTICE: &str = "young_person_quiet";

/// What one look found and did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct InactiveRound {
    pub prompted: usize,
    pub closed: usize,
}

fn minutes(ms: i64) -> i64 {
    (ms / 60_000).max(1)
}

/// One look at the silent chats (the scheduler's `InactiveChats` job). Every step is a
/// conditional update, so with several nodes each chat is prompted and closed once.
pub async fn check(state: &AppState) -> ApiResult<InactiveRound> {
    let now = state.clock.now_ms();
    let prompt_after = state.config.returning.inactive_prompt_after.as_millis() as i64;
    let close_after = state.config.returning.inactive_close_after.as_millis() as i64;
    let mut round = InactiveRound::default();
    for chat in state.store.silent_chats(now - prompt_after).await? {
        let told = chat.prompted_at.filter(|t| *t >= chat.silent_since);
        match told {
            // The whole warning has passed since the worker was told: close.
            Some(t) if now - chat.silent_since >= close_after && now - t >= close_after - prompt_after => {
                if close(state, &chat, now).await? {
                    round.closed += 1;
                }
            }
            Some(_) => {}
            None => {
                if state.store.mark_silence_prompted(&chat.id, chat.silent_since, now).await? {
                    prompt(state, &chat, now, close_after);
                    round.prompted += 1;
                }
            }
        }
    }
    Ok(round)
}

fn prompt(state: &AppState, chat: &SilentChat, now: i64, close_after: i64) {
    let who = chat.owner_name.as_deref().unwrap_or("The young person");
    let quiet = minutes(now - chat.silent_since);
    let left = minutes(chat.silent_since + close_after - now);
    let message = format!(
        "{who} hasn't answered for {quiet} minutes. If they don't write in the next {left} minutes, the chat \
         will close (no response) and they'll be told they can come back. Write to them to keep it open."
    );
    state.hub.publish(Event::ToUser {
        user_id: UserId(chat.assigned_to.clone()),
        frame: ServerFrame::Notice {
            kind: QUIET_NOTICE.into(),
            message,
            conversation_id: Some(ConversationId(chat.id.clone())),
            message_id: None,
            client_msg_id: None,
        },
    });
}

/// Closes a silent chat; `false` if it was no longer the assigned worker's to close (answered
/// and handed over, closed by someone, or closed by another node).
async fn close(state: &AppState, chat: &SilentChat, now: i64) -> ApiResult<bool> {
    let body = "We haven't heard from you for a while, so this chat has closed. That's OK: you can come back \
                any time, day or night, and start a new chat. If you need help right now, tap Help now.";
    let detail = format!("{NO_RESPONSE}: no answer for {} minutes", minutes(now - chat.silent_since));
    let entry =
        audit::event(now, None, AuditAction::ConversationClosed, AuditTarget::Conversation, &chat.id, Some(detail));
    let handover = Handover::Close { outcome: NO_RESPONSE.into(), tags: None, reason: ClosedReason::NoResponse };
    let Some((record, message)) = state
        .store
        .hand_over(&chat.id, Some(&chat.assigned_to), handover, announcement(state, &chat.id, body), entry, now)
        .await?
    else {
        return Ok(false);
    };
    handed_over(state, &system_viewer(), &record, &message, None).await?;
    Ok(true)
}
