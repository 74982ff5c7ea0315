//! Safeguarding escalation: raised by a worker, or by the moderation step on high or critical
//! risk (in the message's own transaction); supervisors are alerted at once; one acknowledges,
//! records actions and resolves it. The chain: raised, it reaches the chat's worker (who raised
//! it or sees the message) and every connected supervisor; not acknowledged by its deadline it
//! re-escalates (step 1: every supervisor again and, through the outbox, the on-call contact),
//! and again every deadline's length after (step 2, 3, …) until someone acknowledges it. A
//! critical one raised when no supervisor is connected goes to the on-call contact at once.
//! Steps live in the database, survive restarts, and each fires exactly once across nodes.
//! Every step is in the append-only audit log.

use std::collections::HashMap;
use std::time::Duration;

use talkzone_mobile_api::{
    AuditEntry, AuditTrail, ConversationId, EscalationActionView, EscalationView, MessageId, Role, ServerFrame, UserId,
};
use talkzone_moderation::{Severity, Verdict};

use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::conversations::access::{access_of, load_readable, Access};
use crate::conversations::system::announcement;
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget, EscalationSource, EscalationState};
use crate::on_call::Why;
use crate::realtime::Event;
use crate::state::AppState;
use crate::store::{
    ConversationRecord, EscalationActionRecord, EscalationRecord, InsertOutcome, NewEscalation, MAX_PAGE,
};
use crate::views::{kind_and_state, message_view, user_of};

/// Who is alerted.
/// Who receives escalation frames and acts on escalations.
pub const SUPERVISORS: &[Role] = &[Role::Supervisor];
/// Who may read escalations and their audit trail.
const READERS: &[Role] = &[Role::Supervisor, Role::YotAdmin];

/// What the young person is told, once, when a supervisor may start reading their chat.
pub const SUPERVISOR_NOTICE: &str =
    "To help keep you safe, a supervisor from the Talk Zone team may also read this chat.";

fn deadline(state: &AppState, severity: Severity) -> Option<Duration> {
    let desk = &state.config.desk;
    match severity {
        Severity::Critical => Some(desk.escalation_critical),
        Severity::High => Some(desk.escalation_high),
        Severity::Medium => Some(desk.escalation_medium),
        Severity::Low | Severity::None => None,
    }
}

/// How the conversation's risk moves with a message: before it, and with it (risk that builds
/// across a young person's messages; for anyone else, the message's own severity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskMove {
    pub before: Severity,
    pub after: Severity,
}

/// The escalation the moderation step raises for a message: when the message itself is high or
/// critical, or when the conversation's risk has just become high or critical across several
/// messages that were not on their own (once, as it crosses).
pub fn automatic(
    state: &AppState,
    conversation_id: &str,
    message_id: &str,
    verdict: &Verdict,
    risk: RiskMove,
    now: i64,
) -> Option<NewEscalation> {
    let built_up = verdict.severity < Severity::High && risk.after >= Severity::High && risk.before < Severity::High;
    if verdict.severity < Severity::High && !built_up {
        return None;
    }
    let severity = verdict.severity.max(if built_up { risk.after } else { Severity::None });
    let labels: Vec<&str> = verdict.labels.iter().map(|c| c.as_str()).collect();
    let why = verdict.flags.iter().max_by_key(|f| f.severity).map(|f| format!(" ({}: \"{}\")", f.rule, f.matched));
    let reason = if built_up {
        format!("automatic: {severity} risk built up across the young person's messages, now {}", labels.join(", "))
    } else {
        format!("automatic: {} risk, {}{}", severity, labels.join(", "), why.unwrap_or_default())
    };
    let id = crate::ids::random_id();
    Some(NewEscalation {
        audit: raised_entry(&id, None, severity, &reason, now),
        id,
        conversation_id: conversation_id.to_owned(),
        message_id: Some(message_id.to_owned()),
        severity,
        reason,
        source: EscalationSource::Moderation,
        raised_by: None,
        created_at: now,
        deadline_at: now + deadline(state, severity).unwrap_or_default().as_millis() as i64,
    })
}

