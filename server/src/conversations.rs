//! Support conversations: who may do what, and the one code path for each action. The REST
//! handlers and the WebSocket connection both call these functions, so authorisation,
//! validation, limits, moderation, storage and fan-out happen in exactly one place.

use std::time::Instant;

use talkzone_mobile_api::{
    limits, ConversationId, ConversationKind, ConversationState, ConversationView, MessageId, MessageKind,
    MessageView, MessagesPage, Role, ServerFrame, UserId, UserView,
};
use talkzone_moderation::Context;

use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::hub::Event;
use crate::state::AppState;
use crate::store::{AcceptOutcome, ConversationRecord, InsertOutcome, MessageRecord, NewMessage};
use crate::{audit, queue, telemetry};

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
pub fn access(user: &AuthUser, conv: &ConversationRecord) -> Access {
    let uid = user.id.as_str();
    let open = conv.state != "closed";
    let participant = conv.owner_id.as_deref() == Some(uid) || conv.assigned_to.as_deref() == Some(uid);
    if participant {
        return if open { Access::Write } else { Access::Read };
    }
    match user.role {
        Role::Supervisor => Access::Read,
        Role::DutyWorker if conv.state == "queued" => Access::Read,
        _ => Access::None,
    }
}

/// Whether the caller's access lasts only while the conversation is queued (a duty worker
/// triaging a chat that is not theirs): such subscriptions end when it is accepted.
pub fn triage_only(user: &AuthUser, conv: &ConversationRecord) -> bool {
    let uid = user.id.as_str();
    let participant = conv.owner_id.as_deref() == Some(uid) || conv.assigned_to.as_deref() == Some(uid);
    !participant && user.role == Role::DutyWorker
}

/// Loads a conversation the caller may at least read.
pub async fn load_readable(state: &AppState, user: &AuthUser, id: &ConversationId) -> ApiResult<ConversationRecord> {
    let conv = state.store.conversation(id.as_str()).await?.ok_or(ApiError::NotFound)?;
    if access(user, &conv) == Access::None {
        return Err(ApiError::NotFound);
    }
    Ok(conv)
}

async fn load_writable(state: &AppState, user: &AuthUser, id: &ConversationId) -> ApiResult<ConversationRecord> {
    let conv = load_readable(state, user, id).await?;
    match access(user, &conv) {
        Access::Write => Ok(conv),
        _ if conv.state == "closed" => Err(ApiError::Conflict("this conversation is closed".into())),
        _ => Err(ApiError::Forbidden("only the conversation's participants can do this")),
    }
}

pub fn message_view(m: &MessageRecord) -> MessageView {
    let sender = match (&m.sender_id, m.sender_role.as_deref().and_then(Role::parse)) {
        (Some(id), Some(role)) => Some(UserView {
            id: UserId(id.clone()),
            role,
            display_name: m.sender_name.clone().unwrap_or_default(),
        }),
        _ => None,
    };
    MessageView {
        conversation_id: ConversationId(m.conversation_id.clone()),
        seq: m.seq,
        message_id: MessageId(m.id.clone()),
        client_msg_id: m.client_msg_id.clone(),
        sender,
        body: m.body.clone(),
        sent_at: rfc3339(m.sent_at),
        kind: MessageKind::parse(&m.kind).unwrap_or(MessageKind::Text),
    }
}

fn user_of(id: &Option<String>, name: &Option<String>, role: Role) -> Option<UserView> {
    id.as_ref().map(|id| UserView { id: UserId(id.clone()), role, display_name: name.clone().unwrap_or_default() })
}

/// The conversation as the API shows it, with queue position and wait while queued.
pub async fn view(state: &AppState, c: &ConversationRecord) -> ApiResult<ConversationView> {
    let state_enum = ConversationState::parse(&c.state).ok_or_else(|| ApiError::Internal(format!("bad state {}", c.state)))?;
    let (queue_position, estimated_wait_s) = if state_enum == ConversationState::Queued {
        let position = state.store.queue_position(&c.id).await?;
        match position {
            Some(p) => {
                let available = queue::available_workers(state).await?;
                (Some(p), Some(queue::estimate_wait_s(p, available)))
            }
            None => (None, None),
        }
    } else {
        (None, None)
    };
    Ok(ConversationView {
        id: ConversationId(c.id.clone()),
        kind: if c.kind == "room" { ConversationKind::Room } else { ConversationKind::Support },
        state: state_enum,
        topic: c.topic.clone(),
        created_at: rfc3339(c.created_at),
        young_person: user_of(&c.owner_id, &c.owner_name, Role::YoungPerson),
        assigned_to: c
            .assigned_to
            .as_ref()
            .map(|id| UserView {
                id: UserId(id.clone()),
                role: c.assigned_role.as_deref().and_then(Role::parse).unwrap_or(Role::DutyWorker),
                display_name: c.assigned_name.clone().unwrap_or_default(),
            }),
        queue_position,
        estimated_wait_s,
        last_seq: c.last_seq,
    })
}

