//! The human moderation queue: messages held from rooms and reports by users, in one queue
//! (most severe first, then oldest), with claims that expire, decisions applied atomically,
//! kind notices to the people affected, appeals reviewed by a different moderator, actions on
//! users, and a log of every decision.

use talkzone_mobile_api::{
    AppealDecisionRequest, BulkDecisionRequest, BulkDecisionResult, BulkFailure, ConversationId, DecisionRequest,
    MessageId, ModerationAction, ModerationContext, ModerationItemView, ModerationLog, ModerationLogEntry,
    ModerationQueue, ReportReceipt, ReportRequest, Role, ServerFrame, UserActionKind, UserActionRequest, UserId,
};

use crate::auth::{user_view, AuthUser};
use crate::clock::rfc3339;
use crate::conversations::access::load_readable;
use crate::error::{ApiError, ApiResult};
use crate::model::{
    AuditAction, AuditTarget, ConversationKind, EscalationSource, EscalationState, ModerationItemKind,
    ModerationItemState, Severity,
};
use crate::realtime::Event;
use crate::state::AppState;
use crate::store::{
    ConversationRecord, DecideOutcome, ItemDecision, MessageRecord, ModLogRecord, ModerationItemRecord,
    NewModerationItem,
};
use crate::views::{message_view_for, staff_message_view};

/// How long a claim lasts without a decision.
pub const CLAIM_TTL_MS: i64 = 5 * 60 * 1000;
/// What other members see in place of a removed message.
pub const REMOVED_PLACEHOLDER: &str = "[This message was removed by a moderator]";
/// Longest mute.
pub const MAX_MUTE_S: u64 = 30 * 24 * 3600;

const MODERATORS: &[Role] = &[Role::Moderator, Role::Supervisor];

fn check_reason(reason: &str) -> ApiResult<()> {
    crate::input::require_text("reason", reason, 1000)
}

/// An item as moderators see it.
pub async fn item_view(state: &AppState, r: &ModerationItemRecord) -> ApiResult<ModerationItemView> {
    let subject_user = match &r.subject_user_id {
        Some(id) => state.store.user(id).await?.map(|u| user_view(&u)).transpose()?,
        None => None,
    };
    let now = state.clock.now_ms();
    let age_s = ((now - r.created_at).max(0) / 1000) as u64;
    let room_name = match &r.conversation_id {
        Some(id) => {
            state.store.conversation(id).await?.filter(|c| c.kind == ConversationKind::Room).and_then(|c| c.topic)
        }
        None => None,
    };
    Ok(ModerationItemView {
        id: r.id.clone(),
        kind: r.kind.as_str().to_owned(),
        conversation_id: r.conversation_id.clone().map(ConversationId),
        message_id: r.message_id.clone().map(MessageId),
        subject_user,
        reason: r.reason.clone(),
        severity: r.severity.as_str().to_owned(),
        evidence: r.evidence.clone(),
        state: r.state.as_str().to_owned(),
        claimed_by: r.claim_expires_at.filter(|e| *e > now).and(r.claimed_by.clone()).map(UserId),
        claim_expires_at: r.claim_expires_at.filter(|e| *e > now).map(rfc3339),
        decision: r.decision.clone(),
        decision_reason: r.decision_reason.clone(),
        decided_by: r.decided_by.clone().map(UserId),
        appeal_state: r.appeal_state.clone(),
        appeal_reason: r.appeal_reason.clone(),
        created_at: rfc3339(r.created_at),
        age_s,
        overdue: r.state == ModerationItemState::Open && age_s > state.config.moderation_sla.as_secs(),
        room_name,
    })
}

/// How many messages each side of an item's message its context shows.
const CONTEXT_EACH_SIDE: i64 = 3;