/// The audit entry of a new escalation; the store writes it with the escalation.
fn raised_entry(
    id: &str,
    raised_by: Option<&str>,
    severity: Severity,
    reason: &str,
    at: i64,
) -> crate::store::AuditEvent {
    crate::audit::event(
        at,
        raised_by,
        AuditAction::EscalationRaised,
        AuditTarget::Escalation,
        id,
        Some(format!("{severity}: {reason}")),
    )
}

pub async fn view(state: &AppState, e: &EscalationRecord) -> ApiResult<EscalationView> {
    Ok(views(state, std::slice::from_ref(e)).await?.pop().expect("one view per escalation"))
}

/// Views of several escalations, their actions read in one go.
async fn views(state: &AppState, rows: &[EscalationRecord]) -> ApiResult<Vec<EscalationView>> {
    let now = state.clock.now_ms();
    let ids: Vec<&str> = rows.iter().map(|e| e.id.as_str()).collect();
    let mut actions: HashMap<String, Vec<EscalationActionView>> = HashMap::new();
    for a in state.store.escalation_actions(&ids).await? {
        let view = EscalationActionView {
            at: rfc3339(a.at),
            actor_id: UserId(a.actor_id),
            action: a.action.as_str().to_owned(),
            note: a.note,
        };
        actions.entry(a.escalation_id).or_default().push(view);
    }
    // Which chat each is about, read once per chat: a supervisor's worklist names the young
    // person and the worker, and says whether the chat is still open.
    let mut chats: HashMap<String, Option<ConversationRecord>> = HashMap::new();
    for e in rows {
        if !chats.contains_key(&e.conversation_id) {
            let record = state.store.conversation(&e.conversation_id).await?;
            chats.insert(e.conversation_id.clone(), record);
        }
    }
    Ok(rows
        .iter()
        .map(|e| {
            let chat = chats.get(&e.conversation_id).and_then(Option::as_ref);
            view_of(e, actions.remove(&e.id).unwrap_or_default(), chat, now)
        })
        .collect())
}

fn view_of(
    e: &EscalationRecord,
    actions: Vec<EscalationActionView>,
    chat: Option<&ConversationRecord>,
    now: i64,
) -> EscalationView {
    EscalationView {
        id: e.id.clone(),
        conversation_id: ConversationId(e.conversation_id.clone()),
        message_id: e.message_id.clone().map(MessageId),
        severity: e.severity.as_str().to_owned(),
        reason: e.reason.clone(),
        source: e.source.as_str().to_owned(),
        raised_by: e.raised_by.clone().map(UserId),
        state: e.state.as_str().to_owned(),
        created_at: rfc3339(e.created_at),
        deadline_at: rfc3339(e.deadline_at),
        overdue: e.state == EscalationState::Open && e.deadline_at <= now,
        reescalated: e.reescalated_at.is_some(),
        steps: u32::try_from(e.steps).unwrap_or(u32::MAX),
        acknowledged_by: e.acknowledged_by.clone().map(UserId),
        acknowledged_at: e.acknowledged_at.map(rfc3339),
        resolved_by: e.resolved_by.clone().map(UserId),
        resolved_at: e.resolved_at.map(rfc3339),
        outcome: e.outcome.clone(),
        actions,
        young_person: chat.and_then(|c| user_of(&c.owner_id, &c.owner_name, Role::YoungPerson)),
        worker: chat
            .and_then(|c| user_of(&c.assigned_to, &c.assigned_name, c.assigned_role.unwrap_or(Role::DutyWorker))),
        conversation_state: chat.and_then(|c| kind_and_state(c).ok()).map(|(_, s)| s),
    }
}

/// Tells every connected supervisor.
async fn alert(state: &AppState, e: &EscalationRecord) {
    match view(state, e).await {
        Ok(v) => state.hub.publish(Event::ToRoles { roles: SUPERVISORS.to_vec(), frame: ServerFrame::Escalation(v) }),
        Err(err) => tracing::error!(error = %err, escalation = %e.id, "could not alert supervisors"),
    }
}

