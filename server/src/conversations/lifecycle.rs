//! A support chat's life: open, accept (by a worker or by auto-assignment), requeue, transfer,
//! a supervisor joining, close; and the timeouts that return chats to the queue.

use talkzone_mobile_api::{ConversationId, ConversationView, EndReason, Role, UserId};

use super::access::{access_of, load_readable, may_hand_over, Access};
use super::notes::check_tags;
use super::send::{send_message, validate_body};
use super::system::{announcement, system_message, system_viewer};
use super::view::{tell_joined_supervisors, tell_parties, view};
use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget, ClosedReason, ConversationKind, ConversationState};
use crate::realtime::Event;
use crate::state::AppState;
use crate::store::{AcceptOutcome, ChatSource, ConversationRecord, Handover, MessageRecord, OpenOutcome};
use crate::views::{message_view, staff_message_view, tags_of};
use crate::{audit, queue};

/// Where to get help now, for a young person the service cannot take a chat from just now.
const HELP_NOW: &str = "If you're in danger now, call 999. Childline is free on 0800 1111, any time, you can call \
    Samaritans on 116 123, or text SHOUT to 85258.";

/// `POST /v1/conversations`: opens the caller's support conversation, or returns the open one.
/// A new chat from `source` (the client's address) is refused while the source is blocked
/// (marked as abuse) or already has `open_chats_per_source` chats waiting (0: sources are not
/// kept at all).
pub async fn open(
    state: &AppState,
    user: &AuthUser,
    topic: Option<String>,
    first_message: Option<String>,
    source: std::net::IpAddr,
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
    // `open_chats_per_source` 0: sources are not kept (no cap, no fair share, no blocks).
    let max_waiting = state.config.limits.open_chats_per_source;
    let source = (max_waiting > 0).then(|| ChatSource { key: state.limits.source_key(source), max_waiting });
    let now = state.clock.now_ms();
    let opened =
        state.store.open_sourced_conversation(&id, user.id.as_str(), topic.as_deref(), now, source.as_ref()).await?;
    let (record, created) = match opened {
        OpenOutcome::Opened(c) => (c, true),
        OpenOutcome::Existing(c) => (c, false),
        // The same words whether or not this is the person who was marked: a school or a
        // family may share the address.
        OpenOutcome::SourceBlocked { .. } => {
            return Err(ApiError::ForbiddenBecause(format!(
                "We can't start a chat from the network you're on right now. Please try from another connection, \
                 such as mobile data. {HELP_NOW}"
            )))
        }
        OpenOutcome::SourceFull => {
            return Err(ApiError::RateLimitedBecause {
                message: format!(
                    "Lots of chats are already waiting from the network you're on, so we can't add another just now. \
                     Please try again in a few minutes. {HELP_NOW}"
                ),
                retry_after: std::time::Duration::from_secs(60),
            })
        }
    };
    let conversation_id = ConversationId(record.id.clone());
    if created {
        // The monitoring notice comes first, before anything is said.
        crate::privacy::notice::announce(state, user.id.as_str(), &record.id).await?;
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
        AuditAction::ConversationAccepted,
        AuditTarget::Conversation,
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
    let waited_from = record.requeued_at.unwrap_or(record.created_at);
    metrics::histogram!(crate::telemetry::QUEUE_WAIT_SECONDS).record((now - waited_from).max(0) as f64 / 1000.0);
    // Other workers triaging it lose access now: end their live subscriptions.
    state.hub.publish(Event::EndTriage { conversation_id: conversation_id.clone(), keep_user: user.id.clone() });
    // Accepting a chat puts the worker on duty (protocol).
    let entry = audit::event(
        now,
        Some(user.id.as_str()),
        AuditAction::DutyOn,
        AuditTarget::User,
        user.id.as_str(),
        Some("accepted a chat".into()),
    );
    state.store.set_on_duty(user.id.as_str(), true, now, Some(entry)).await?;
    let conv_view = view(state, user, &record).await?;
    if let Some(m) = message_view(&message, false) {
        state.hub.publish(Event::Message(m));
    }
    tell_parties(state, &record, [record.owner_id.as_deref(), record.assigned_to.as_deref()]).await?;
    // A young person who waited may have switched to another app: tell their devices too
    // (content-free; queued, never awaited).
    if let Some(owner) = &record.owner_id {
        state.push.notify(owner, Some(record.id.as_str()), crate::push::Reason::Accepted);
    }
    queue::changed(state).await;
    Ok(conv_view)
}

/// After a hand-over: deliver the system message, tell both sides, update the queue.
pub(super) async fn handed_over(
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
        AuditAction::ConversationRequeued,
        AuditTarget::Conversation,
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
    if !matches!(target.role, Role::DutyWorker | Role::Supervisor) || !target.is_active() {
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
        AuditAction::ConversationTransferred,
        AuditTarget::Conversation,
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
    // Closing adds to the tags a worker gave during the chat; it never wipes them.
    let tags = check_tags(tags)?;
    let tags = if tags.is_empty() { None } else { Some(check_tags(tags_of(&conv).into_iter().chain(tags).collect())?) };
    let body = "This chat has ended. Thank you for talking to us. You can start a new chat any time, day or night.";
    let now = state.clock.now_ms();
    let entry = audit::event(
        now,
        Some(user.id.as_str()),
        AuditAction::ConversationClosed,
        AuditTarget::Conversation,
        &conv.id,
        Some(outcome.to_owned()),
    );
    let handover = Handover::Close { outcome: outcome.to_owned(), tags, reason: ClosedReason::Staff };
    let Some((record, message)) = state
        .store
        .hand_over(&conv.id, from.as_deref(), handover, announcement(state, &conv.id, body), entry, now)
        .await?
    else {
        return Err(ApiError::Conflict("this conversation is already closed".into()));
    };
    let view = handed_over(state, user, &record, &message, None).await;
    // A supervisor who joined is told too: they may be the only one still watching it.
    if let Err(e) = tell_joined_supervisors(state, &record).await {
        tracing::warn!(error = %e, conversation = %record.id, "could not tell joined supervisors of a close");
    }
    // The chat is closed whatever happens here: the feedback offer never fails the close.
    crate::surveys::feedback::offer_after_close(state, &record).await;
    view
}

/// The outcome of a chat the young person ended themselves.
pub const YOUNG_PERSON_LEFT: &str = "young_person_left";

/// `POST /v1/conversations/{id}/end`: the young person ends their own support chat, queued or
/// with a worker, with the outcome [`YOUNG_PERSON_LEFT`] (whatever the configured list says:
/// it is how the service counts chats its young people ended). The worker reads why in the
/// chat; the tags staff gave it are kept. A quick exit ends it too (see docs/duty-desk.md):
/// the page forgets the session at once, so nobody could come back to it, and a chat with
/// nobody there must not be accepted, or wait in the queue ahead of someone who is there.
pub async fn end_by_young_person(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
    reason: EndReason,
) -> ApiResult<ConversationView> {
    user.require(&[Role::YoungPerson])?;
    let conv = state.store.conversation(conversation_id.as_str()).await?.ok_or(ApiError::NotFound)?;
    if conv.kind != ConversationKind::Support || conv.owner_id.as_deref() != Some(user.id.as_str()) {
        return Err(ApiError::NotFound);
    }
    if conv.state == ConversationState::Closed {
        return Err(ApiError::Conflict("this chat has already ended".into()));
    }
    let (body, detail) = match reason {
        EndReason::Ended => (
            format!(
                "{} ended the chat. Thank you for talking to us. You can start a new chat any time, day or night.",
                user.display_name
            ),
            "young_person_left: ended the chat",
        ),
        EndReason::QuickExit => (
            format!(
                "{} left with the quick exit button, so this chat has ended. They may have been interrupted or not be safe to talk: you can still add notes and tags, or escalate.",
                user.display_name
            ),
            "young_person_left: quick exit",
        ),
    };
    let now = state.clock.now_ms();
    let entry = audit::event(
        now,
        Some(user.id.as_str()),
        AuditAction::ConversationClosed,
        AuditTarget::Conversation,
        &conv.id,
        Some(detail.to_owned()),
    );
    // The chat's tags stay as the worker left them.
    let closed_reason = match reason {
        EndReason::Ended => ClosedReason::Ended,
        EndReason::QuickExit => ClosedReason::QuickExit,
    };
    let handover = Handover::Close { outcome: YOUNG_PERSON_LEFT.to_owned(), tags: None, reason: closed_reason };
    let Some((record, message)) =
        state.store.hand_over(&conv.id, None, handover, announcement(state, &conv.id, &body), entry, now).await?
    else {
        return Err(ApiError::Conflict("this chat has already ended".into()));
    };
    let view = handed_over(state, user, &record, &message, None).await;
    if reason == EndReason::Ended {
        crate::surveys::feedback::offer_after_close(state, &record).await;
    }
    view
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
    if conv.kind != ConversationKind::Support || conv.state == ConversationState::Closed {
        return Err(ApiError::Conflict("only an open support chat can be joined".into()));
    }
    let now = state.clock.now_ms();
    let entry = audit::event(
        now,
        Some(user.id.as_str()),
        AuditAction::SupervisorJoined,
        AuditTarget::Conversation,
        &conv.id,
        None,
    );
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

/// Longest a source stays blocked after a chat is marked as abuse, and the default.
pub const MAX_ABUSE_BLOCK_HOURS: u32 = 7 * 24;
pub const DEFAULT_ABUSE_BLOCK_HOURS: u32 = 24;

/// `POST /v1/conversations/{id}/abuse`: a supervisor marks an open support chat as abuse (a
/// script, someone flooding the queue). It closes (outcome `marked_as_abuse`), its source
/// (the address it came from) may open no chat and make no sign-up for `block_hours`, and
/// its unresolved escalations are resolved; all in the audit log, in one transaction.
pub async fn mark_abuse(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
    reason: &str,
    block_hours: Option<u32>,
) -> ApiResult<ConversationView> {
    user.require(&[Role::Supervisor])?;
    check_reason(reason)?;
    let hours = block_hours.unwrap_or(DEFAULT_ABUSE_BLOCK_HOURS);
    if !(1..=MAX_ABUSE_BLOCK_HOURS).contains(&hours) {
        return Err(ApiError::Validation(format!("block_hours must be 1 to {MAX_ABUSE_BLOCK_HOURS}")));
    }
    let conv = load_readable(state, user, conversation_id).await?;
    if conv.kind != ConversationKind::Support || conv.state == ConversationState::Closed {
        return Err(ApiError::Conflict("only an open support chat can be marked as abuse".into()));
    }
    let now = state.clock.now_ms();
    let reason = reason.trim();
    let entry = audit::event(
        now,
        Some(user.id.as_str()),
        AuditAction::ConversationMarkedAbuse,
        AuditTarget::Conversation,
        &conv.id,
        Some(format!("source blocked for {hours} h: {reason}")),
    );
    let resolved = |id: &str| {
        audit::event(
            now,
            Some(user.id.as_str()),
            AuditAction::EscalationResolved,
            AuditTarget::Escalation,
            id,
            Some("marked as abuse".into()),
        )
    };
    let body = "This chat has been closed.";
    let block_until = now + i64::from(hours) * 3_600_000;
    let marked = state
        .store
        .mark_abuse(
            &conv.id,
            user.id.as_str(),
            reason,
            block_until,
            announcement(state, &conv.id, body),
            entry,
            &resolved,
            now,
        )
        .await?
        .ok_or_else(|| ApiError::Conflict("only an open support chat can be marked as abuse".into()))?;
    state.conversation_cache.forget(&conv.id);
    for id in &marked.escalations_resolved {
        crate::escalation::changed(state, id).await;
    }
    handed_over(state, user, &marked.conversation, &marked.message, conv.assigned_to.as_deref()).await
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
        .filter(|c| c.kind == ConversationKind::Support)
        .map(|c| {
            if c.state != ConversationState::Closed {
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

/// Auto-assignment: while chats wait and someone has room, the chat at the head of the queue
/// goes to the on-duty worker with the most free capacity (ties: the longest idle). The
/// assignment itself is the same atomic accept as a manual pick-up, so two nodes can never
/// hand one chat to two workers.
pub async fn auto_assign(state: &AppState) -> ApiResult<usize> {
    if state.config.desk.routing != crate::config::Routing::Auto {
        return Ok(0);
    }
    let mut assigned = 0;
    for _ in 0..20 {
        let Some(head) = queue::entries(state).await?.into_iter().next() else { break };
        let mut staff = state.store.available_staff(state.clock.now_ms() - queue::PRESENCE_FRESH_MS).await?;
        staff.retain(|s| s.open_chats < s.capacity);
        staff.sort_by_key(|s| {
            (std::cmp::Reverse(s.capacity - s.open_chats), s.last_assigned_at.unwrap_or(i64::MIN), s.id.clone())
        });
        let Some(pick) = staff.first() else { break };
        let Some(record) = state.store.user(&pick.id).await? else { break };
        let worker = crate::auth::AuthUser {
            id: UserId(record.id.clone()),
            role: record.role,
            display_name: record.display_name.clone(),
        };
        match accept(state, &worker, &head.conversation_id).await {
            Ok(_) => assigned += 1,
            Err(crate::error::ApiError::AlreadyAssigned) => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(assigned)
}