/// `GET /v1/moderation/items/{id}/context`: the messages around the item's message, so a
/// moderator decides on what was said in its conversation, not on one line. Only what the
/// caller may read of that conversation (a report from a support chat shows a moderator
/// nothing); a supervisor reading a support chat this way is audited like any staff read.
pub async fn context(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<ModerationContext> {
    user.require(MODERATORS)?;
    let item = state.store.moderation_item(id).await?.ok_or(ApiError::NotFound)?;
    let nothing = ModerationContext { messages: Vec::new(), seq: None };
    let Some(conversation_id) = item.conversation_id.clone() else { return Ok(nothing) };
    let conv = match load_readable(state, user, &ConversationId(conversation_id)).await {
        Ok(conv) => conv,
        Err(ApiError::NotFound) => return Ok(nothing),
        Err(e) => return Err(e),
    };
    let in_room = conv.kind == ConversationKind::Room;
    if !in_room {
        crate::privacy::staff_read(state, user, &conv.id, "moderation context").await;
    }
    let message = match &item.message_id {
        Some(mid) => state.store.message(mid).await?,
        None => None,
    };
    let seq = message.as_ref().and_then(|m| m.seq);
    let rows = match seq {
        Some(seq) => {
            let from = (seq - CONTEXT_EACH_SIDE - 1).max(0);
            state.store.messages_after(&conv.id, from, (2 * CONTEXT_EACH_SIDE + 1) as u32).await?
        }
        // Held: not delivered, so no `seq`; what was said up to the moment it was held.
        None => state.store.messages_sent_before(&conv.id, item.created_at, CONTEXT_EACH_SIDE as u32 + 1).await?,
    };
    let messages = rows.iter().filter_map(|m| message_view_for(user, m, in_room)).collect();
    Ok(ModerationContext { messages, seq })
}

/// Tells watching moderators that an item is new or changed.
pub async fn announce_new(state: &AppState, item_id: &str) {
    let item = match state.store.moderation_item(item_id).await {
        Ok(Some(i)) => i,
        _ => return,
    };
    match item_view(state, &item).await {
        Ok(view) => {
            state.hub.publish(Event::ToModerationWatchers { frame: ServerFrame::ModerationChanged { item: view } })
        }
        Err(e) => tracing::warn!(error = %e, "could not announce a moderation item"),
    }
}

/// `GET /v1/moderation/queue`.
/// The items are recorded as read by `user` (`how`: the REST list, a watch's snapshot) before
/// they are shown.
pub async fn queue(state: &AppState, user: &AuthUser, how: &str) -> ApiResult<ModerationQueue> {
    user.require(MODERATORS)?;
    let mut items = Vec::new();
    for r in state.store.moderation_queue().await? {
        items.push(item_view(state, &r).await?);
    }
    shown(state, user, &items.iter().map(|i| i.id.as_str()).collect::<Vec<_>>(), how).await;
    Ok(ModerationQueue { items, sla_s: state.config.moderation_sla.as_secs() })
}

/// What a member of staff is told who reports a message of a support chat.
pub const SUPPORT_CHAT_NOT_REPORTABLE: &str = "Messages in a support chat never go to the moderation queue: \
    nothing in a support chat is held, removed or read by moderators. If you are worried about this chat, raise an \
    escalation on it (POST /v1/conversations/{id}/escalations) and a supervisor will act on it.";

/// What a young person is told who reports a message of their own support chat.
pub const SUPPORT_CHAT_REPORTED: &str = "Thank you for telling us. We've told a supervisor, who will look at it \
    and can talk to you about it. Your chat stays between you and the Talk Zone team. If you're in danger now, \
    call 999.";

/// `POST /v1/reports`: anyone who can see a room message may report it, and a user they share
/// a room with (moderators and supervisors: anyone); the text is kept with the report as
/// evidence. A message of a 1:1 support chat never goes to the moderation queue: its young
/// person's report becomes an escalation to a supervisor ([`report_support_message`]); staff
/// are told to raise an escalation instead. Reports are rate limited per reporter; the same
/// report again while the first is open returns the first.
pub async fn report(state: &AppState, user: &AuthUser, req: ReportRequest) -> ApiResult<ReportReceipt> {
    check_reason(&req.reason)?;
    let reason = crate::input::contain_bidi(req.reason.trim()).into_owned();
    let now = state.clock.now_ms();
    let item = match (&req.message_id, &req.user_id) {
        (Some(mid), None) => {
            let m = state.store.message(mid.as_str()).await?.ok_or(ApiError::NotFound)?;
            // Reporting needs read access to the conversation and a delivered message.
            let conv = load_readable(state, user, &ConversationId(m.conversation_id.clone())).await?;
            if m.seq.is_none() {
                return Err(ApiError::NotFound);
            }
            if conv.kind == ConversationKind::Support {
                return report_support_message(state, user, &conv, &m, &reason).await;
            }
            // The same report again creates nothing, and so costs nothing.
            if let Some(open) = state.store.open_report(Some(&m.id), None, user.id.as_str()).await? {
                return Ok(receipt(&open));
            }
            state.limits.check_report(user.id.as_str())?;
            NewModerationItem {
                id: crate::ids::random_id(),
                kind: ModerationItemKind::Report,
                conversation_id: Some(m.conversation_id.clone()),
                message_id: Some(m.id.clone()),
                subject_user_id: m.sender_id.clone(),
                reporter_id: Some(user.id.0.clone()),
                reason,
                severity: m.severity,
                evidence: Some(m.body.clone()),
                created_at: now,
            }
        }
        (None, Some(uid)) => {
            // Someone the reporter can see: the same answer for an id that does not exist and
            // one they have never met, so that a report cannot tell whether an id exists.
            let target = state.store.user(uid.as_str()).await?.ok_or(ApiError::NotFound)?;
            let sees_everyone = matches!(user.role, Role::Moderator | Role::Supervisor);
            if target.id == user.id.0
                || !(sees_everyone || state.store.share_a_room(user.id.as_str(), &target.id).await?)
            {
                return Err(ApiError::NotFound);
            }
            if let Some(open) = state.store.open_report(None, Some(&target.id), user.id.as_str()).await? {
                return Ok(receipt(&open));
            }
            state.limits.check_report(user.id.as_str())?;
            NewModerationItem {
                id: crate::ids::random_id(),
                kind: ModerationItemKind::Report,
                conversation_id: None,
                message_id: None,
                subject_user_id: Some(target.id),
                reporter_id: Some(user.id.0.clone()),
                reason,
                severity: Severity::Medium,
                evidence: None,
                created_at: now,
            }
        }
        _ => return Err(ApiError::Validation("give exactly one of message_id or user_id".into())),
    };
    let stored = state.store.create_moderation_item(item).await?;
    announce_new(state, &stored.id).await;
    Ok(receipt(&stored))
}

fn receipt(item: &ModerationItemRecord) -> ReportReceipt {
    ReportReceipt { id: item.id.clone(), state: item.state.as_str().to_owned(), message: None }
}

/// A report of a message in a 1:1 support chat, which never reaches moderators (nobody else
/// may read the chat, and nothing in it is held or redacted). From its young person it becomes
/// an escalation to the supervisors (not to the worker, who may be what the report is about):
/// one per message, rate limited like reports. Staff who can see the chat are told to raise
/// an escalation themselves.
async fn report_support_message(
    state: &AppState,
    user: &AuthUser,
    conv: &ConversationRecord,
    m: &MessageRecord,
    reason: &str,
) -> ApiResult<ReportReceipt> {
    if conv.owner_id.as_deref() != Some(user.id.as_str()) {
        return Err(ApiError::Validation(SUPPORT_CHAT_NOT_REPORTABLE.into()));
    }
    let sent = |id: &str| ReportReceipt {
        id: id.to_owned(),
        state: "sent_to_supervisor".into(),
        message: Some(SUPPORT_CHAT_REPORTED.into()),
    };
    let earlier = state.store.escalations(None, Some(&conv.id), None, 0).await?;
    if let Some(e) = earlier.iter().find(|e| {
        e.source == EscalationSource::YoungPerson
            && e.message_id.as_deref() == Some(m.id.as_str())
            && e.state != EscalationState::Resolved
    }) {
        return Ok(sent(&e.id));
    }
    state.limits.check_report(user.id.as_str())?;
    let e = crate::escalation::from_young_person(state, user, &conv.id, &m.id, reason).await?;
    Ok(sent(&e.id))
}

/// Records that `user` was shown these moderation items (and so their evidence): `how` says
/// where (`queue`, `watch`, `live`, `claim`, `decision`). Batched with the other staff reads.
pub async fn shown(state: &AppState, user: &AuthUser, item_ids: &[&str], how: &str) {
    let now = state.clock.now_ms();
    for id in item_ids {
        let event = crate::audit::event(
            now,
            Some(user.id.as_str()),
            AuditAction::ModerationItemRead,
            AuditTarget::ModerationItem,
            id,
            Some(how.to_owned()),
        );
        if let Err(e) = state.read_audit.write(event).await {
            tracing::error!(error = %e, item = id, "audit write failed");
        }
    }
}

/// `POST /v1/moderation/items/{id}/claim`.
pub async fn claim(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<ModerationItemView> {
    user.require(MODERATORS)?;
    let now = state.clock.now_ms();
    if state.store.moderation_item(id).await?.is_none() {
        return Err(ApiError::NotFound);
    }
    if !state.store.claim_item(id, user.id.as_str(), now, now + CLAIM_TTL_MS).await? {
        return Err(ApiError::Conflict("claimed by another moderator, or already decided".into()));
    }
    announce_new(state, id).await;
    let item = state.store.moderation_item(id).await?.ok_or(ApiError::NotFound)?;
    shown(state, user, &[id], "claim").await;
    item_view(state, &item).await
}

fn to_decision(item: &ModerationItemRecord, req: &DecisionRequest) -> ApiResult<ItemDecision> {
    let hold = item.kind == ModerationItemKind::Hold;
    Ok(match (req.action, hold) {
        (ModerationAction::Approve, true) => ItemDecision::Approve { body: None },
        (ModerationAction::Redact, true) => {
            let body = req.body.clone().ok_or_else(|| ApiError::Validation("redact needs the body to deliver".into()))?;
            let n = body.trim().chars().count();
            if n == 0 || n > talkzone_mobile_api::limits::MAX_BODY_CHARS {
                return Err(ApiError::Validation("body must be 1 to 4000 characters".into()));
            }
            ItemDecision::Approve { body: Some(body) }
        }
        (ModerationAction::Reject, true) => ItemDecision::Reject,
        (ModerationAction::Remove, false) if item.message_id.is_some() => {
            ItemDecision::Remove { placeholder: REMOVED_PLACEHOLDER.into() }
        }
        (ModerationAction::Dismiss, false) => ItemDecision::Dismiss,
        (action, _) => {
            return Err(ApiError::Validation(format!(
                "{} does not apply to a {}: held messages are approved, redacted or rejected; reports are removed or dismissed",
                serde_json::to_value(action).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
                item.kind
            )))
        }
    })
}

/// `POST /v1/moderation/items/{id}/decision`.
pub async fn decide(
    state: &AppState,
    user: &AuthUser,
    id: &str,
    req: DecisionRequest,
) -> ApiResult<ModerationItemView> {
    user.require(MODERATORS)?;
    check_reason(&req.reason)?;
    let item = state.store.moderation_item(id).await?.ok_or(ApiError::NotFound)?;
    let decision = to_decision(&item, &req)?;
    apply(state, user, &item, decision, req.reason.trim(), false).await
}

async fn apply(
    state: &AppState,
    user: &AuthUser,
    item: &ModerationItemRecord,
    decision: ItemDecision,
    reason: &str,
    appeal: bool,
) -> ApiResult<ModerationItemView> {
    let now = state.clock.now_ms();
    let outcome = state.store.decide_item(&item.id, user.id.as_str(), decision.clone(), reason, appeal, now).await?;
    let (decided, message) = match outcome {
        DecideOutcome::Decided { item, message } => (item, message),
        DecideOutcome::NotFound => return Err(ApiError::NotFound),
        DecideOutcome::Conflict(why) => return Err(ApiError::Conflict(why.into())),
        DecideOutcome::Invalid(why) => return Err(ApiError::Conflict(why.into())),
    };
    if let Some(m) = &message {
        let conversation_id = ConversationId(m.conversation_id.clone());
        let in_room =
            state.store.conversation(&m.conversation_id).await?.is_some_and(|c| c.kind == ConversationKind::Room);
        let sender = m.sender_id.clone().map(UserId);
        match &decision {
            ItemDecision::Approve { .. } => {
                if let Some(view) = staff_message_view(m, in_room) {
                    state.hub.publish(Event::Message(view));
                }
            }
            ItemDecision::Reject => {
                if let Some(uid) = sender {
                    state.hub.publish(Event::ToUser {
                        user_id: uid,
                        frame: ServerFrame::Notice {
                            kind: "message_rejected".into(),
                            message: format!(
                                "A moderator didn't share your message with the room ({}). If you need to talk, a worker is here for you in a support chat.",
                                item.reason.replace('_', " ")
                            ),
                            conversation_id: Some(conversation_id.clone()),
                            message_id: Some(MessageId(m.id.clone())),
                            client_msg_id: m.client_msg_id.clone(),
                        },
                    });
                }
            }
            ItemDecision::Remove { .. } | ItemDecision::Restore { .. } => {
                if let Some(seq) = m.seq {
                    state.hub.publish(Event::ToConversation {
                        conversation_id: conversation_id.clone(),
                        frame: ServerFrame::MessageChanged {
                            conversation_id: conversation_id.clone(),
                            message_id: MessageId(m.id.clone()),
                            seq,
                            status: m.status.as_str().to_owned(),
                            body: m.body.clone(),
                        },
                        except_user: None,
                    });
                }
            }
            ItemDecision::Dismiss => {}
        }
    }
    announce_new(state, &decided.id).await;
    shown(state, user, &[decided.id.as_str()], "decision").await;
    item_view(state, &decided).await
}

/// `POST /v1/moderation/bulk`: the same decision for many items (spam floods).
pub async fn bulk(state: &AppState, user: &AuthUser, req: BulkDecisionRequest) -> ApiResult<BulkDecisionResult> {
    user.require(MODERATORS)?;
    check_reason(&req.reason)?;
    if req.item_ids.is_empty() || req.item_ids.len() > 500 {
        return Err(ApiError::Validation("item_ids must hold 1 to 500 ids".into()));
    }
    let mut result = BulkDecisionResult { decided: vec![], failed: vec![] };
    for id in &req.item_ids {
        let single = DecisionRequest { action: req.action, reason: req.reason.clone(), body: None };
        match decide(state, user, id, single).await {
            Ok(_) => result.decided.push(id.clone()),
            Err(e) => result.failed.push(BulkFailure { id: id.clone(), code: e.code() }),
        }
    }
    Ok(result)
}

/// `POST /v1/moderation/items/{id}/appeal`: the person a decision was about asks, once, for a
/// review by a different moderator.
pub async fn appeal(state: &AppState, user: &AuthUser, id: &str, reason: &str) -> ApiResult<ReportReceipt> {
    check_reason(reason)?;
    let item = state.store.moderation_item(id).await?.ok_or(ApiError::NotFound)?;
    if item.subject_user_id.as_deref() != Some(user.id.as_str()) {
        return Err(ApiError::NotFound);
    }
    if !state.store.request_appeal(id, reason.trim(), state.clock.now_ms()).await? {
        return Err(ApiError::Conflict(
            "this decision cannot be appealed (not decided against you, or already appealed)".into(),
        ));
    }
    announce_new(state, id).await;
    Ok(ReportReceipt { id: id.to_owned(), state: "appeal_requested".into(), message: None })
}

/// `POST /v1/moderation/items/{id}/appeal/decision`: uphold or overturn, by a moderator who
/// did not make the first decision.
pub async fn decide_appeal(
    state: &AppState,
    user: &AuthUser,
    id: &str,
    req: AppealDecisionRequest,
) -> ApiResult<ModerationItemView> {
    user.require(MODERATORS)?;
    check_reason(&req.reason)?;
    let item = state.store.moderation_item(id).await?.ok_or(ApiError::NotFound)?;
    if item.appeal_state.as_deref() != Some("requested") {
        return Err(ApiError::Conflict("no appeal is waiting on this item".into()));
    }
    let decision = if req.uphold {
        ItemDecision::Dismiss
    } else {
        match item.decision.as_deref() {
            Some("reject") => ItemDecision::Approve { body: None },
            Some("remove") => ItemDecision::Restore { body: item.evidence.clone().unwrap_or_default() },
            _ => return Err(ApiError::Conflict("this decision cannot be overturned".into())),
        }
    };
    apply(state, user, &item, decision, req.reason.trim(), true).await
}

/// `POST /v1/moderation/users/{id}/actions`: warn, mute, suspend (and lift them). Staff
/// accounts are managed by `yot_admin`, not here.
pub async fn act_on_user(state: &AppState, user: &AuthUser, target_id: &str, req: UserActionRequest) -> ApiResult<()> {
    user.require(MODERATORS)?;
    check_reason(&req.reason)?;
    let target = state.store.user(target_id).await?.ok_or(ApiError::NotFound)?;
    let target_role = target.role;
    if target_role.is_staff() {
        return Err(ApiError::Forbidden("staff accounts are managed by yot_admin"));
    }
    let now = state.clock.now_ms();
    let uid = UserId(target.id.clone());
    let mut expires_at = None;
    let (action, notice) = match req.action {
        UserActionKind::Warn => ("warn", Some(format!("A moderator has sent you a warning: {}", req.reason.trim()))),
        UserActionKind::Mute => {
            let d = req
                .duration_s
                .filter(|d| (1..=MAX_MUTE_S).contains(d))
                .ok_or_else(|| ApiError::Validation(format!("mute needs duration_s between 1 and {MAX_MUTE_S}")))?;
            let until = now + (d as i64) * 1000;
            expires_at = Some(until);
            state.store.set_muted_until(&target.id, Some(until)).await?;
            (
                "mute",
                Some(format!(
                    "You've been muted in rooms until {} ({}). You can still talk to a worker.",
                    rfc3339(until),
                    req.reason.trim()
                )),
            )
        }
        UserActionKind::Unmute => {
            state.store.set_muted_until(&target.id, None).await?;
            ("unmute", Some("You can post in rooms again.".to_owned()))
        }
        UserActionKind::Suspend => {
            state.store.set_suspended(&target.id, Some(now)).await?;
            ("suspend", None)
        }
        UserActionKind::Unsuspend => {
            state.store.set_suspended(&target.id, None).await?;
            ("unsuspend", None)
        }
    };
    state
        .store
        .append_modlog(ModLogRecord {
            id: crate::ids::random_id(),
            at: now,
            moderator_id: Some(user.id.0.clone()),
            action: action.into(),
            item_id: None,
            subject_user_id: Some(target.id.clone()),
            reason: Some(req.reason.trim().to_owned()),
            expires_at,
        })
        .await?;
    if let Some(message) = notice {
        state.hub.publish(Event::ToUser {
            user_id: uid.clone(),
            frame: ServerFrame::Notice {
                kind: action.into(),
                message,
                conversation_id: None,
                message_id: None,
                client_msg_id: None,
            },
        });
    }
    if req.action == UserActionKind::Suspend {
        // Open sockets end now; new requests fail authentication.
        state.hub.publish(Event::DisconnectUser { user_id: uid });
    }
    Ok(())
}

/// `GET /v1/moderation/log` (moderators, supervisors, yot_admin).
pub async fn log(state: &AppState, user: &AuthUser) -> ApiResult<ModerationLog> {
    user.require(&[Role::Moderator, Role::Supervisor, Role::YotAdmin])?;
    let entries = state
        .store
        .modlog(500)
        .await?
        .into_iter()
        .map(|e| ModerationLogEntry {
            id: e.id,
            at: rfc3339(e.at),
            moderator_id: e.moderator_id.map(UserId),
            action: e.action,
            item_id: e.item_id,
            subject_user_id: e.subject_user_id.map(UserId),
            reason: e.reason,
            expires_at: e.expires_at.map(rfc3339),
        })
        .collect();
    Ok(ModerationLog { entries })
}

/// Whether `user` may watch the moderation queue live.
pub fn may_watch(user: &AuthUser) -> bool {
    MODERATORS.contains(&user.role)
}
