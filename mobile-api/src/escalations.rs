//! Safeguarding escalations (`/v1/escalations/*`, `/v1/conversations/{id}/escalations`) and
//! the alert the on-call webhook receives.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{ConversationId, ConversationState, MessageId, UserId, UserView};

/// `POST /v1/conversations/{id}/escalations` (staff).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseEscalationRequest {
    /// `medium`, `high` or `critical`.
    pub severity: String,
    pub reason: String,
}

/// What the on-call contact's webhook (`TALKZONE_ONCALL_WEBHOOK_URL`) receives, as a signed
/// JSON `POST` (headers `X-TalkZone-Timestamp`, `X-TalkZone-Signature`, `X-TalkZone-Delivery`;
/// docs/operations.md says how to verify them), at each step of an escalation's chain: at its
/// deadline and again every deadline's length until someone acknowledges it, and at once for a
/// critical one raised when no supervisor is connected. Retried until it is taken.
///
/// It carries no words of the young person or about them (no reason, no message, no name):
/// only enough to know how urgent it is and where to look.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EscalationOverdueAlert {
    /// `talkzone.escalation.overdue` (not acknowledged by its deadline) or
    /// `talkzone.escalation.unattended` (critical, and no supervisor was connected to see it).
    #[serde(rename = "type")]
    pub kind: String,
    pub escalation_id: String,
    pub conversation_id: ConversationId,
    /// `medium`, `high` or `critical`.
    pub severity: String,
    /// `worker`, `moderation` or `young_person`: who raised it.
    pub source: String,
    /// Which step of the chain this is: 1 for the first alert to on-call, then 2, 3, …
    pub step: u32,
    pub raised_at: String,
    pub deadline_at: String,
    /// When the next step is due if nobody acknowledges it by then.
    pub next_step_at: String,
}

/// A safeguarding escalation, as supervisors see it (never sent to young people).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EscalationView {
    pub id: String,
    pub conversation_id: ConversationId,
    pub message_id: Option<MessageId>,
    pub severity: String,
    pub reason: String,
    /// `worker`, `moderation` (raised automatically on high or critical risk) or `young_person`
    /// (the young person reported a message in their own support chat).
    pub source: String,
    pub raised_by: Option<UserId>,
    /// `open`, `acknowledged`, `resolved`.
    pub state: String,
    pub created_at: String,
    /// Acknowledge by then, or it goes to every supervisor and the on-call contact.
    pub deadline_at: String,
    /// Open past its deadline.
    pub overdue: bool,
    /// The deadline passed and it was re-escalated (see `steps`).
    pub reescalated: bool,
    /// Steps of the chain taken so far: each re-alerted every supervisor and the on-call
    /// contact (0: none yet).
    #[serde(default)]
    pub steps: u32,
    pub acknowledged_by: Option<UserId>,
    pub acknowledged_at: Option<String>,
    pub resolved_by: Option<UserId>,
    pub resolved_at: Option<String>,
    pub outcome: Option<String>,
    pub actions: Vec<EscalationActionView>,
    /// Which chat, at a glance (extensions): its young person (their display name, often a
    /// friendly random one), the worker who has it now, and whether it is still open.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub young_person: Option<UserView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub worker: Option<UserView>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_state: Option<ConversationState>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EscalationActionView {
    pub at: String,
    pub actor_id: UserId,
    /// e.g. `called_999`, `police`, `mash_referral`, `parent_contacted`, `note`.
    pub action: String,
    pub note: Option<String>,
}

/// `POST /v1/escalations/{id}/actions`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EscalationActionRequest {
    pub action: String,
    #[serde(default)]
    pub note: Option<String>,
}

/// `POST /v1/escalations/{id}/resolve`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveEscalationRequest {
    pub outcome: String,
    #[serde(default)]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EscalationList {
    pub escalations: Vec<EscalationView>,
    /// Extension: more match; ask again with `offset` set to this. Absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u32>,
}
