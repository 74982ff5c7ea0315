//! System messages: the one path by which the service itself speaks in a conversation (joins,
//! hand-overs, escalation notices, "nobody is available"), stored for a new `seq` and
//! delivered like any other message.

use talkzone_mobile_api::{MessageKind, Role, UserId};

use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::model::Severity;
use crate::realtime::Event;
use crate::state::AppState;
use crate::store::{InsertOutcome, NewMessage};
use crate::views::message_view;

/// A system message for a new `seq`, stored and delivered.
pub async fn system_message(state: &AppState, conversation_id: &str, body: &str) -> ApiResult<()> {
    let m = announcement(state, conversation_id, body);
    if let InsertOutcome::Stored(m) = state.store.insert_message(m).await? {
        if let Some(v) = message_view(&m, false) {
            state.hub.publish(Event::Message(v));
        }
    }
    Ok(())
}

/// A system message to store with a state change.
pub fn announcement(state: &AppState, conversation_id: &str, body: &str) -> NewMessage {
    NewMessage {
        id: crate::ids::random_id(),
        conversation_id: conversation_id.to_owned(),
        sender_id: None,
        sender_role: None,
        sender_name: None,
        client_msg_id: None,
        body: body.to_owned(),
        kind: MessageKind::System,
        sent_at: state.clock.now_ms(),
        severity: Severity::None,
        conversation_risk: Severity::None,
        verdict: None,
        original_body: None,
        hold: None,
        escalation: None,
        expect: None,
    }
}

/// Stands in for "the service itself" when no person acts (timeouts).
pub fn system_viewer() -> AuthUser {
    AuthUser { id: UserId("system".into()), role: Role::Supervisor, display_name: "Talk Zone".into() }
}
