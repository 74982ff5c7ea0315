//! Support conversations: who may do what, and the one code path for each action. The REST
//! handlers and the WebSocket connection both call these functions, so authorisation,
//! validation, limits, moderation, storage and fan-out happen in exactly one place.

use std::time::Instant;

use talkzone_mobile_api::{
    limits, ConversationId, ConversationKind, ConversationState, ConversationView, MessageId, MessageKind, MessageView,
    MessagesPage, Role, ServerFrame, UserId, UserView,
};
use talkzone_moderation::Context;

use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::hub::Event;
use crate::state::AppState;
use crate::store::{AcceptOutcome, ConversationRecord, Expected, Handover, InsertOutcome, MessageRecord, NewMessage};
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
///
/// Peer rooms: members may write (read once closed); moderators and supervisors may read;
/// nobody else, not even other young people until they join.
pub fn access(user: &AuthUser, conv: &ConversationRecord, member: bool) -> Access {
    if conv.kind == "room" {
        return match (member, user.role) {
            (true, _) if conv.state != "closed" => Access::Write,
            (true, _) | (_, Role::Moderator | Role::Supervisor) => Access::Read,
            _ => Access::None,
        };
    }
    let uid = user.id.as_str();
    let open = conv.state != "closed";
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
        Role::DutyWorker if conv.state == "queued" => Access::Read,
        _ => Access::None,
    }
}

/// Whether the caller's access lasts only while the conversation is queued (a duty worker
/// triaging a chat that is not theirs): such subscriptions end when it is accepted.
pub fn triage_only(user: &AuthUser, conv: &ConversationRecord) -> bool {
    let uid = user.id.as_str();
    let participant = conv.owner_id.as_deref() == Some(uid) || conv.assigned_to.as_deref() == Some(uid);
    conv.kind != "room" && !participant && user.role == Role::DutyWorker
}

/// The caller's access to a conversation (membership is looked up only where it matters: rooms,
/// and supervisors who may have joined a support chat).
pub async fn access_of(state: &AppState, user: &AuthUser, conv: &ConversationRecord) -> ApiResult<Access> {
    let lookup = conv.kind == "room" || user.role == Role::Supervisor;
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

async fn load_writable(state: &AppState, user: &AuthUser, id: &ConversationId) -> ApiResult<ConversationRecord> {
    let conv = state.store.conversation(id.as_str()).await?.ok_or(ApiError::NotFound)?;
    match access_of(state, user, &conv).await? {
        Access::None => Err(ApiError::NotFound),
        Access::Write => Ok(conv),
        Access::Read if conv.state == "closed" => Err(ApiError::Conflict("this conversation is closed".into())),
        Access::Read => Err(ApiError::Forbidden("only the conversation's participants can do this")),
    }
}

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
        (conv.kind == "support").then(|| Expected { state: conv.state.clone(), assigned_to: conv.assigned_to.clone() })
    };
    if !fresh && user.role != Role::Supervisor {
        if let Some(conv) = state.conversation_cache.get(id.as_str()) {
            if conv.kind == "support" && access(user, &conv, false) == Access::Write {
                let expected = expect(&conv);
                return Ok((conv, expected));
            }
        }
    }
    let conv = state.conversation_cache.put(load_writable(state, user, id).await?);
    let expected = expect(&conv);
    Ok((conv, expected))
}

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
    if conv.kind == "room" {
        UserId(room_pseudonym(&conv.id, user_id.as_str()))
    } else {
        user_id.clone()
    }
}

/// The stored verdict as staff see it.
fn moderation_summary(verdict_json: Option<&str>) -> Option<talkzone_mobile_api::ModerationSummary> {
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
    let sender = match (&m.sender_id, m.sender_role.as_deref().and_then(Role::parse)) {
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
        kind: MessageKind::parse(&m.kind).unwrap_or(MessageKind::Text),
        removed: m.status == "removed",
        moderation: None,
    })
}

fn user_of(id: &Option<String>, name: &Option<String>, role: Role) -> Option<UserView> {
    id.as_ref().map(|id| UserView { id: UserId(id.clone()), role, display_name: name.clone().unwrap_or_default() })
}

