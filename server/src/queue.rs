//! The support queue as people see it: order, positions, wait estimates, and pushing every
//! change to watching staff (`queue.changed`) and to the waiting young people (`queue`).
//!
//! Order here is by waiting time; risk-first triage and auto-assignment build on this.

use talkzone_mobile_api::{ConversationId, QueueEntry, ServerFrame, UserId};

use crate::clock::rfc3339;
use crate::error::ApiResult;
use crate::hub::Event;
use crate::state::AppState;
use crate::store::ConversationFilter;

/// Typical length of a support chat, for wait estimates until real handling times are kept.
pub const TYPICAL_CHAT_S: u32 = 600;

/// Workers who are on duty and connected to this node.
pub async fn available_workers(state: &AppState) -> ApiResult<u32> {
    let on_duty = state.store.on_duty_staff().await?;
    Ok(on_duty.iter().filter(|id| state.hub.connections_of(&UserId((*id).clone())) > 0).count() as u32)
}

/// A rough estimate: the chats ahead shared among the available workers.
pub fn estimate_wait_s(position: u32, available: u32) -> u32 {
    let ahead = position.saturating_sub(1);
    ahead.saturating_mul(TYPICAL_CHAT_S) / available.max(1) + if available == 0 { TYPICAL_CHAT_S } else { 0 }
}

/// The queue, first to be seen first.
pub async fn entries(state: &AppState) -> ApiResult<Vec<QueueEntry>> {
    let filter = ConversationFilter { state: Some("queued".into()), assigned_to: None };
    let rows = state.store.conversations_for_staff(&filter).await?;
    Ok(rows
        .into_iter()
        .filter(|c| c.kind == "support")
        .enumerate()
        .map(|(i, c)| QueueEntry {
            conversation_id: ConversationId(c.id),
            priority: i as u32 + 1,
            waiting_since: rfc3339(c.created_at),
            risk: c.risk,
            topic: c.topic,
        })
        .collect())
}

/// Pushes the current queue to watching staff and each waiting young person's position to
/// them. Failures are logged: the change itself has happened and is already stored.
pub async fn changed(state: &AppState) {
    if let Err(e) = push(state).await {
        tracing::warn!(error = %e, "could not push queue change");
    }
}

async fn push(state: &AppState) -> ApiResult<()> {
    let entries = entries(state).await?;
    let available = available_workers(state).await?;
    let filter = ConversationFilter { state: Some("queued".into()), assigned_to: None };
    for c in state.store.conversations_for_staff(&filter).await? {
        let Some(owner) = c.owner_id else { continue };
        let Some(pos) = entries.iter().position(|e| e.conversation_id.0 == c.id) else { continue };
        let position = pos as u32 + 1;
        state.hub.publish(Event::ToUser {
            user_id: UserId(owner),
            frame: ServerFrame::Queue {
                conversation_id: ConversationId(c.id),
                position,
                estimated_wait_s: estimate_wait_s(position, available),
                available_workers: available,
            },
        });
    }
    state.hub.publish(Event::ToQueueWatchers { frame: ServerFrame::QueueChanged { entries } });
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn wait_grows_with_position_and_shrinks_with_workers() {
        assert_eq!(super::estimate_wait_s(1, 1), 0);
        assert!(super::estimate_wait_s(3, 1) > super::estimate_wait_s(2, 1));
        assert!(super::estimate_wait_s(3, 2) < super::estimate_wait_s(3, 1));
        assert!(super::estimate_wait_s(1, 0) > 0, "nobody on duty is never 'no wait'");
    }
}
