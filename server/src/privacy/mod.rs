//! Children's data rights and retention: a young person's own export and erasure, safeguarding
//! holds that keep what must be kept (and say so), a retention job, and the audit of staff
//! reading young people's conversations.

pub mod notice;

use talkzone_mobile_api::{
    AuditEntry, AuditTrail, ConversationId, DataExport, DeletionReceipt, ExportedAccount, ExportedConversation,
    ExportedRoomMessage, NoticeAcknowledgement, Role, ServerFrame, UserId,
};

use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::conversations::access::load_readable;
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget};
use crate::realtime::Event;
use crate::state::AppState;
use crate::store::{AutoHold, Erasure, HoldReleased};
use crate::views::{kind_and_state, message_view};

const DAY_MS: i64 = 24 * 3600 * 1000;
/// Closed support chats are deleted this long after they close, unless under a hold.
pub const RETENTION_DAYS: i64 = 365;
/// Audit entries are kept this long (safeguarding records: six years).
pub const AUDIT_RETENTION_DAYS: i64 = 6 * 365;

/// `GET /v1/me/export`: everything the service holds about the caller that is theirs to have:
/// the account, their support chats with every message, the messages they sent in rooms, and
/// the surveys they were sent with their own answers. Staff notes, escalations and
/// moderation verdicts are not part of it.
pub async fn export(state: &AppState, user: &AuthUser) -> ApiResult<DataExport> {
    let record = state.store.user(user.id.as_str()).await?.ok_or(ApiError::NotFound)?;
    let role = record.role;
    let mut chats = Vec::new();
    for c in state.store.conversations_of_owner(user.id.as_str()).await? {
        let mut messages = Vec::new();
        let mut after = 0;
        loop {
            let page = state.store.messages_after(&c.id, after, 500).await?;
            let n = page.len();
            for m in &page {
                after = m.seq.unwrap_or(after);
                if let Some(v) = message_view(m, false) {
                    messages.push(v);
                }
            }
            if n < 500 {
                break;
            }
        }
        let (kind, state) = kind_and_state(&c)?;
        chats.push(ExportedConversation {
            id: ConversationId(c.id),
            kind,
            state,
            topic: c.topic,
            created_at: rfc3339(c.created_at),
            closed_at: c.closed_at.map(rfc3339),
            messages,
        });
    }
    let room_messages = state
        .store
        .messages_sent_by(user.id.as_str())
        .await?
        .into_iter()
        .filter(|m| !chats.iter().any(|c| c.id.as_str() == m.conversation_id))
        .map(|m| ExportedRoomMessage {
            conversation_id: ConversationId(m.conversation_id),
            body: m.body,
            sent_at: rfc3339(m.sent_at),
            status: m.status.as_str().to_owned(),
        })
        .collect();
    let survey_answers = crate::surveys::export_for(state, user.id.as_str()).await?;
    let monitoring_notice_acknowledgements = state
        .store
        .notice_acknowledgements(user.id.as_str())
        .await?
        .into_iter()
        .map(|(version, at)| NoticeAcknowledgement { version, acknowledged_at: rfc3339(at) })
        .collect();
    let ways_back = talkzone_mobile_api::DeviceCredentialList {
        credentials: state
            .store
            .device_credentials(user.id.as_str())
            .await?
            .into_iter()
            .map(|c| talkzone_mobile_api::DeviceCredentialView {
                id: c.id,
                created_at: rfc3339(c.created_at),
                last_used_at: rfc3339(c.last_used_at),
            })
            .collect(),
        has_recovery_phrase: state.store.has_recovery_phrase(user.id.as_str()).await?,
    };
    crate::audit::record(
        state.store.as_ref(),
        state.clock.now_ms(),
        Some(user.id.as_str()),
        AuditAction::DataExported,
        AuditTarget::User,
        user.id.as_str(),
        None,
    )
    .await;
    Ok(DataExport {
        exported_at: rfc3339(state.clock.now_ms()),
        account: ExportedAccount {
            id: UserId(record.id),
            role,
            display_name: record.display_name,
            username: record.username,
            created_at: rfc3339(record.created_at),
        },
        support_conversations: chats,
        room_messages,
        survey_answers,
        monitoring_notice_acknowledgements,
        ways_back,
        not_included: "Notes written by staff and records of safeguarding concerns are kept by the Youth Offending Team and are not part of this download. You can ask the YOT for them.".into(),
    })
}

/// Why a chat is kept when its young person deletes their account while an escalation about
/// it is unresolved (docs/privacy.md, "Safeguarding holds", gives the legal basis).
pub const AUTO_HOLD_REASON: &str = "automatic: the young person deleted their account while an escalation about \
    this chat was not resolved; kept so that a supervisor can act on it (safeguarding)";