fn validate_body(body: &str) -> ApiResult<()> {
    if body.trim().is_empty() {
        return Err(ApiError::Validation("a message cannot be empty".into()));
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
    pub message: MessageView,
    /// The same `client_msg_id` was sent before: this is that message, nothing new stored.
    pub duplicate: bool,
}

/// `send`: the one path by which a participant's message enters a conversation.
pub async fn send_message(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
    client_msg_id: &str,
    body: &str,
) -> ApiResult<Sent> {
    validate_client_msg_id(client_msg_id)?;
    validate_body(body)?;
    state.limits.check_user_message(user.id.as_str())?;
    load_writable(state, user, conversation_id).await?;
    let verdict = state.moderation.check(body, Context::Support);
    let new = NewMessage {
        id: crate::ids::random_id(),
        conversation_id: conversation_id.0.clone(),
        sender_id: Some(user.id.0.clone()),
        sender_role: Some(user.role.as_str().to_owned()),
        sender_name: Some(user.display_name.clone()),
        client_msg_id: Some(client_msg_id.to_owned()),
        body: body.to_owned(),
        kind: MessageKind::Text.as_str().to_owned(),
        sent_at: state.clock.now_ms(),
        severity: verdict.severity.as_str().to_owned(),
        verdict: serde_json::to_string(&verdict).ok(),
    };
    let started = Instant::now();
    let outcome = state.store.insert_message(new).await?;
    metrics::histogram!(telemetry::STORE_WRITE_SECONDS).record(started.elapsed().as_secs_f64());
    let (record, duplicate) = match outcome {
        InsertOutcome::Stored(m) => {
            metrics::counter!(telemetry::MESSAGES_STORED).increment(1);
            (m, false)
        }
        InsertOutcome::Duplicate(m) => {
            if m.conversation_id != conversation_id.0 {
                return Err(ApiError::Conflict("client_msg_id was already used in another conversation".into()));
            }
            (m, true)
        }
        InsertOutcome::ConversationClosed => return Err(ApiError::Conflict("this conversation is closed".into())),
    };
    let message = message_view(&record);
    // Published again for a duplicate too: if the node died between commit and publish the
    // first time, this delivers it now; receivers drop what they have by `seq`.
    state.hub.publish(Event::Message(message.clone()));
    Ok(Sent { message, duplicate })
}

/// `POST /v1/conversations`: opens the caller's support conversation, or returns the open one.
pub async fn open(
    state: &AppState,
    user: &AuthUser,
    topic: Option<String>,
    first_message: Option<String>,
) -> ApiResult<(ConversationView, bool)> {
    user.require(&[Role::YoungPerson])?;
    if let Some(t) = &topic {
        if t.chars().count() > 200 {
            return Err(ApiError::Validation("topic can be at most 200 characters".into()));
        }
    }
    if let Some(b) = &first_message {
        validate_body(b)?;
    }
    let id = crate::ids::random_id();
    let (record, created) =
        state.store.open_support_conversation(&id, user.id.as_str(), topic.as_deref(), state.clock.now_ms()).await?;
    let conversation_id = ConversationId(record.id.clone());
    if let Some(body) = &first_message {
        // A deterministic id: retrying the same POST never stores the first message twice.
        let client_id = format!("first:{}", record.id);
        send_message(state, user, &conversation_id, &client_id, body).await?;
    }
    let record = state.store.conversation(&record.id).await?.ok_or(ApiError::NotFound)?;
    if created {
        queue::changed(state).await;
    }
    Ok((view(state, &record).await?, created))
}

/// `accept`: a duty worker or supervisor takes a queued conversation. Of racing workers,
/// exactly one wins; the others get `already_assigned`.
pub async fn accept(state: &AppState, user: &AuthUser, conversation_id: &ConversationId) -> ApiResult<ConversationView> {
    user.require(&[Role::DutyWorker, Role::Supervisor])?;
    let now = state.clock.now_ms();
    let announcement = NewMessage {
        id: crate::ids::random_id(),
        conversation_id: conversation_id.0.clone(),
        sender_id: None,
        sender_role: None,
        sender_name: None,
        client_msg_id: None,
        body: format!("{} from the Talk Zone team has joined the chat.", user.display_name),
        kind: MessageKind::System.as_str().to_owned(),
        sent_at: now,
        severity: "none".into(),
        verdict: None,
    };
    let outcome = state.store.accept_conversation(conversation_id.as_str(), user.id.as_str(), announcement, now).await?;
    let (record, message) = match outcome {
        AcceptOutcome::Accepted(c, m) => (c, m),
        AcceptOutcome::AlreadyAssigned => return Err(ApiError::AlreadyAssigned),
        AcceptOutcome::Closed => return Err(ApiError::Conflict("this conversation is closed".into())),
        AcceptOutcome::NotFound => return Err(ApiError::NotFound),
    };
    // Other workers triaging it lose access now: end their live subscriptions.
    state.hub.publish(Event::EndTriage { conversation_id: conversation_id.clone(), keep_user: user.id.clone() });
    // Accepting a chat puts the worker on duty (protocol).
    state.store.set_on_duty(user.id.as_str(), true).await?;
    audit::record(state.store.as_ref(), now, Some(user.id.as_str()), "conversation_accepted", "conversation", &record.id, None)
        .await;
    let conv_view = view(state, &record).await?;
    state.hub.publish(Event::Message(message_view(&message)));
    for uid in [record.owner_id.clone(), record.assigned_to.clone()].into_iter().flatten() {
        state.hub.publish(Event::ToUser { user_id: UserId(uid), frame: ServerFrame::Conversation(conv_view.clone()) });
    }
    queue::changed(state).await;
    Ok(conv_view)
}

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
    load_readable(state, user, conversation_id).await?;
    let rows = state.store.messages_after(conversation_id.as_str(), after_seq, limit).await?;
    let next_after_seq = rows.last().map_or(after_seq, |m| m.seq);
    Ok(MessagesPage { messages: rows.iter().map(message_view).collect(), next_after_seq })
}

