//! Learning from the service itself: duty workers, supervisors and moderators mark a message's
//! moderation verdict as missed or wrong, with the category and severity they would have given.
//! The marked messages, classified again with the rules and model in force, are a labelled
//! evaluation set of real traffic: the YOT admin sees recall and false positives per category
//! (numbers only), and can export the set (text and labels, audited) for retraining. A mark
//! goes with its message, so it is kept no longer than the chat (retention, deletion, erasure).

use std::collections::BTreeMap;

use talkzone_mobile_api::{
    CategoryQuality, MarksInMonth, MessageId, Role, VerdictMarkKind as WireKind, VerdictMarkReport, VerdictMarkRequest,
    VerdictMarkView,
};
use talkzone_moderation::{Category, Context};

use crate::auth::AuthUser;
use crate::clock::rfc3339;
use crate::conversations::access::{access_of, Access};
use crate::error::{ApiError, ApiResult};
use crate::model::{AuditAction, AuditTarget, ConversationKind, Severity, VerdictMarkKind};
use crate::state::AppState;
use crate::store::{MarkedMessage, VerdictMarkRecord};

/// Who may mark: whoever reads the messages and their verdicts at work.
const MARKERS: &[Role] = &[Role::DutyWorker, Role::Supervisor, Role::Moderator];
const ADMIN: &[Role] = &[Role::YotAdmin];

fn kind_of(k: WireKind) -> VerdictMarkKind {
    match k {
        WireKind::Missed => VerdictMarkKind::Missed,
        WireKind::Wrong => VerdictMarkKind::Wrong,
    }
}

fn wire_kind(k: VerdictMarkKind) -> WireKind {
    match k {
        VerdictMarkKind::Missed => WireKind::Missed,
        VerdictMarkKind::Wrong => WireKind::Wrong,
    }
}

/// The category a mark names: one of the classifier's, or `None` for `none`.
fn category_of(name: &str) -> ApiResult<Option<Category>> {
    if name == "none" {
        return Ok(None);
    }
    Category::parse(name).map(Some).ok_or_else(|| {
        let names: Vec<&str> = Category::ALL.iter().map(|c| c.as_str()).collect();
        ApiError::Validation(format!("category must be none or one of: {}", names.join(", ")))
    })
}

/// `POST /v1/messages/{id}/verdict-mark`: the caller may mark a message they may read.
pub async fn mark(
    state: &AppState,
    user: &AuthUser,
    message_id: &MessageId,
    req: VerdictMarkRequest,
) -> ApiResult<VerdictMarkView> {
    user.require(MARKERS)?;
    let category = category_of(&req.category)?;
    let severity = Severity::ALL
        .into_iter()
        .find(|s| s.as_str() == req.severity)
        .ok_or_else(|| ApiError::Validation("severity must be none, low, medium, high or critical".into()))?;
    if category.is_none() != (severity == Severity::None) {
        return Err(ApiError::Validation("category none goes with severity none, and only with it".into()));
    }
    if req.kind == WireKind::Missed && category.is_none() {
        return Err(ApiError::Validation("a missed risk names the category it should have had".into()));
    }
    // A message that does not exist and one the caller may not read look the same.
    let message = state.store.message(message_id.as_str()).await?.ok_or(ApiError::NotFound)?;
    let conv = state.store.conversation(&message.conversation_id).await?.ok_or(ApiError::NotFound)?;
    if access_of(state, user, &conv).await? == Access::None || message.verdict.is_none() {
        return Err(ApiError::NotFound);
    }
    let stored = state
        .store
        .put_verdict_mark(&VerdictMarkRecord {
            id: crate::ids::random_id(),
            message_id: message.id,
            marked_by: user.id.0.clone(),
            marked_at: state.clock.now_ms(),
            kind: kind_of(req.kind),
            category: req.category,
            severity,
        })
        .await?;
    Ok(VerdictMarkView {
        id: stored.id,
        message_id: MessageId(stored.message_id),
        kind: wire_kind(stored.kind),
        category: stored.category,
        severity: stored.severity.as_str().to_owned(),
        marked_at: rfc3339(stored.marked_at),
    })
}

fn context_of(m: &MarkedMessage) -> Context {
    if m.conversation_kind == ConversationKind::Room {
        Context::Room
    } else {
        Context::Support
    }
}

/// `YYYY-MM` of a time in ms.
fn month_of(ms: i64) -> String {
    rfc3339(ms)[..7].to_owned()
}

/// `GET /v1/admin/verdict-marks/report`: the classifier in force on the marked messages.
/// Numbers only. Roles: yot_admin.
pub async fn report(state: &AppState, user: &AuthUser) -> ApiResult<VerdictMarkReport> {
    user.require(ADMIN)?;
    let marked = state.store.marked_messages().await?;
    let mut should: BTreeMap<Category, (u32, u32)> = BTreeMap::new();
    let mut false_positives: BTreeMap<Category, u32> = BTreeMap::new();
    let mut months: BTreeMap<String, (u32, u32)> = BTreeMap::new();
    for m in &marked {
        let want = category_of(&m.category).ok().flatten();
        let verdict = state.moderation.check(&m.body, context_of(m));
        if let Some(c) = want {
            let e = should.entry(c).or_default();
            e.0 += 1;
            e.1 += u32::from(verdict.labels.contains(&c));
        }
        for c in verdict.labels.iter().filter(|c| Some(**c) != want) {
            *false_positives.entry(*c).or_default() += 1;
        }
        let month = months.entry(month_of(m.marked_at)).or_default();
        match m.kind {
            VerdictMarkKind::Missed => month.0 += 1,
            VerdictMarkKind::Wrong => month.1 += 1,
        }
    }
    let categories = Category::ALL
        .iter()
        .map(|c| {
            let (should_have, flagged) = should.get(c).copied().unwrap_or_default();
            CategoryQuality {
                category: c.as_str().to_owned(),
                should_have,
                flagged,
                recall: (should_have > 0).then(|| f64::from(flagged) / f64::from(should_have)),
                false_positives: false_positives.get(c).copied().unwrap_or_default(),
            }
        })
        .collect();
    let months = months.into_iter().map(|(month, (missed, wrong))| MarksInMonth { month, missed, wrong }).collect();
    Ok(VerdictMarkReport { marks: marked.len() as u32, categories, months })
}

/// `GET /v1/admin/verdict-marks/export`: the marked messages as JSON Lines in the corpus's
/// schema (`moderation/corpus/README.md`), for retraining. Children's words: audited, with how
/// many. Roles: yot_admin.
pub async fn export(state: &AppState, user: &AuthUser) -> ApiResult<String> {
    user.require(ADMIN)?;
    let marked = state.store.marked_messages().await?;
    let mut out = String::new();
    for m in &marked {
        let labels = if m.category == "none" { vec!["none".to_owned()] } else { vec![m.category.clone()] };
        let line = serde_json::json!({
            "id": m.id, "text": m.body, "labels": labels, "severity": m.severity.as_str(), "pii": [],
            "note": format!("staff mark: {} ({})", m.kind, month_of(m.marked_at)),
        });
        out.push_str(&line.to_string());
        out.push('\n');
    }
    let detail = Some(format!("{} marked messages", marked.len()));
    let at = state.clock.now_ms();
    let action = AuditAction::VerdictMarksExported;
    crate::audit::record(
        state.store.as_ref(),
        at,
        Some(user.id.as_str()),
        action,
        AuditTarget::Policy,
        "moderation",
        detail,
    )
    .await;
    Ok(out)
}