/// Tells every connected supervisor that an escalation changed (when it changed elsewhere:
/// resolved by marking its chat as abuse, its young person's account deleted).
pub async fn changed(state: &AppState, id: &str) {
    match state.store.escalation(id).await {
        Ok(Some(e)) => alert(state, &e).await,
        Ok(None) => {}
        Err(err) => tracing::error!(error = %err, escalation = id, "could not alert supervisors"),
    }
}

/// After an escalation is stored (with its audit entry): alert supervisors, and (the first
/// time for this conversation) tell the young person in plain words that a supervisor may
/// read the chat.
pub async fn raised(state: &AppState, id: &str) {
    let Ok(Some(e)) = state.store.escalation(id).await else {
        tracing::error!(escalation = id, "raised escalation not found");
        return;
    };
    alert(state, &e).await;
    if e.severity == Severity::Critical {
        unattended(state, &e).await;
    }
    let first = state
        .store
        .escalations(None, Some(&e.conversation_id), Some(2), 0)
        .await
        .map(|v| v.len() == 1)
        .unwrap_or(false);
    if first {
        let notice = announcement(state, &e.conversation_id, SUPERVISOR_NOTICE);
        if let Ok(InsertOutcome::Stored(m)) = state.store.insert_message(notice).await {
            if let Some(v) = message_view(&m, false) {
                state.hub.publish(Event::Message(v));
            }
        }
    }
}

/// `POST /v1/conversations/{id}/escalations`: a worker with access to the chat raises one.
pub async fn raise(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &ConversationId,
    severity: &str,
    reason: &str,
) -> ApiResult<EscalationView> {
    user.require(&[Role::DutyWorker, Role::Supervisor])?;
    // Exactly as the protocol spells it; anything else has no deadline and is refused below.
    let severity = Severity::ALL.into_iter().find(|s| s.as_str() == severity).unwrap_or_default();
    let Some(limit) = deadline(state, severity) else {
        return Err(ApiError::Validation("severity must be medium, high or critical".into()));
    };
    check_text("reason", reason)?;
    let conv = load_readable(state, user, conversation_id).await?;
    if access_of(state, user, &conv).await? == Access::None {
        return Err(ApiError::NotFound);
    }
    let now = state.clock.now_ms();
    let id = crate::ids::random_id();
    let e = state
        .store
        .create_escalation(NewEscalation {
            audit: raised_entry(&id, Some(user.id.as_str()), severity, reason.trim(), now),
            id,
            conversation_id: conv.id.clone(),
            message_id: None,
            severity,
            reason: crate::input::contain_bidi(reason.trim()).into_owned(),
            source: EscalationSource::Worker,
            raised_by: Some(user.id.0.clone()),
            created_at: now,
            deadline_at: now + limit.as_millis() as i64,
        })
        .await?;
    raised(state, &e.id).await;
    view(state, &e).await
}

/// A young person's report of a message in their own support chat: an escalation to the
/// supervisors (medium: acknowledged within the medium deadline or it re-escalates), with
/// their words as the reason. Supervisors are alerted as for any other.
pub async fn from_young_person(
    state: &AppState,
    user: &AuthUser,
    conversation_id: &str,
    message_id: &str,
    reason: &str,
) -> ApiResult<EscalationRecord> {
    let severity = Severity::Medium;
    let limit = deadline(state, severity).unwrap_or_default();
    let now = state.clock.now_ms();
    let id = crate::ids::random_id();
    let reason = format!("the young person reported a message in this chat: {reason}");
    let e = state
        .store
        .create_escalation(NewEscalation {
            audit: raised_entry(&id, Some(user.id.as_str()), severity, &reason, now),
            id,
            conversation_id: conversation_id.to_owned(),
            message_id: Some(message_id.to_owned()),
            severity,
            reason,
            source: EscalationSource::YoungPerson,
            raised_by: Some(user.id.0.clone()),
            created_at: now,
            deadline_at: now + limit.as_millis() as i64,
        })
        .await?;
    raised(state, &e.id).await;
    Ok(e)
}