/// `read`: raises the caller's read marker and tells the other participants.
pub async fn mark_read(state: &AppState, user: &AuthUser, conversation_id: &ConversationId, seq: i64) -> ApiResult<i64> {
    let conv = load_writable(state, user, conversation_id).await?;
    if seq < 0 || seq > conv.last_seq {
        return Err(ApiError::Validation(format!("seq must be between 0 and {}", conv.last_seq)));
    }
    let stored = state.store.mark_read(&conv.id, user.id.as_str(), seq, state.clock.now_ms()).await?;
    state.hub.publish(Event::ToConversation {
        conversation_id: conversation_id.clone(),
        frame: ServerFrame::Read { conversation_id: conversation_id.clone(), user_id: user.id.clone(), seq: stored },
        except_user: Some(user.id.clone()),
    });
    Ok(stored)
}

/// `typing`: ephemeral, not stored.
pub async fn typing(state: &AppState, user: &AuthUser, conversation_id: &ConversationId) -> ApiResult<()> {
    load_writable(state, user, conversation_id).await?;
    state.hub.publish(Event::ToConversation {
        conversation_id: conversation_id.clone(),
        frame: ServerFrame::Typing { conversation_id: conversation_id.clone(), user: user.view() },
        except_user: Some(user.id.clone()),
    });
    Ok(())
}

/// `PUT /v1/me/duty` and the `duty` frame.
pub async fn set_duty(state: &AppState, user: &AuthUser, on_duty: bool) -> ApiResult<bool> {
    user.require(&[Role::DutyWorker, Role::Supervisor])?;
    state.store.set_on_duty(user.id.as_str(), on_duty).await?;
    audit::record(
        state.store.as_ref(),
        state.clock.now_ms(),
        Some(user.id.as_str()),
        if on_duty { "duty_on" } else { "duty_off" },
        "user",
        user.id.as_str(),
        None,
    )
    .await;
    queue::changed(state).await;
    Ok(on_duty)
}
