//! The one path by which a participant's message (text, or a service card) enters a
//! conversation: validation, limits, access, moderation, the durable write, escalation and
//! fan-out, for the REST handlers and the WebSocket alike.

use std::time::Instant;

use talkzone_mobile_api::{limits, ConversationId, MessageId, MessageKind, Role, UserId};
use talkzone_moderation::Context;

use super::access::{access, load_writable, Access};
use crate::auth::AuthUser;
use crate::error::{ApiError, ApiResult};
use crate::escalation::RiskMove;
use crate::model::{ConversationKind, ConversationState, ModerationItemKind, Severity};
use crate::realtime::Event;
use crate::state::AppState;
use crate::store::{ConversationRecord, Expected, InsertOutcome, NewMessage};
use crate::views::staff_message_view;
use crate::{queue, telemetry};

/// The conversation a message is being sent to, and what its transaction must still find for
/// the sender's access to hold. A support chat's copy on this node grants write access
/// without a read (see [`crate::conversation_cache`]); anything else, and every refusal, is
/// decided from a fresh read.
async fn load_for_send(
    state: &AppState,
    user: &AuthUser,
    id: &ConversationId,
    fresh: bool,
) -> ApiResult<(std::sync::Arc<ConversationRecord>, Option<Expected>)> {
    let expect = |conv: &ConversationRecord| {
        (conv.kind == ConversationKind::Support)
            .then(|| Expected { state: conv.state, assigned_to: conv.assigned_to.clone() })
    };
    if !fresh && user.role != Role::Supervisor {
        if let Some(conv) = state.conversation_cache.get(id.as_str()) {
            if conv.kind == ConversationKind::Support && access(user, &conv, false) == Access::Write {
                let expected = expect(&conv);
                return Ok((conv, expected));
            }
        }
    }
    let conv = state.conversation_cache.put(load_writable(state, user, id).await?);
    let expected = expect(&conv);
    Ok((conv, expected))
}

pub(super) fn validate_body(body: &str) -> ApiResult<()> {
    if body.trim().is_empty() {
        return Err(ApiError::Validation("a message cannot be empty".into()));
    }
    // Zero-width and direction characters alone look like an empty message to its reader.
    if !crate::input::has_visible(body) {
        return Err(ApiError::Validation("a message needs something to read, not only invisible characters".into()));
    }
    if body.chars().count() > limits::MAX_BODY_CHARS {
        return Err(ApiError::TooLarge(format!("a message can be at most {} characters", limits::MAX_BODY_CHARS)));
    }
    Ok(())
}

fn validate_client_msg_id(id: &str) -> ApiResult<()> {
    let n = id.chars().count();
    if n == 0 || n > limits::MAX_CLIENT_MSG_ID_CHARS || id.chars().any(char::is_control) {
        return Err(ApiError::Validation(format!(
            "client_msg_id must be 1 to {} printable characters",
            limits::MAX_CLIENT_MSG_ID_CHARS
        )));
    }
    Ok(())
}

/// The result of [`send_message`].
pub struct Sent {
    pub message_id: MessageId,
    /// `None` while held for moderation.
    pub seq: Option<i64>,
    /// The same `client_msg_id` was sent before: this is that message, nothing new stored.
    pub duplicate: bool,
}