/// What a supervisor is told, in the escalation's history and live, when that happens.
pub const ACCOUNT_DELETED_NOTE: &str = "The young person deleted their account before this escalation was \
    resolved. The chat is kept under an automatic safeguarding hold: resolve the escalation, then lift the hold, \
    and the deletion they asked for will finish.";

/// `DELETE /v1/me`: a young person (or parent/carer) deletes their account and data, except
/// what a safeguarding hold keeps, which they are told about plainly. A support chat with an
/// escalation nobody has resolved is kept under a hold placed automatically, and supervisors
/// are told (live, and in the escalation's history).
pub async fn erase(state: &AppState, user: &AuthUser) -> ApiResult<DeletionReceipt> {
    if user.role.is_staff() {
        return Err(ApiError::Forbidden("staff accounts are closed by yot_admin"));
    }
    let now = state.clock.now_ms();
    // Survey answers first: if this fails nothing is gone and the request can be repeated.
    // Chat feedback about a conversation under a supervisor's hold stays with it; an automatic
    // hold (placed below) keeps none: feedback is not needed to act on an escalation.
    let surveys = state.store.erase_respondent(user.id.as_str()).await?;
    let audit = |erased: &Erasure| {
        let who = user.id.as_str();
        let mut entries = vec![crate::audit::event(
            now,
            None,
            AuditAction::AccountErased,
            AuditTarget::User,
            who,
            Some(format!(
                "{} conversation(s) kept under a safeguarding hold ({} placed automatically for an unresolved escalation)",
                erased.kept.len(),
                erased.auto_held.len()
            )),
        )];
        for c in &erased.auto_held {
            entries.push(crate::audit::event(
                now,
                None,
                AuditAction::SafeguardingHoldPlaced,
                AuditTarget::Conversation,
                c,
                Some(AUTO_HOLD_REASON.into()),
            ));
        }
        for e in &erased.escalations {
            let detail = format!("account_deleted: {ACCOUNT_DELETED_NOTE}");
            entries.push(crate::audit::event(
                now,
                Some(who),
                AuditAction::EscalationAction,
                AuditTarget::Escalation,
                e,
                Some(detail),
            ));
        }
        entries
    };
    let auto_hold = AutoHold {
        hold_reason: AUTO_HOLD_REASON.into(),
        action: "account_deleted".into(),
        note: ACCOUNT_DELETED_NOTE.into(),
    };
    let erased = state.store.erase_user(user.id.as_str(), now, &auto_hold, &audit).await?;
    if surveys > 0 {
        tracing::info!(assignments = surveys, "erasure: survey answers deleted");
    }
    // Open sockets end now, and their subscriptions with them.
    state.hub.publish(Event::DisconnectUser { user_id: user.id.clone() });
    for e in &erased.escalations {
        crate::escalation::changed(state, e).await;
    }
    for c in &erased.auto_held {
        state.hub.publish(Event::ToRoles {
            roles: crate::escalation::SUPERVISORS.to_vec(),
            frame: ServerFrame::Notice {
                kind: "account_deleted_escalation_open".into(),
                message: ACCOUNT_DELETED_NOTE.into(),
                conversation_id: Some(ConversationId(c.clone())),
                message_id: None,
                client_msg_id: None,
            },
        });
    }
    let kept = erased.kept.clone();
    let message = if kept.is_empty() {
        "Your account and everything you sent have been deleted.".to_owned()
    } else {
        let feedback = if erased.auto_held.len() < kept.len() { ", and any feedback you gave about them," } else { "" };
        format!(
            "Your account has been deleted. We have had to keep {} conversation(s){feedback} to help keep you or \
             someone else safe (a safeguarding hold): a supervisor needs to look at what you told us there. They will \
             be deleted when the hold ends. Everything else you sent has been deleted.",
            kept.len()
        )
    };
    Ok(DeletionReceipt { deleted: true, message, kept: kept.into_iter().map(ConversationId).collect() })
}