fn check_text(name: &str, text: &str) -> ApiResult<()> {
    crate::input::require_text(name, text, 2000)
}

async fn load(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<EscalationRecord> {
    user.require(READERS)?;
    state.store.escalation(id).await?.ok_or(ApiError::NotFound)
}

pub async fn get(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<EscalationView> {
    view(state, &load(state, user, id).await?).await
}

/// One page of escalations, newest first: `limit` (1–[`MAX_PAGE`]) after `offset`, and the
/// offset of the next page if more follow.
pub async fn list(
    state: &AppState,
    user: &AuthUser,
    filter: Option<&str>,
    limit: u32,
    offset: u32,
) -> ApiResult<(Vec<EscalationView>, Option<u32>)> {
    user.require(READERS)?;
    if let Some(s) = filter {
        if !matches!(s, "open" | "acknowledged" | "resolved") {
            return Err(ApiError::BadRequest("state must be open, acknowledged or resolved".into()));
        }
    }
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::Validation(format!("limit must be between 1 and {MAX_PAGE}")));
    }
    // One row more than asked tells whether another page follows.
    let mut rows = state.store.escalations(filter, None, Some(limit + 1), offset).await?;
    let next_offset = (rows.len() > limit as usize).then(|| offset + limit);
    rows.truncate(limit as usize);
    Ok((views(state, &rows).await?, next_offset))
}

/// Every escalation not yet resolved (open or acknowledged), for a supervisor's screen after
/// a resync. Not capped: the oldest open ones are the most overdue, and a cap on a
/// newest-first list would hide exactly those.
pub async fn unresolved(state: &AppState) -> ApiResult<Vec<EscalationView>> {
    let mut out = Vec::new();
    for filter in ["open", "acknowledged"] {
        out.extend(views(state, &state.store.escalations(Some(filter), None, None, 0).await?).await?);
    }
    Ok(out)
}