/// The message to store and its moderation verdict. In a 1:1 support chat nothing is held
/// or redacted: a young person in danger must be able to give their address to the worker.
/// Rooms are moderated.
async fn draft_message(
    state: &AppState,
    user: &AuthUser,
    conv: &ConversationRecord,
    client_msg_id: &str,
    body: &str,
    kind: MessageKind,
    expect: Option<Expected>,
) -> ApiResult<(NewMessage, talkzone_moderation::Verdict)> {
    let in_room = conv.kind == ConversationKind::Room;
    let now = state.clock.now_ms();
    let (verdict, action, risk) = if kind == MessageKind::ServiceCard {
        // A directory entry the YOT wrote, not the sender's words: classifying it would
        // raise escalations for sharing, say, a self-harm support service, and redaction
        // would remove the very phone number being shared.
        let none = RiskMove { before: Severity::None, after: Severity::None };
        (not_classified(body), None, none)
    } else if !in_room && user.role == Role::YoungPerson {
        // Risk builds across a young person's messages in a support chat.
        let recent = recent_context(state, conv, user).await?;
        let before = talkzone_moderation::conversation_risk(&recent);
        let (outcome, action) = state.moderation.assess_in_context(body, Context::Support, &recent);
        (outcome.verdict, Some(action), RiskMove { before, after: outcome.conversation })
    } else {
        let (verdict, action) = state.moderation.assess(body, if in_room { Context::Room } else { Context::Support });
        let risk = RiskMove { before: Severity::None, after: verdict.severity };
        (verdict, Some(action), risk)
    };
    let mut delivered_body = body.to_owned();
    let mut original_body = None;
    let mut hold = None;
    if in_room {
        crate::rooms::policy::check_not_muted(state, user, now).await?;
    }
    if let (true, Some(action)) = (in_room, action) {
        let plan = crate::rooms::policy::plan(conv, &verdict, action);
        if let Some((reason, severity)) = plan.hold {
            hold = Some(crate::store::NewModerationItem {
                id: crate::ids::random_id(),
                kind: ModerationItemKind::Hold,
                conversation_id: Some(conv.id.clone()),
                message_id: None, // set below, once the message id is known
                subject_user_id: Some(user.id.0.clone()),
                reporter_id: None,
                reason,
                severity,
                evidence: Some(body.to_owned()),
                created_at: now,
            });
        } else if plan.redact {
            delivered_body = verdict.redacted.clone();
            original_body = Some(body.to_owned());
        }
    }
    let message_id = crate::ids::random_id();
    if let Some(h) = hold.as_mut() {
        h.message_id = Some(message_id.clone());
    }
    // High or critical risk raises an escalation in the same transaction as the message.
    let escalation = crate::escalation::automatic(state, &conv.id, &message_id, &verdict, risk, now);
    let new = NewMessage {
        id: message_id,
        conversation_id: conv.id.clone(),
        sender_id: Some(user.id.0.clone()),
        sender_role: Some(user.role),
        sender_name: Some(user.display_name.clone()),
        client_msg_id: Some(client_msg_id.to_owned()),
        body: delivered_body,
        kind,
        sent_at: now,
        severity: verdict.severity,
        conversation_risk: risk.after.max(verdict.severity),
        verdict: serde_json::to_string(&verdict).ok(),
        original_body,
        hold,
        escalation,
        expect,
    };
    Ok((new, verdict))
}

/// How many of the young person's earlier messages in a chat are its context.
const CONTEXT_MESSAGES: u32 = 20;

/// The young person's earlier messages in this chat, as the moderation step keeps them: the
/// verdict stored with each, and the cues of its words.
async fn recent_context(
    state: &AppState,
    conv: &ConversationRecord,
    user: &AuthUser,
) -> ApiResult<Vec<talkzone_moderation::RecentVerdict>> {
    let rows = state.store.recent_from_sender(&conv.id, user.id.as_str(), CONTEXT_MESSAGES).await?;
    Ok(rows
        .iter()
        .filter_map(|m| {
            let verdict: talkzone_moderation::Verdict = serde_json::from_str(m.verdict.as_deref()?).ok()?;
            Some(talkzone_moderation::recent_verdict(&m.body, &verdict))
        })
        .collect())
}

/// The assigned worker replied for the first time: their screens stop the first-reply clock
/// (the conversation they get has no `first_reply_due_at` any more).
async fn first_reply_made(state: &AppState, conversation_id: &str) {
    let told = async {
        let Some(record) = state.store.conversation(conversation_id).await? else { return Ok(()) };
        super::view::tell_parties(state, &record, [record.assigned_to.as_deref()]).await
    };
    if let Err(e) = told.await {
        tracing::warn!(error = %e, conversation = conversation_id, "could not stop a first-reply clock");
    }
}

/// A live chat's risk rose: its worker and every supervisor get the conversation as it is
/// now, so that the chat's header, the worker's list and the supervisors' list show the new
/// risk at once (not at the next reload). The message is stored whatever happens here.
async fn risk_rose(state: &AppState, conversation_id: &str) {
    let told = async {
        let Some(record) = state.store.conversation(conversation_id).await? else { return Ok(()) };
        super::view::tell_parties(state, &record, [record.assigned_to.as_deref()]).await?;
        super::view::tell_supervisors(state, &record).await
    };
    if let Err(e) = told.await {
        tracing::warn!(error = %e, conversation = conversation_id, "could not push a chat's new risk");
    }
}

/// The verdict of a message that is not classified (a service card): nothing found.
fn not_classified(body: &str) -> talkzone_moderation::Verdict {
    talkzone_moderation::Verdict {
        severity: talkzone_moderation::Severity::None,
        labels: Vec::new(),
        flags: Vec::new(),
        pii: Vec::new(),
        redacted: body.to_owned(),
    }
}

/// `send`: a participant's text message.
pub async fn send_message(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
    client_msg_id: &str,
    body: &str,
) -> ApiResult<Sent> {
    send(state, user, conversation_id, client_msg_id, body, MessageKind::Text).await
}