/// A stored conversation's kind and state as the protocol names them.
pub(crate) fn kind_and_state(c: &ConversationRecord) -> ApiResult<(ConversationKind, ConversationState)> {
    let kind = if c.kind == "room" { ConversationKind::Room } else { ConversationKind::Support };
    let state =
        ConversationState::parse(&c.state).ok_or_else(|| ApiError::Internal(format!("bad state {}", c.state)))?;
    Ok((kind, state))
}

/// The conversation as the API shows it to `viewer`, with queue position and wait while
/// queued, and room details for rooms.
pub async fn view(state: &AppState, viewer: &AuthUser, c: &ConversationRecord) -> ApiResult<ConversationView> {
    let room = if c.kind == "room" {
        let joined = state.store.membership(&c.id, viewer.id.as_str()).await?.is_some();
        Some(crate::rooms::room_info(c, joined))
    } else {
        None
    };
    let (kind, state_enum) = kind_and_state(c)?;
    // Risk, outcome and tags are the service's safeguarding record of a support chat: staff only.
    let staff_record = viewer.role.is_staff() && c.kind == "support";
    let (queue_position, estimated_wait_s) = if state_enum == ConversationState::Queued {
        let position = state.store.queue_position(&c.id).await?;
        match position {
            Some(p) => {
                let available = queue::available_workers(state).await?;
                (Some(p), Some(queue::estimate_wait_s(p, available, queue::typical_chat_s(state).await?)))
            }
            None => (None, None),
        }
    } else {
        (None, None)
    };
    Ok(ConversationView {
        id: ConversationId(c.id.clone()),
        kind,
        state: state_enum,
        topic: c.topic.clone(),
        created_at: rfc3339(c.created_at),
        young_person: user_of(&c.owner_id, &c.owner_name, Role::YoungPerson),
        assigned_to: c.assigned_to.as_ref().map(|id| UserView {
            id: UserId(id.clone()),
            role: c.assigned_role.as_deref().and_then(Role::parse).unwrap_or(Role::DutyWorker),
            display_name: c.assigned_name.clone().unwrap_or_default(),
        }),
        queue_position,
        estimated_wait_s,
        last_seq: c.last_seq,
        risk: staff_record.then(|| c.risk.clone()),
        outcome: c.outcome.clone().filter(|_| staff_record),
        tags: if staff_record { tags_of(c) } else { Vec::new() },
        room,
        // Monitoring is transparent: the young person sees who may read their chat, in plain
        // words, with whether they acknowledged this version of the notice.
        monitoring_notice: if c.kind == "support" && c.owner_id.as_deref() == Some(viewer.id.as_str()) {
            Some(crate::http::notice::view_for(state, viewer.id.as_str()).await?)
        } else {
            None
        },
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
    let in_room = conv.kind == "room";
    let now = state.clock.now_ms();
    let (verdict, action) = if kind == MessageKind::ServiceCard {
        // A directory entry the YOT wrote, not the sender's words: classifying it would
        // raise escalations for sharing, say, a self-harm support service, and redaction
        // would remove the very phone number being shared.
        (not_classified(body), None)
    } else {
        let (verdict, action) = state.moderation.assess(body, if in_room { Context::Room } else { Context::Support });
        (verdict, Some(action))
    };
    let mut delivered_body = body.to_owned();
    let mut original_body = None;
    let mut hold = None;
    if in_room {
        crate::rooms::check_not_muted(state, user, now).await?;
    }
    if let (true, Some(action)) = (in_room, action) {
        let plan = crate::rooms::plan(conv, &verdict, action);
        if let Some((reason, severity)) = plan.hold {
            hold = Some(crate::store::NewModerationItem {
                id: crate::ids::random_id(),
                kind: "hold".into(),
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
    let escalation = crate::escalation::automatic(state, &conv.id, &message_id, &verdict, now);
    let new = NewMessage {
        id: message_id,
        conversation_id: conv.id.clone(),
        sender_id: Some(user.id.0.clone()),
        sender_role: Some(user.role.as_str().to_owned()),
        sender_name: Some(user.display_name.clone()),
        client_msg_id: Some(client_msg_id.to_owned()),
        body: delivered_body,
        kind: kind.as_str().to_owned(),
        sent_at: now,
        severity: verdict.severity.as_str().to_owned(),
        verdict: serde_json::to_string(&verdict).ok(),
        original_body,
        hold,
        escalation,
        expect,
    };
    Ok((new, verdict))
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
pub(crate) async fn send(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
    client_msg_id: &str,
    body: &str,
    kind: MessageKind,
) -> ApiResult<Sent> {
    validate_client_msg_id(client_msg_id)?;
    validate_body(body)?;
    state.limits.check_user_message(user.id.as_str())?;
    let mut fresh = false;
    let mut attempt = 0;
    let (conv, verdict, new, outcome) = loop {
        attempt += 1;
        let (conv, expect) = load_for_send(state, user, conversation_id, fresh).await?;
        let (new, verdict) = draft_message(state, user, &conv, client_msg_id, body, kind, expect).await?;
        let started = Instant::now();
        // Stored by group commit; a message stored now is already published, in commit order.
        let outcome = state.messages.insert(new.clone(), conv.kind == "room").await?;
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
    let in_room = conv.kind == "room";
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
            if conv.state == "assigned"
                && conv.assigned_to.as_deref() == Some(user.id.as_str())
                && conv.first_reply_at.is_none()
            {
                state.store.mark_first_reply(&conv.id, user.id.as_str(), now).await?;
                state.conversation_cache.update(&conv.id, |c| c.first_reply_at = Some(now));
            }
            let rank = crate::store::severity_rank(verdict.severity.as_str());
            if rank > risk_rank_before {
                state.conversation_cache.update(&conv.id, |c| c.risk_rank = c.risk_rank.max(rank));
            }
            if conv.state == "queued" && rank > risk_rank_before {
                // A waiting young person who says something risky moves up at once.
                queue::changed(state).await;
            }
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

/// `POST /v1/conversations`: opens the caller's support conversation, or returns the open one.
pub async fn open(
    state: &AppState,
    user: &AuthUser,
    topic: Option<String>,
    first_message: Option<String>,
) -> ApiResult<(ConversationView, bool)> {
    user.require(&[Role::YoungPerson])?;
    check_contact_limit(state, user).await?;
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
    if created {
        // The monitoring notice comes first, before anything is said.
        crate::http::notice::announce(state, user.id.as_str(), &record.id).await?;
    }
    if let Some(body) = &first_message {
        // A deterministic id: retrying the same POST never stores the first message twice.
        let client_id = format!("first:{}", record.id);
        send_message(state, user, &conversation_id, &client_id, body).await?;
    }
    let record = state.store.conversation(&record.id).await?.ok_or(ApiError::NotFound)?;
    if created {
        // Nobody free (none on duty and connected): say so at once, with where to get help now.
        if queue::available_workers(state).await? == 0 {
            system_message(state, &record.id, &state.config.desk.no_one_available_text).await?;
        }
        queue::changed(state).await;
    }
    let record = state.store.conversation(&record.id).await?.ok_or(ApiError::NotFound)?;
    Ok((view(state, user, &record).await?, created))
}

/// `accept`: a duty worker or supervisor takes a queued conversation. Of racing workers,
/// exactly one wins; the others get `already_assigned`.
pub async fn accept(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
) -> ApiResult<ConversationView> {
    user.require(&[Role::DutyWorker, Role::Supervisor])?;
    // Accepting puts the worker on duty, so the wellbeing caps apply here too.
    crate::desk::check_may_go_on_duty(state, user).await?;
    let now = state.clock.now_ms();
    let announcement = announcement(
        state,
        conversation_id.as_str(),
        &format!("{} from the Talk Zone team has joined the chat.", user.display_name),
    );
    let entry = audit::event(
        now,
        Some(user.id.as_str()),
        "conversation_accepted",
        "conversation",
        conversation_id.as_str(),
        None,
    );
    let outcome =
        state.store.accept_conversation(conversation_id.as_str(), user.id.as_str(), announcement, entry, now).await?;
    let (record, message) = match outcome {
        AcceptOutcome::Accepted(c, m) => (c, m),
        AcceptOutcome::AlreadyAssigned => return Err(ApiError::AlreadyAssigned),
        AcceptOutcome::Closed => return Err(ApiError::Conflict("this conversation is closed".into())),
        AcceptOutcome::NotFound => return Err(ApiError::NotFound),
    };
    // Other workers triaging it lose access now: end their live subscriptions.
    state.hub.publish(Event::EndTriage { conversation_id: conversation_id.clone(), keep_user: user.id.clone() });
    // Accepting a chat puts the worker on duty (protocol).
    let entry =
        audit::event(now, Some(user.id.as_str()), "duty_on", "user", user.id.as_str(), Some("accepted a chat".into()));
    state.store.set_on_duty(user.id.as_str(), true, now, Some(entry)).await?;
    let conv_view = view(state, user, &record).await?;
    if let Some(m) = message_view(&message, false) {
        state.hub.publish(Event::Message(m));
    }
    tell_parties(state, &record, [record.owner_id.as_deref(), record.assigned_to.as_deref()]).await?;
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
    let conv = load_readable(state, user, conversation_id).await?;
    if conv.kind == "support" {
        crate::privacy::staff_read(state, user, &conv.id, "history").await;
    }
    let rows = state.store.messages_after(conversation_id.as_str(), after_seq, limit).await?;
    let messages: Vec<MessageView> =
        rows.iter().filter_map(|m| message_view_for(user, m, conv.kind == "room")).collect();
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
    let conv = load_writable(state, user, conversation_id).await?;
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

/// `PUT /v1/me/duty` and the `duty` frame.
pub async fn set_duty(state: &AppState, user: &AuthUser, on_duty: bool) -> ApiResult<bool> {
    user.require(&[Role::DutyWorker, Role::Supervisor])?;
    if on_duty {
        crate::desk::check_may_go_on_duty(state, user).await?;
    }
    let now = state.clock.now_ms();
    let action = if on_duty { "duty_on" } else { "duty_off" };
    let entry = audit::event(now, Some(user.id.as_str()), action, "user", user.id.as_str(), None);
    state.store.set_on_duty(user.id.as_str(), on_duty, now, Some(entry)).await?;
    queue::changed(state).await;
    Ok(on_duty)
}

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
pub(crate) fn announcement(state: &AppState, conversation_id: &str, body: &str) -> NewMessage {
    NewMessage {
        id: crate::ids::random_id(),
        conversation_id: conversation_id.to_owned(),
        sender_id: None,
        sender_role: None,
        sender_name: None,
        client_msg_id: None,
        body: body.to_owned(),
        kind: MessageKind::System.as_str().to_owned(),
        sent_at: state.clock.now_ms(),
        severity: "none".into(),
        verdict: None,
        original_body: None,
        hold: None,
        escalation: None,
        expect: None,
    }
}

/// After a hand-over: deliver the system message, tell both sides, update the queue.
async fn handed_over(
    state: &AppState,
    viewer: &AuthUser,
    record: &ConversationRecord,
    message: &MessageRecord,
    also_tell: Option<&str>,
) -> ApiResult<ConversationView> {
    if let Some(v) = staff_message_view(message, false) {
        state.hub.publish(Event::Message(v));
    }
    tell_parties(state, record, [record.owner_id.as_deref(), record.assigned_to.as_deref(), also_tell]).await?;
    queue::changed(state).await;
    view(state, viewer, record).await
}

/// Sends a support chat's new state to each of its parties' connections, each as they may see
/// it: the young person without the staff record (risk, outcome, tags), with their monitoring
/// notice. A view depends only on who the viewer is and whether they are staff.
async fn tell_parties<'a>(
    state: &AppState,
    record: &ConversationRecord,
    parties: impl IntoIterator<Item = Option<&'a str>>,
) -> ApiResult<()> {
    for uid in parties.into_iter().flatten() {
        let viewer = if record.owner_id.as_deref() == Some(uid) {
            AuthUser {
                id: UserId(uid.to_owned()),
                role: Role::YoungPerson,
                display_name: record.owner_name.clone().unwrap_or_default(),
            }
        } else {
            AuthUser { id: UserId(uid.to_owned()), role: Role::DutyWorker, display_name: String::new() }
        };
        let frame = ServerFrame::Conversation(view(state, &viewer, record).await?);
        state.hub.publish(Event::ToUser { user_id: viewer.id, frame });
    }
    Ok(())
}

/// The assigned worker, or a supervisor, may hand a chat over.
fn may_hand_over(user: &AuthUser, conv: &ConversationRecord) -> ApiResult<Option<String>> {
    if conv.kind != "support" {
        return Err(ApiError::NotFound);
    }
    match user.role {
        Role::Supervisor => Ok(None),
        Role::DutyWorker if conv.assigned_to.as_deref() == Some(user.id.as_str()) => Ok(Some(user.id.0.clone())),
        Role::DutyWorker => Err(ApiError::Forbidden("only the assigned worker or a supervisor can do this")),
        _ => Err(ApiError::Forbidden("your role may not do this")),
    }
}

fn check_reason(reason: &str) -> ApiResult<()> {
    crate::input::require_text("reason", reason, 1000)
}

/// `POST /v1/conversations/{id}/requeue`: back to the queue, ahead of new arrivals at the same
/// risk. Also used when an assignment times out (`actor` = None).
pub async fn requeue(
    state: &AppState,
    user: Option<&AuthUser>,
    conversation_id: &ConversationId,
    reason: &str,
) -> ApiResult<Option<ConversationRecord>> {
    let conv = state.store.conversation(conversation_id.as_str()).await?.ok_or(ApiError::NotFound)?;
    let from = match user {
        Some(u) => {
            check_reason(reason)?;
            if access_of(state, u, &conv).await? == Access::None {
                return Err(ApiError::NotFound);
            }
            may_hand_over(u, &conv)?.or(conv.assigned_to.clone())
        }
        None => conv.assigned_to.clone(),
    };
    let body =
        "You're back in the queue: the next available worker will pick up your chat. Your messages so far stay here.";
    let now = state.clock.now_ms();
    let entry = audit::event(
        now,
        user.map(|u| u.id.as_str()),
        "conversation_requeued",
        "conversation",
        &conv.id,
        Some(reason.to_owned()),
    );
    let Some((record, message)) = state
        .store
        .hand_over(&conv.id, from.as_deref(), Handover::Requeue, announcement(state, &conv.id, body), entry, now)
        .await?
    else {
        return Err(ApiError::Conflict("this conversation is not assigned".into()));
    };
    let viewer = user.cloned().unwrap_or_else(system_viewer);
    handed_over(state, &viewer, &record, &message, from.as_deref()).await?;
    Ok(Some(record))
}

/// Stands in for "the service itself" when no person acts (timeouts).
fn system_viewer() -> AuthUser {
    AuthUser { id: UserId("system".into()), role: Role::Supervisor, display_name: "Talk Zone".into() }
}

/// `POST /v1/conversations/{id}/transfer`: to another worker, with the reason in the history.
pub async fn transfer(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
    to: &UserId,
    reason: &str,
) -> ApiResult<ConversationView> {
    check_reason(reason)?;
    let conv = load_readable(state, user, conversation_id).await?;
    let from = may_hand_over(user, &conv)?.or(conv.assigned_to.clone());
    let target = state.store.user(to.as_str()).await?.ok_or(ApiError::NotFound)?;
    if !matches!(Role::parse(&target.role), Some(Role::DutyWorker | Role::Supervisor)) || target.suspended_at.is_some()
    {
        return Err(ApiError::Validation("transfer to an active duty worker or supervisor".into()));
    }
    if from.as_deref() == Some(target.id.as_str()) {
        return Err(ApiError::Validation("the conversation is already with this worker".into()));
    }
    let body = format!(
        "{} has passed your chat to {}, who can see everything you've said so far. Reason: {}",
        user.display_name,
        target.display_name,
        reason.trim()
    );
    let now = state.clock.now_ms();
    let entry = audit::event(
        now,
        Some(user.id.as_str()),
        "conversation_transferred",
        "conversation",
        &conv.id,
        Some(format!("to {}: {}", target.id, reason.trim())),
    );
    let handover = Handover::Transfer { to: target.id.clone() };
    let Some((record, message)) = state
        .store
        .hand_over(&conv.id, from.as_deref(), handover, announcement(state, &conv.id, &body), entry, now)
        .await?
    else {
        return Err(ApiError::Conflict("this conversation is not assigned".into()));
    };
    state
        .hub
        .publish(Event::EndTriage { conversation_id: conversation_id.clone(), keep_user: UserId(target.id.clone()) });
    handed_over(state, user, &record, &message, from.as_deref()).await
}

/// `POST /v1/conversations/{id}/close`: with an outcome from the configured list, and tags.
pub async fn close(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
    outcome: &str,
    tags: Vec<String>,
) -> ApiResult<ConversationView> {
    let conv = load_readable(state, user, conversation_id).await?;
    let from = may_hand_over(user, &conv)?;
    if !state.config.desk.close_outcomes.iter().any(|o| o == outcome) {
        return Err(ApiError::Validation(format!(
            "outcome must be one of: {}",
            state.config.desk.close_outcomes.join(", ")
        )));
    }
    let tags = check_tags(tags)?;
    let body = "This chat has ended. Thank you for talking to us. You can start a new chat any time, day or night.";
    let now = state.clock.now_ms();
    let entry = audit::event(
        now,
        Some(user.id.as_str()),
        "conversation_closed",
        "conversation",
        &conv.id,
        Some(outcome.to_owned()),
    );
    let handover = Handover::Close { outcome: outcome.to_owned(), tags };
    let Some((record, message)) = state
        .store
        .hand_over(&conv.id, from.as_deref(), handover, announcement(state, &conv.id, body), entry, now)
        .await?
    else {
        return Err(ApiError::Conflict("this conversation is already closed".into()));
    };
    let view = handed_over(state, user, &record, &message, None).await;
    // The chat is closed whatever happens here: the feedback offer never fails the close.
    crate::surveys::feedback::offer_after_close(state, &record).await;
    view
}

/// Tags as stored: trimmed, each once, in the order given. Stored joined by commas, so a tag
/// holds none.
fn check_tags(tags: Vec<String>) -> ApiResult<Vec<String>> {
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

fn tags_of(c: &ConversationRecord) -> Vec<String> {
    c.tags.as_deref().unwrap_or("").split(',').filter(|t| !t.is_empty()).map(str::to_owned).collect()
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
        "conversation_tagged",
        "conversation",
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
) -> ApiResult<talkzone_mobile_api::NoteView> {
    user.require(&[Role::DutyWorker, Role::Supervisor])?;
    let conv = load_readable(state, user, conversation_id).await?;
    let n = body.trim().chars().count();
    if n == 0 || n > limits::MAX_BODY_CHARS {
        return Err(ApiError::Validation("a note must be 1 to 4000 characters".into()));
    }
    let note = crate::store::NoteRecord {
        id: crate::ids::random_id(),
        conversation_id: conv.id.clone(),
        author_id: user.id.0.clone(),
        author_name: Some(user.display_name.clone()),
        body: body.trim().to_owned(),
        created_at: state.clock.now_ms(),
    };
    state.store.add_note(note.clone()).await?;
    Ok(note_view(&note, user.role))
}

fn note_view(n: &crate::store::NoteRecord, role: Role) -> talkzone_mobile_api::NoteView {
    talkzone_mobile_api::NoteView {
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

/// `GET /v1/conversations/{id}/notes` (staff with access).
pub async fn notes(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
) -> ApiResult<Vec<talkzone_mobile_api::NoteView>> {
    user.require(&[Role::DutyWorker, Role::Supervisor])?;
    let conv = load_readable(state, user, conversation_id).await?;
    let mut out = Vec::new();
    for n in state.store.notes(&conv.id).await? {
        let role = state.store.user(&n.author_id).await?.and_then(|u| Role::parse(&u.role)).unwrap_or(Role::DutyWorker);
        out.push(note_view(&n, role));
    }
    Ok(out)
}

/// Chats whose worker has not replied within the assignment timeout go back to the head of
/// their risk band in the queue, with a note in the audit log. Run on every node's tick; the
/// conditional update in the store makes each happen once.
pub async fn return_unanswered(state: &AppState) -> ApiResult<usize> {
    let cutoff = state.clock.now_ms() - state.config.desk.assignment_timeout.as_millis() as i64;
    let mut n = 0;
    for c in state.store.unanswered_assignments(cutoff).await? {
        let reason =
            format!("no first reply within {} s of being assigned", state.config.desk.assignment_timeout.as_secs());
        match requeue(state, None, &ConversationId(c.id.clone()), &reason).await {
            Ok(_) => n += 1,
            Err(ApiError::Conflict(_)) => {} // another node got there first, or it was answered
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Young people may open a limited number of chats a day (configurable); past it they are
/// told kindly when they can start another, and where to get help now. Their open chat is
/// always theirs to use.
async fn check_contact_limit(state: &AppState, user: &AuthUser) -> ApiResult<()> {
    let now = state.clock.now_ms();
    let since = now - 24 * 3600 * 1000;
    let mut recent: Vec<i64> = state
        .store
        .conversations_of_owner(user.id.as_str())
        .await?
        .iter()
        .filter(|c| c.kind == "support")
        .map(|c| {
            if c.state != "closed" {
                i64::MAX // an open chat is returned, not counted
            } else {
                c.created_at
            }
        })
        .collect();
    if recent.contains(&i64::MAX) {
        return Ok(());
    }
    recent.retain(|t| *t >= since);
    if recent.len() < state.config.desk.chats_per_day as usize {
        return Ok(());
    }
    let oldest = recent.iter().min().copied().unwrap_or(now);
    Err(ApiError::ForbiddenBecause(format!(
        "You've started {} chats today, which is as many as we can offer in a day. You can start another after {}. \
         If you're in danger now, call 999. Childline is free on 0800 1111, any time, and you can text SHOUT to 85258.",
        recent.len(),
        rfc3339(oldest + 24 * 3600 * 1000)
    )))
}

/// Chats of workers who went offline or off duty return to the queue after the grace period,
/// ahead of new arrivals. Workers connected to this node are never counted as gone.
pub async fn return_stranded(state: &AppState) -> ApiResult<usize> {
    let now = state.clock.now_ms();
    let grace = state.config.desk.disconnect_grace.as_millis() as i64;
    let mut n = 0;
    for c in state.store.stranded_assignments(now - grace, now - grace).await? {
        let Some(worker) = c.assigned_to.clone() else { continue };
        let worker_id = UserId(worker.clone());
        let record = state.store.user(&worker).await?;
        let on_duty = record.as_ref().is_some_and(|u| u.on_duty);
        if on_duty && state.hub.connections_of(&worker_id) > 0 {
            continue;
        }
        let reason = if on_duty { "the worker went offline" } else { "the worker went off duty" };
        match requeue(state, None, &ConversationId(c.id.clone()), reason).await {
            Ok(_) => n += 1,
            Err(ApiError::Conflict(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// `POST /v1/conversations/{id}/join`: a supervisor joins a support chat (to help, or take it
/// over); the young person is told who and why, in plain words.
pub async fn join_as_supervisor(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
) -> ApiResult<ConversationView> {
    user.require(&[Role::Supervisor])?;
    let conv = load_readable(state, user, conversation_id).await?;
    if conv.kind != "support" || conv.state == "closed" {
        return Err(ApiError::Conflict("only an open support chat can be joined".into()));
    }
    let now = state.clock.now_ms();
    let entry = audit::event(now, Some(user.id.as_str()), "supervisor_joined", "conversation", &conv.id, None);
    state.store.join(&conv.id, user.id.as_str(), "supervisor", now, Some(entry)).await?;
    system_message(
        state,
        &conv.id,
        &format!(
            "{}, a supervisor from the Talk Zone team, has joined the chat to help keep you safe.",
            user.display_name
        ),
    )
    .await?;
    let record = state.store.conversation(&conv.id).await?.ok_or(ApiError::NotFound)?;
    view(state, user, &record).await
}
