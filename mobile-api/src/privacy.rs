//! Privacy: the monitoring notice, safeguarding holds, the audit trail, and a user's rights of
//! access and erasure (`/v1/me/export`, `DELETE /v1/me`, `/v1/me/monitoring-notice*`,
//! `/v1/conversations/{id}/hold*`, `/v1/admin/audit`; escalations share [`AuditTrail`]).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{ConversationId, ConversationKind, ConversationState, MessageView, Role, UserId};

/// The monitoring notice: tells a young person, in plain words, that a supervisor may read
/// their chat and why. Versioned: a new version is shown again until acknowledged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MonitoringNotice {
    pub version: u32,
    pub text: String,
    /// Whether the caller has acknowledged this version.
    pub acknowledged: bool,
    /// When the caller acknowledged this version (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acknowledged_at: Option<String>,
}

/// `POST /v1/me/monitoring-notice/acknowledge`: the version the young person read.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeNoticeRequest {
    pub version: u32,
}

/// One audit entry (who did what, when, why).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditEntry {
    pub at: String,
    pub actor_id: Option<UserId>,
    pub action: String,
    pub details: Option<String>,
    /// What it was about, as `type:id` (in the admin's full log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// `POST /v1/conversations/{id}/hold` and `/hold/release` (supervisor).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HoldRequest {
    pub reason: String,
}

/// `DELETE /v1/me`: what was deleted and, in plain words, what was kept and why.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeletionReceipt {
    pub deleted: bool,
    pub message: String,
    /// Conversations kept under a safeguarding hold.
    pub kept: Vec<ConversationId>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AuditTrail {
    pub entries: Vec<AuditEntry>,
}

/// `POST /v1/conversations/{id}/hold` and `/hold/release`: whether the chat is now under a hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct HoldState {
    pub hold: bool,
}

/// `GET /v1/me/export`: everything the service holds about the caller that is theirs to have
/// (the right of access), as a JSON download. Staff notes, escalations and moderation verdicts
/// are not in it; `not_included` says so in plain words.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DataExport {
    pub exported_at: String,
    pub account: ExportedAccount,
    /// The caller's support chats, each with every message in it.
    pub support_conversations: Vec<ExportedConversation>,
    /// What the caller sent in peer rooms (and any other chat that is not theirs).
    pub room_messages: Vec<ExportedRoomMessage>,
    /// The surveys sent to the caller, with their own answers.
    pub survey_answers: Vec<ExportedSurvey>,
    /// When the caller acknowledged each version of the monitoring notice.
    pub monitoring_notice_acknowledgements: Vec<NoticeAcknowledgement>,
    /// The devices that remember the caller (never a secret) and whether they have a recovery
    /// phrase (never the phrase): docs/privacy.md, "Coming back".
    #[serde(default)]
    pub ways_back: crate::DeviceCredentialList,
    /// What is kept elsewhere, and how to ask for it.
    pub not_included: String,
}

/// The account, as it is stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExportedAccount {
    pub id: UserId,
    pub role: Role,
    pub display_name: String,
    /// `null` for an anonymous account.
    pub username: Option<String>,
    pub created_at: String,
}

/// One of the caller's support chats.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExportedConversation {
    pub id: ConversationId,
    pub kind: ConversationKind,
    pub state: ConversationState,
    pub topic: Option<String>,
    pub created_at: String,
    pub closed_at: Option<String>,
    pub messages: Vec<MessageView>,
}

/// A message the caller sent in a chat that is not theirs (a peer room).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExportedRoomMessage {
    pub conversation_id: ConversationId,
    pub body: String,
    pub sent_at: String,
    /// `visible`, `held` (waiting for a moderator), `rejected` or `removed` (by a moderator).
    pub status: String,
}

/// A survey sent to the caller.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExportedSurvey {
    pub assignment_id: String,
    /// The survey's title.
    pub survey: String,
    pub version: i64,
    /// `start`, `middle`, `end` or `follow_up`.
    pub stage: String,
    /// `pending`, `in_progress` or `completed`.
    pub status: String,
    pub sent_at: String,
    /// Chat feedback: the chat it is about.
    pub about_conversation: Option<String>,
    pub answers: Vec<ExportedAnswer>,
    pub submitted_at: Option<String>,
}

/// One answer, with the question as the caller saw it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ExportedAnswer {
    pub question_id: String,
    /// The question's text (its child-friendly wording where it has one); `null` if the
    /// question is no longer in the survey version.
    pub question: Option<String>,
    #[schema(value_type = Object)]
    pub answer: serde_json::Value,
}

/// The monitoring notice's version the caller acknowledged, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NoticeAcknowledgement {
    pub version: i64,
    pub acknowledged_at: String,
}