/// The one path by which a participant's message (text, or a service card) enters a
/// conversation.
pub async fn send(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
    client_msg_id: &str,
    body: &str,
    kind: MessageKind,
) -> ApiResult<Sent> {
    validate_client_msg_id(client_msg_id)?;
    validate_body(body)?;
    // Stored with its direction controls closed: staff see it beside names and times.
    let body = &*crate::input::contain_bidi(body);
    state.limits.check_user_message(user.id.as_str())?;
    let mut fresh = false;
    let mut attempt = 0;
    let (conv, verdict, new, outcome) = loop {
        attempt += 1;
        let (conv, expect) = load_for_send(state, user, conversation_id, fresh).await?;
        let (new, verdict) = draft_message(state, user, &conv, client_msg_id, body, kind, expect).await?;
        let started = Instant::now();
        // Stored by group commit; a message stored now is already published, in commit order.
        let outcome = state.messages.insert(new.clone(), conv.kind == ConversationKind::Room).await?;
        metrics::histogram!(telemetry::STORE_WRITE_SECONDS).record(started.elapsed().as_secs_f64());
        match outcome {
            // The chat changed (accepted, transferred, closed…) since access was decided:
            // decide again from a fresh read. A chat changing under every try is answered
            // with a conflict the client may send again.
            InsertOutcome::Stale => {
                state.conversation_cache.forget(conversation_id.as_str());
                if attempt == 3 {
                    return Err(ApiError::Conflict("the conversation changed while sending; send again".into()));
                }
                fresh = true;
            }
            outcome => break (conv, verdict, new, outcome),
        }
    };
    let in_room = conv.kind == ConversationKind::Room;
    let now = new.sent_at;
    let held = new.hold;
    let raised = new.escalation.map(|e| e.id);
    let risk_rank_before = conv.risk_rank;
    let (record, duplicate) = match outcome {
        InsertOutcome::Stored(m) => {
            metrics::counter!(telemetry::MESSAGES_STORED).increment(1);
            if let Some(id) = &raised {
                crate::escalation::raised(state, id).await;
            }
            if conv.state == ConversationState::Assigned
                && conv.assigned_to.as_deref() == Some(user.id.as_str())
                && conv.first_reply_at.is_none()
            {
                state.store.mark_first_reply(&conv.id, user.id.as_str(), now).await?;
                let waited_from = conv.requeued_at.unwrap_or(conv.created_at);
                metrics::histogram!(telemetry::FIRST_REPLY_SECONDS).record((now - waited_from).max(0) as f64 / 1000.0);
                state.conversation_cache.update(&conv.id, |c| c.first_reply_at = Some(now));
                first_reply_made(state, &conv.id).await;
            }
            let rank = new.conversation_risk.max(verdict.severity).rank();
            if rank > risk_rank_before {
                state.conversation_cache.update(&conv.id, |c| c.risk_rank = c.risk_rank.max(rank));
            }
            if conv.state == ConversationState::Queued && rank > risk_rank_before {
                // A waiting young person who says something risky moves up at once.
                queue::changed(state).await;
            } else if conv.kind == ConversationKind::Support && rank > risk_rank_before {
                risk_rose(state, &conv.id).await;
            }
            reply_push(state, user, &conv);
            (m, false)
        }
        InsertOutcome::Duplicate(m) => {
            if m.conversation_id != conversation_id.0 {
                return Err(ApiError::Conflict("client_msg_id was already used in another conversation".into()));
            }
            (m, true)
        }
        InsertOutcome::ConversationClosed => {
            state.conversation_cache.forget(conversation_id.as_str());
            return Err(ApiError::Conflict("this conversation is closed".into()));
        }
        InsertOutcome::Stale => unreachable!("a stale outcome is retried above"),
    };
    match staff_message_view(&record, in_room) {
        // A duplicate is published again: if the node died between commit and publish the
        // first time, this delivers it now; receivers drop what they have by `seq`.
        Some(view) if duplicate => state.hub.publish(Event::Message(view)),
        Some(_) => {}
        None if !duplicate => {
            if let Some(item) = held {
                crate::moderation_queue::announce_new(state, &item.id).await;
            }
        }
        None => {}
    }
    Ok(Sent { message_id: MessageId(record.id.clone()), seq: record.seq, duplicate })
}

/// Staff wrote in a young person's chat while the young person has no socket open on this node
/// (the page closed, the app in the background): a content-free notification to their devices,
/// queued, never awaited (a slow push service cannot delay the message). A message left out of
/// hours and answered later is one of these.
fn reply_push(state: &AppState, sender: &AuthUser, conv: &ConversationRecord) {
    if conv.kind != ConversationKind::Support || sender.role == Role::YoungPerson {
        return;
    }
    let Some(owner) = conv.owner_id.as_deref() else { return };
    if owner == sender.id.as_str() || state.hub.connections_of(&UserId(owner.to_owned())) > 0 {
        return;
    }
    state.push.notify(owner, Some(conv.id.as_str()), crate::push::Reason::Reply);
}