/// `POST /v1/conversations/{id}/hold` / `hold/release` (supervisor, with a reason). Lifting
/// the hold on a chat whose young person asked for their account to be deleted finishes that
/// deletion: the chat goes, and the account once nothing else of theirs is held. While an
/// escalation about such a chat is unresolved, its hold cannot be lifted (409).
pub async fn set_hold(
    state: &AppState,
    user: &AuthUser,
    id: &ConversationId,
    place: bool,
    reason: &str,
) -> ApiResult<()> {
    user.require(&[Role::Supervisor])?;
    crate::input::require_text("reason", reason, 1000)?;
    let conv = load_readable(state, user, id).await?;
    let now = state.clock.now_ms();
    let audit = crate::audit::event(
        now,
        Some(user.id.as_str()),
        if place { AuditAction::SafeguardingHoldPlaced } else { AuditAction::SafeguardingHoldLifted },
        AuditTarget::Conversation,
        &conv.id,
        Some(reason.trim().to_owned()),
    );
    if place {
        if !state.store.set_hold(&conv.id, Some((reason.trim(), user.id.as_str())), now, audit).await? {
            return Err(ApiError::NotFound);
        }
        return Ok(());
    }
    let finished = |done: &HoldReleased| {
        let account = matches!(done, HoldReleased::Lifted { account_deleted: true, .. });
        crate::audit::event(
            now,
            Some(user.id.as_str()),
            AuditAction::ErasureCompleted,
            AuditTarget::Conversation,
            &conv.id,
            Some(if account {
                "the young person's deletion request finished: this chat and their account deleted".to_owned()
            } else {
                "the young person's deletion request: this chat deleted (another of theirs is still held)".to_owned()
            }),
        )
    };
    match state.store.release_hold(&conv.id, audit, &finished).await? {
        HoldReleased::NotFound => Err(ApiError::NotFound),
        HoldReleased::EscalationUnresolved => Err(ApiError::Conflict(
            "its young person asked for their account to be deleted, so lifting this hold deletes the chat: resolve \
             its escalations first"
                .into(),
        )),
        HoldReleased::Lifted { conversation_deleted, .. } => {
            if conversation_deleted {
                state.conversation_cache.forget(&conv.id);
                // Anyone still subscribed loses it now; nothing of it is left to read.
                state.hub.publish(Event::ToConversation {
                    conversation_id: id.clone(),
                    frame: ServerFrame::Notice {
                        kind: "conversation_deleted".into(),
                        message: "This conversation has been deleted, as its young person asked.".into(),
                        conversation_id: Some(id.clone()),
                        message_id: None,
                        client_msg_id: None,
                    },
                    except_user: None,
                });
            }
            Ok(())
        }
    }
}

/// Deletes what has passed its retention period: closed support chats, then survey answers
/// last saved more than `survey_retention_days` ago (with their assignments), except what a
/// safeguarding hold keeps. Idempotent, so every node may run it. Returns how many chats.
pub async fn apply_retention(state: &AppState) -> ApiResult<u64> {
    let now = state.clock.now_ms();
    // The store's chats and its surveys each have an `apply_retention`: each call names its own.
    let (chats_before, audit_before) = (now - RETENTION_DAYS * DAY_MS, now - AUDIT_RETENTION_DAYS * DAY_MS);
    let n = crate::store::Privacy::apply_retention(state.store.as_ref(), chats_before, audit_before).await?;
    if n > 0 {
        tracing::info!(deleted = n, "retention: closed conversations past {RETENTION_DAYS} days deleted");
    }
    let blocks = state.store.forget_ended_blocks(now).await?;
    if blocks > 0 {
        tracing::info!(forgotten = blocks, "retention: ended source blocks forgotten");
    }
    let survey_days = i64::from(state.config.surveys.retention_days);
    let s = crate::store::Surveys::apply_retention(state.store.as_ref(), now - survey_days * DAY_MS).await?;
    if s > 0 {
        tracing::info!(deleted = s, "retention: survey assignments and answers past {survey_days} days deleted");
    }
    Ok(n)
}

/// Staff reading a young person's conversation is recorded (who read what, when).
pub async fn staff_read(state: &AppState, user: &AuthUser, conversation_id: &str, how: &str) {
    if user.role.is_staff() {
        let event = crate::audit::event(
            state.clock.now_ms(),
            Some(user.id.as_str()),
            AuditAction::ConversationRead,
            AuditTarget::Conversation,
            conversation_id,
            Some(how.to_owned()),
        );
        // Batched with other staff reads (a reconnect storm subscribes thousands at once).
        if let Err(e) = state.read_audit.write(event).await {
            tracing::error!(error = %e, conversation_id, "audit write failed");
        }
    }
}

/// `GET /v1/admin/audit?since=` (yot_admin): the append-only audit log, newest first.
pub async fn audit_log(state: &AppState, user: &AuthUser, since_days: Option<u32>) -> ApiResult<AuditTrail> {
    user.require(&[Role::YotAdmin])?;
    let since = state.clock.now_ms() - i64::from(since_days.unwrap_or(7).min(3650)) * DAY_MS;
    let entries = state
        .store
        .audit_since(since, 1000)
        .await?
        .into_iter()
        .map(|a| AuditEntry {
            at: rfc3339(a.at),
            actor_id: a.actor_id.map(UserId),
            action: a.action.as_str().to_owned(),
            details: a.details,
            target: Some(format!("{}:{}", a.target_type, a.target_id)),
        })
        .collect();
    Ok(AuditTrail { entries })
}