/// A supervisor takes it on; only one can.
pub async fn acknowledge(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<EscalationView> {
    user.require(SUPERVISORS)?;
    load(state, user, id).await?;
    let now = state.clock.now_ms();
    let entry = crate::audit::event(
        now,
        Some(user.id.as_str()),
        AuditAction::EscalationAcknowledged,
        AuditTarget::Escalation,
        id,
        None,
    );
    let e = state
        .store
        .acknowledge_escalation(id, user.id.as_str(), now, entry)
        .await?
        .ok_or_else(|| ApiError::Conflict("already acknowledged or resolved".into()))?;
    alert(state, &e).await;
    view(state, &e).await
}

pub async fn add_action(
    state: &AppState,
    user: &AuthUser,
    id: &str,
    action: &str,
    note: Option<&str>,
) -> ApiResult<EscalationView> {
    user.require(SUPERVISORS)?;
    let e = load(state, user, id).await?;
    let ok = !action.is_empty()
        && action.len() <= 64
        && action.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !ok {
        return Err(ApiError::Validation(
            "action must be a short snake_case word, e.g. called_999 or mash_referral".into(),
        ));
    }
    if let Some(n) = note {
        check_text("note", n)?;
    }
    if e.state == EscalationState::Resolved {
        return Err(ApiError::Conflict("this escalation is resolved".into()));
    }
    let now = state.clock.now_ms();
    let details = match note {
        Some(n) => format!("{action}: {}", n.trim()),
        None => action.to_owned(),
    };
    let entry = crate::audit::event(
        now,
        Some(user.id.as_str()),
        AuditAction::EscalationAction,
        AuditTarget::Escalation,
        id,
        Some(details),
    );
    let record = EscalationActionRecord {
        id: crate::ids::random_id(),
        escalation_id: id.to_owned(),
        at: now,
        actor_id: user.id.0.clone(),
        action: action.to_owned(),
        note: note.map(|n| n.trim().to_owned()),
    };
    state.store.add_escalation_action(record, entry).await?;
    alert(state, &e).await;
    view(state, &e).await
}

pub async fn resolve(
    state: &AppState,
    user: &AuthUser,
    id: &str,
    outcome: &str,
    note: Option<&str>,
) -> ApiResult<EscalationView> {
    user.require(SUPERVISORS)?;
    load(state, user, id).await?;
    check_text("outcome", outcome)?;
    let details = match note {
        Some(n) => format!("{}: {}", outcome.trim(), n.trim()),
        None => outcome.trim().to_owned(),
    };
    let now = state.clock.now_ms();
    let entry = crate::audit::event(
        now,
        Some(user.id.as_str()),
        AuditAction::EscalationResolved,
        AuditTarget::Escalation,
        id,
        Some(details),
    );
    let e = state
        .store
        .resolve_escalation(id, user.id.as_str(), outcome.trim(), now, entry)
        .await?
        .ok_or_else(|| ApiError::Conflict("already resolved".into()))?;
    alert(state, &e).await;
    view(state, &e).await
}

pub async fn audit_trail(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<AuditTrail> {
    load(state, user, id).await?;
    let entries = state
        .store
        .audit_for_target("escalation", id)
        .await?
        .into_iter()
        .map(|a| AuditEntry {
            at: rfc3339(a.at),
            actor_id: a.actor_id.map(UserId),
            action: a.action.as_str().to_owned(),
            details: a.details,
            target: None,
        })
        .collect();
    Ok(AuditTrail { entries })
}

/// A critical escalation no supervisor is connected to see goes to the on-call contact at once
/// (step 1 of its chain, now).
async fn unattended(state: &AppState, e: &EscalationRecord) {
    let now = state.clock.now_ms();
    let since = now - crate::queue::PRESENCE_FRESH_MS;
    match state.store.supervisors_seen(since).await {
        Ok(0) => {
            if let Err(err) = step(state, e, now, Why::Unattended).await {
                tracing::error!(error = %err, escalation = %e.id, "could not alert the on-call contact");
            }
        }
        Ok(_) => {}
        Err(err) => {
            tracing::error!(error = %err, escalation = %e.id, "could not tell whether a supervisor is connected")
        }
    }
}

/// Takes every due step of every open escalation's chain, each once. Called on every node's
/// scheduler tick.
pub async fn fire_due(state: &AppState) -> ApiResult<usize> {
    let now = state.clock.now_ms();
    let mut fired = 0;
    for e in state.store.due_escalations(now).await? {
        if step(state, &e, now, Why::Overdue).await? {
            fired += 1;
        }
    }
    Ok(fired)
}

/// The next step of `e`'s chain: every supervisor is alerted again and the on-call contact
/// through the outbox, audited; the one after is due a deadline's length later. `false` if
/// another node took it first.
async fn step(state: &AppState, e: &EscalationRecord, now: i64, why: Why) -> ApiResult<bool> {
    let Some(every) = deadline(state, e.severity) else {
        return Ok(false);
    };
    let step = e.steps + 1;
    let next_step_at = now + every.as_millis() as i64;
    let payload = crate::on_call::alert_body(e, step, next_step_at, why)?;
    let details = match why {
        Why::Unattended => {
            format!("step {step}: critical and no supervisor connected: sent to the on-call contact at once")
        }
        Why::Overdue if step == 1 => {
            format!("step {step}: not acknowledged by its deadline: sent to every supervisor and the on-call contact")
        }
        Why::Overdue => {
            format!("step {step}: still not acknowledged: sent again to every supervisor and the on-call contact")
        }
    };
    let entry = crate::audit::event(
        now,
        None,
        AuditAction::EscalationReescalated,
        AuditTarget::Escalation,
        &e.id,
        Some(details),
    );
    if !state.store.fire_reescalation(&e.id, e.steps, now, next_step_at, &payload, entry).await? {
        return Ok(false);
    }
    metrics::counter!(crate::telemetry::ESCALATION_STEPS, "severity" => e.severity.as_str()).increment(1);
    if let Some(fresh) = state.store.escalation(&e.id).await? {
        alert(state, &fresh).await;
    }
    Ok(true)
}
