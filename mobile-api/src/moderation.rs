//! The moderation queue: reports, decisions, appeals, actions on users and the moderation log
//! (`/v1/reports`, `/v1/moderation/*`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{ConversationId, ErrorCode, MessageId, MessageView, UserId, UserView};

/// `POST /v1/reports`: report a message (or a user) to the moderators.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportRequest {
    #[serde(default)]
    pub message_id: Option<MessageId>,
    #[serde(default)]
    pub user_id: Option<UserId>,
    /// Why, in the reporter's words (at most 1,000 characters).
    pub reason: String,
}

/// What the reporter gets back.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReportReceipt {
    pub id: String,
    /// `open` (in the moderation queue), `appeal_requested`, or `sent_to_supervisor` (a
    /// young person's report of a message in their own support chat, which goes to a
    /// supervisor as an escalation, never to moderators).
    pub state: String,
    /// Words to show the reporter, when there is something to tell them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// One item of the moderation queue, as moderators see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModerationItemView {
    pub id: String,
    /// `hold` (a room message waiting for approval) or `report`.
    pub kind: String,
    pub conversation_id: Option<ConversationId>,
    pub message_id: Option<MessageId>,
    /// The sender of the message, or the reported user.
    pub subject_user: Option<UserView>,
    pub reason: String,
    pub severity: String,
    /// The text as it was when held or reported (kept as evidence).
    pub evidence: Option<String>,
    /// `open`, `decided`.
    pub state: String,
    pub claimed_by: Option<UserId>,
    pub claim_expires_at: Option<String>,
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<UserId>,
    /// `requested`, `upheld`, `overturned`, or null.
    pub appeal_state: Option<String>,
    pub appeal_reason: Option<String>,
    pub created_at: String,
    /// Seconds since the item was created, against the service level `sla_s`.
    pub age_s: u64,
    pub overdue: bool,
    /// The room's name, when the item is in a room (an extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room_name: Option<String>,
}

/// `GET /v1/moderation/items/{id}/context`: the messages around the item's message, as the
/// caller may read them (an extension), in `seq` order. A held message has no `seq` yet: its
/// context is what was said just before it was held.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModerationContext {
    pub messages: Vec<MessageView>,
    /// The `seq` of the item's own message among them, if it was delivered.
    pub seq: Option<i64>,
}

/// `GET /v1/moderation/queue` answer: open items and requested appeals, most severe first,
/// then oldest.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModerationQueue {
    pub items: Vec<ModerationItemView>,
    pub sla_s: u64,
}

/// A moderator's decision on an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModerationAction {
    /// A held message: give it the next `seq` and deliver it.
    Approve,
    /// A held message: deliver `body` instead (personal information removed).
    Redact,
    /// A held message: never deliver it; the sender is told kindly why.
    Reject,
    /// A reported message: hide it from everyone (kept as evidence).
    Remove,
    /// A report: no action.
    Dismiss,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionRequest {
    pub action: ModerationAction,
    pub reason: String,
    /// With `redact`: the text to deliver.
    #[serde(default)]
    pub body: Option<String>,
}

/// `POST /v1/moderation/bulk`: one decision for many items (spam floods).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BulkDecisionRequest {
    pub item_ids: Vec<String>,
    pub action: ModerationAction,
    pub reason: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BulkDecisionResult {
    pub decided: Vec<String>,
    /// Items not decided, with why (already decided, claimed by someone else, not found).
    pub failed: Vec<BulkFailure>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct BulkFailure {
    pub id: String,
    pub code: ErrorCode,
}

/// `POST /v1/moderation/items/{id}/appeal` (the sender or reported user, once).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealRequest {
    pub reason: String,
}

/// `POST /v1/moderation/items/{id}/appeal/decision` (a different moderator).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealDecisionRequest {
    /// true: the first decision stands; false: it is reversed.
    pub uphold: bool,
    pub reason: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum UserActionKind {
    Warn,
    /// No sending in rooms for `duration_s` (support chats stay open: a young person can
    /// always ask for help).
    Mute,
    Unmute,
    /// No sign-in at all; open sessions end at once.
    Suspend,
    Unsuspend,
}

/// `POST /v1/moderation/users/{id}/actions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserActionRequest {
    pub action: UserActionKind,
    pub reason: String,
    #[serde(default)]
    pub duration_s: Option<u64>,
}

/// One moderation log entry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModerationLogEntry {
    pub id: String,
    pub at: String,
    pub moderator_id: Option<UserId>,
    pub action: String,
    pub item_id: Option<String>,
    pub subject_user_id: Option<UserId>,
    pub reason: Option<String>,
    pub expires_at: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ModerationLog {
    pub entries: Vec<ModerationLogEntry>,
}

/// What a member of staff says was wrong with the moderation verdict on a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum VerdictMarkKind {
    /// A risk the classifier did not flag (or flagged too low).
    Missed,
    /// A risk the classifier flagged that is not there (or flagged too high).
    Wrong,
}

/// `POST /v1/messages/{id}/verdict-mark`: the verdict on this message was wrong, and what it
/// should have been. Marking the same message again replaces the caller's earlier mark.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerdictMarkRequest {
    pub kind: VerdictMarkKind,
    /// The category it should have had (`self_harm`, `suicide` …), or `none`.
    pub category: String,
    /// The severity it should have had (`none` … `critical`); `none` only with category `none`.
    pub severity: String,
}

/// A mark as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct VerdictMarkView {
    pub id: String,
    pub message_id: MessageId,
    pub kind: VerdictMarkKind,
    pub category: String,
    pub severity: String,
    pub marked_at: String,
}

/// How the classifier in force does on the messages staff marked (`GET
/// /v1/admin/verdict-marks/report`): each marked message classified again now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct VerdictMarkReport {
    /// Marks counted (on messages still kept).
    pub marks: u32,
    /// Per category: of the marked messages that should have it, how many the classifier in
    /// force flags with it now (`recall`), and of those that should not, how many it flags
    /// with it (`false_positives`).
    pub categories: Vec<CategoryQuality>,
    /// Per month of marking (`YYYY-MM`): how many marks of each kind.
    pub months: Vec<MarksInMonth>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CategoryQuality {
    pub category: String,
    /// Marked messages that should have this category.
    pub should_have: u32,
    /// Of those, flagged with it by the classifier in force.
    pub flagged: u32,
    /// `flagged / should_have`; absent when nothing should have it.
    pub recall: Option<f64>,
    /// Marked messages that should not have it but are flagged with it now.
    pub false_positives: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MarksInMonth {
    pub month: String,
    pub missed: u32,
    pub wrong: u32,
}
