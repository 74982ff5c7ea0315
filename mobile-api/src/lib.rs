//! The Talk Zone client contract, protocol v1 (`shared/design/protocol.md`, documented in
//! `docs/protocol.md`).
//!
//! Layout:
//! - this file: ids, roles, REST request/response types, WebSocket frames, error shapes;
//! - [`client`]: a typed async client (HTTP on reqwest, WebSocket on tokio-tungstenite) used by
//!   the tests, the load generator and any Rust client.
//!
//! Nothing here knows about axum or sqlx: a client depends on this crate without the server.

use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

pub mod client;

/// Limits that are part of the contract (the server may be configured lower, never higher
/// for body and id lengths).
pub mod limits {
    /// Longest message body, in characters (Unicode scalar values).
    pub const MAX_BODY_CHARS: usize = 4_000;
    /// Longest `client_msg_id`, in characters.
    pub const MAX_CLIENT_MSG_ID_CHARS: usize = 64;
    /// Default largest WebSocket frame, in bytes; larger frames close the socket with 1009.
    pub const DEFAULT_MAX_FRAME_BYTES: usize = 16 * 1024;
    /// Largest page of `GET /v1/conversations/{id}/messages`.
    pub const MAX_PAGE: u32 = 500;
    /// Page size when `limit` is not given.
    pub const DEFAULT_PAGE: u32 = 100;
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

id_type!(
    /// An opaque user id (random, never sequential).
    UserId
);
id_type!(
    /// An opaque conversation id (random, never sequential).
    ConversationId
);
id_type!(
    /// An opaque message id (random, never sequential).
    MessageId
);

/// Who a user is to the service; every route and frame checks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    YoungPerson,
    ParentCarer,
    DutyWorker,
    Supervisor,
    Moderator,
    YotAdmin,
}

impl Role {
    pub const ALL: [Role; 6] =
        [Role::YoungPerson, Role::ParentCarer, Role::DutyWorker, Role::Supervisor, Role::Moderator, Role::YotAdmin];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::YoungPerson => "young_person",
            Role::ParentCarer => "parent_carer",
            Role::DutyWorker => "duty_worker",
            Role::Supervisor => "supervisor",
            Role::Moderator => "moderator",
            Role::YotAdmin => "yot_admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// Staff are everyone who works for the service (not young people or parents/carers).
    pub fn is_staff(self) -> bool {
        matches!(self, Role::DutyWorker | Role::Supervisor | Role::Moderator | Role::YotAdmin)
    }

    /// Roles that answer support chats.
    pub fn answers_chats(self) -> bool {
        matches!(self, Role::DutyWorker | Role::Supervisor)
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

// ---------------------------------------------------------------------------------------------
// Authentication
// ---------------------------------------------------------------------------------------------

/// A user as others see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: UserId,
    pub role: Role,
    pub display_name: String,
}

/// `POST /v1/auth/anonymous` takes an empty object.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnonymousRequest {}

/// `POST /v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// `POST /v1/auth/refresh` and `POST /v1/auth/logout`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// The answer of every route that signs a user in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Single use: each refresh returns a new one; reusing an old one revokes the family.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub user: UserView,
}

/// `POST /v1/admin/users` (yot_admin).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub username: String,
    pub password: String,
    pub role: Role,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// `POST /v1/me/password`: every session of the account ends (tokens refused, sockets closed).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// `PUT /v1/admin/users/{id}/capacity` (yot_admin), and its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// Chats the worker takes at once (1 to 20; default 3).
    pub capacity: i64,
}

/// `PUT /v1/admin/moderation/policy`: the new policy passed its checks and is in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyInForce {
    /// Always `in_force`.
    pub status: String,
}

/// A staff account, as a YOT admin manages it (`GET /v1/admin/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StaffAccount {
    pub id: UserId,
    pub username: Option<String>,
    pub role: Role,
    pub display_name: String,
    pub on_duty: bool,
    /// Chats at once (duty workers and supervisors).
    pub capacity: i64,
    pub suspended: bool,
    pub created_at: String,
}

/// `GET /v1/admin/users`: every staff account, by name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StaffAccountList {
    pub accounts: Vec<StaffAccount>,
}

/// `POST /v1/ws-ticket`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WsTicketResponse {
    /// Pass as `GET /v1/ws?ticket=…`; single use.
    pub ticket: String,
    pub expires_in: u64,
}

/// `PUT /v1/me/duty`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DutyRequest {
    pub on_duty: bool,
}

/// The caller's duty status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DutyView {
    pub on_duty: bool,
}

// ---------------------------------------------------------------------------------------------
// Conversations
// ---------------------------------------------------------------------------------------------

/// `POST /v1/conversations` (young_person).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConversationRequest {
    #[serde(default)]
    pub topic: Option<String>,
    /// Stored as the first message of the conversation (same checks as `send`).
    #[serde(default)]
    pub first_message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    Support,
    Room,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversationState {
    Queued,
    Assigned,
    Closed,
    /// Peer rooms while they run (an extension of protocol v1).
    Open,
}

impl ConversationState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationState::Queued => "queued",
            ConversationState::Assigned => "assigned",
            ConversationState::Closed => "closed",
            ConversationState::Open => "open",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(Self::Queued),
            "assigned" => Some(Self::Assigned),
            "closed" => Some(Self::Closed),
            "open" => Some(Self::Open),
            _ => None,
        }
    }
}

/// A conversation as its participants and staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConversationView {
    pub id: ConversationId,
    pub kind: ConversationKind,
    pub state: ConversationState,
    pub topic: Option<String>,
    pub created_at: String,
    /// The young person the support chat belongs to.
    pub young_person: Option<UserView>,
    /// The worker the chat is assigned to, once accepted.
    pub assigned_to: Option<UserView>,
    /// 1-based place in the queue while `queued`.
    pub queue_position: Option<u32>,
    /// Estimated seconds until a worker accepts, while `queued`.
    pub estimated_wait_s: Option<u32>,
    /// The highest `seq` stored so far (0 when empty).
    pub last_seq: i64,
    /// Support chats: the highest moderation severity seen (staff see it; the queue is ordered
    /// by it). An extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<String>,
    /// How it ended (`closed` only; staff only, like `risk` and `tags`: an outcome such as
    /// `safeguarding_referral` is not for whoever holds the young person's phone). An extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Support chats, staff only: the tags workers gave it (`PUT /v1/conversations/{id}/tags`,
    /// or on closing). An extension.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Peer rooms only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<RoomInfo>,
    /// Support chats, to their young person only (an extension): who may read this chat, in
    /// plain words, with the version to acknowledge (`POST /v1/me/monitoring-notice/acknowledge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring_notice: Option<MonitoringNotice>,
}

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

/// How a room works (kind `room`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoomInfo {
    pub age_band: String,
    pub moderation: RoomModeration,
    pub personal_info: PersonalInfoMode,
    /// Whether the caller is a member.
    pub joined: bool,
}

/// `pre`: every message is held until a moderator approves it. `post`: only flagged ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoomModeration {
    Pre,
    Post,
}

/// What happens to personal information (phone numbers, addresses, …) in a room message:
/// held for a moderator, or delivered with it redacted. Never shown to other members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonalInfoMode {
    Hold,
    Redact,
}

/// `POST /v1/rooms` (yot_admin).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoomRequest {
    pub topic: String,
    /// e.g. `13-15`.
    pub age_band: String,
    pub moderation: RoomModeration,
    #[serde(default = "default_pii_mode")]
    pub personal_info: PersonalInfoMode,
}

fn default_pii_mode() -> PersonalInfoMode {
    PersonalInfoMode::Hold
}

/// `GET /v1/rooms` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoomList {
    pub rooms: Vec<ConversationView>,
}

// ---------------------------------------------------------------------------------------------
// Escalation
// ---------------------------------------------------------------------------------------------

/// `POST /v1/conversations/{id}/escalations` (staff).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseEscalationRequest {
    /// `medium`, `high` or `critical`.
    pub severity: String,
    pub reason: String,
}

/// What the on-call contact's webhook (`TALKZONE_ONCALL_WEBHOOK_URL`) receives, as a JSON
/// `POST`, when an escalation is not acknowledged by its deadline. Retried until it is taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EscalationOverdueAlert {
    /// Always `talkzone.escalation.overdue`.
    #[serde(rename = "type")]
    pub kind: String,
    pub escalation_id: String,
    pub conversation_id: ConversationId,
    pub severity: String,
    pub reason: String,
    pub raised_at: String,
    pub deadline_at: String,
}

/// A safeguarding escalation, as supervisors see it (never sent to young people).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EscalationView {
    pub id: String,
    pub conversation_id: ConversationId,
    pub message_id: Option<MessageId>,
    pub severity: String,
    pub reason: String,
    /// `worker` or `moderation` (raised automatically on high or critical risk).
    pub source: String,
    pub raised_by: Option<UserId>,
    /// `open`, `acknowledged`, `resolved`.
    pub state: String,
    pub created_at: String,
    /// Acknowledge by then, or it goes to every supervisor and the on-call contact.
    pub deadline_at: String,
    /// Open past its deadline.
    pub overdue: bool,
    /// The deadline passed and it was re-escalated (once).
    pub reescalated: bool,
    pub acknowledged_by: Option<UserId>,
    pub acknowledged_at: Option<String>,
    pub resolved_by: Option<UserId>,
    pub resolved_at: Option<String>,
    pub outcome: Option<String>,
    pub actions: Vec<EscalationActionView>,
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

// ---------------------------------------------------------------------------------------------
// The duty desk: rota and who is on duty
// ---------------------------------------------------------------------------------------------

/// `POST /v1/rota/shifts` (yot_admin).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftRequest {
    pub user_id: UserId,
    /// RFC 3339.
    pub starts_at: String,
    pub ends_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ShiftView {
    pub id: String,
    pub user: UserView,
    pub starts_at: String,
    pub ends_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Rota {
    pub shifts: Vec<ShiftView>,
}

/// A worker on the desk now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeskWorker {
    pub user: UserView,
    pub open_chats: i64,
    pub capacity: i64,
    /// Connected in the last few seconds.
    pub connected: bool,
    /// Hours on duty in the last 24 hours, against the daily cap.
    pub hours_today: f64,
}

/// `GET /v1/desk`: who is on duty now, who is next, and the queue length.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeskView {
    pub on_duty: Vec<DeskWorker>,
    /// Shifts starting in the next 24 hours.
    pub next: Vec<ShiftView>,
    pub queue_length: u32,
    pub max_hours_per_day: f64,
    pub max_hours_per_week: f64,
}

// ---------------------------------------------------------------------------------------------
// Handing over and closing support chats
// ---------------------------------------------------------------------------------------------

/// `POST /v1/conversations/{id}/transfer`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    pub to: UserId,
    pub reason: String,
}

/// `POST /v1/conversations/{id}/requeue`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequeueRequest {
    pub reason: String,
}

/// `POST /v1/conversations/{id}/close`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// One of the configured outcomes (`GET /v1/outcomes`).
    pub outcome: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `PUT /v1/conversations/{id}/tags`: replaces the chat's tags (staff only; up to 20, each 1 to
/// 40 characters without commas or control characters).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsRequest {
    pub tags: Vec<String>,
}

/// `POST /v1/conversations/{id}/notes`: staff only, never shown to the young person.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NoteView {
    pub id: String,
    pub author: UserView,
    pub body: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NoteList {
    pub notes: Vec<NoteView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutcomeList {
    pub outcomes: Vec<String>,
}

// ---------------------------------------------------------------------------------------------
// Moderation
// ---------------------------------------------------------------------------------------------

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
    pub state: String,
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

/// `GET /v1/conversations` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationList {
    pub conversations: Vec<ConversationView>,
    /// Extension: more match; ask again with `offset` set to this. Absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Text,
    System,
    ServiceCard,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::System => "system",
            MessageKind::ServiceCard => "service_card",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "text" => Some(Self::Text),
            "system" => Some(Self::System),
            "service_card" => Some(Self::ServiceCard),
            _ => None,
        }
    }
}

/// One stored message; also the payload of the `message` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MessageView {
    pub conversation_id: ConversationId,
    /// Per conversation, from 1, without gaps.
    pub seq: i64,
    pub message_id: MessageId,
    /// The sender's id for this message; `null` for system messages.
    pub client_msg_id: Option<String>,
    /// `null` for system messages (`kind: system`).
    pub sender: Option<UserView>,
    /// Plain text, never HTML.
    pub body: String,
    pub sent_at: String,
    pub kind: MessageKind,
    /// True when a moderator removed the message; `body` is then a placeholder (extension).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
    /// Staff only (an extension): what the moderation step found in this message, and why.
    /// Never sent to young people or parents/carers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation: Option<ModerationSummary>,
}

/// The moderation verdict on a message, as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ModerationSummary {
    /// `none`, `low`, `medium`, `high` or `critical`.
    pub severity: String,
    pub labels: Vec<String>,
    /// Each rule that fired, with the words that matched.
    pub flags: Vec<ModerationFlag>,
    /// Personal information found (kind and text).
    pub pii: Vec<PiiFound>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ModerationFlag {
    pub category: String,
    pub severity: String,
    pub rule: String,
    pub matched: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PiiFound {
    pub kind: String,
    pub text: String,
}

/// `GET /v1/conversations/{id}/messages` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessagesPage {
    pub messages: Vec<MessageView>,
    /// Pass as `after_seq` for the next page; equal to the request's `after_seq` when empty.
    pub next_after_seq: i64,
}

// ---------------------------------------------------------------------------------------------
// Query parameters of the HTTP routes (each refuses a parameter it does not know, but for
// `/v1/ws`, which always ignored them)
// ---------------------------------------------------------------------------------------------

/// `GET /v1/ws` query: browsers, which cannot set a header on a WebSocket, pass a ticket from
/// `POST /v1/ws-ticket`; native clients send `Authorization: Bearer` instead.
/// Other parameters are ignored, as they always were.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WsQuery {
    pub ticket: Option<String>,
}

/// `GET /v1/conversations` query.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ConversationListQuery {
    /// Staff only: `queued`, `assigned` or `closed`.
    pub state: Option<String>,
    /// Staff only: a worker's user id.
    pub assigned_to: Option<String>,
    /// Staff only: page size, 1–500 (default 500).
    pub limit: Option<u32>,
    /// Staff only: rows to skip (from `next_offset` of the previous page).
    pub offset: Option<u32>,
}

/// `GET /v1/conversations/{id}/messages` query.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessagesQuery {
    /// Only messages with a larger `seq` (default 0: from the start).
    pub after_seq: Option<i64>,
    /// At most this many (default 100, at most 500).
    pub limit: Option<u32>,
}

/// `GET /v1/surveys/{id}/assignments` query.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AssignmentListQuery {
    /// Only assignments with this status: `pending`, `in_progress` or `completed`.
    pub status: Option<String>,
    /// Include the answers (free text with personal information redacted). Default false.
    #[serde(default)]
    pub answers: bool,
}

/// `GET /v1/escalations` query.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EscalationListQuery {
    /// `open`, `acknowledged` or `resolved`.
    pub state: Option<String>,
    /// Page size, 1–500 (default 500).
    pub limit: Option<u32>,
    /// Rows to skip (from `next_offset` of the previous page).
    pub offset: Option<u32>,
}

/// `GET /v1/rota/shifts` query.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct RotaQuery {
    /// RFC 3339; default a day ago.
    pub from: Option<String>,
    /// RFC 3339; default a week ahead.
    pub to: Option<String>,
}

/// `GET /v1/admin/audit` query.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// How many days back (default 7).
    pub days: Option<u32>,
}

/// `GET /v1/services` query.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ServiceSearchQuery {
    /// Text to find in the name, category, description or area (any case), up to 100 characters.
    pub q: Option<String>,
    /// Only this category.
    pub category: Option<String>,
    /// YOT admins only: list retired entries too.
    pub include_retired: Option<bool>,
}

/// Filters on a report (all optional; each narrows the selection).
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReportFilters {
    /// Intervention type id.
    pub intervention_type: Option<String>,
    pub age_band: Option<String>,
    pub gender: Option<String>,
    /// e.g. `white`, `black_black_british_caribbean_african`.
    pub ethnicity: Option<String>,
    /// `looked_after`, `not_looked_after` or `prefer_not_to_say`.
    pub looked_after: Option<String>,
    /// Only assignments at this stage (`start`, `middle`, `end`, `follow_up`).
    pub stage: Option<String>,
    /// Assignments due on or after this date (`YYYY-MM-DD`).
    pub from: Option<String>,
    /// Assignments due on or before this date (`YYYY-MM-DD`).
    pub to: Option<String>,
}

impl ReportFilters {
    /// The filters set, as `name=value` pairs (for the audit log).
    pub fn describe(&self) -> String {
        let pairs = [
            ("intervention_type", &self.intervention_type),
            ("age_band", &self.age_band),
            ("gender", &self.gender),
            ("ethnicity", &self.ethnicity),
            ("looked_after", &self.looked_after),
            ("stage", &self.stage),
            ("from", &self.from),
            ("to", &self.to),
        ];
        let set: Vec<String> = pairs.iter().filter_map(|(n, v)| v.as_ref().map(|v| format!("{n}={v}"))).collect();
        if set.is_empty() {
            "no filters".to_owned()
        } else {
            set.join("&")
        }
    }
}

/// `GET /v1/surveys/{id}/distance` parameters: a scale question, two stages, and filters.
#[derive(Debug, Clone, Serialize, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct DistanceQuery {
    pub question_id: String,
    /// Earlier stage (default `start`).
    pub from_stage: Option<String>,
    /// Later stage (default `end`).
    pub to_stage: Option<String>,
    pub intervention_type: Option<String>,
    pub age_band: Option<String>,
    pub gender: Option<String>,
    pub ethnicity: Option<String>,
    pub looked_after: Option<String>,
    /// Later-stage assignments due on or after this date.
    pub from: Option<String>,
    /// Later-stage assignments due on or before this date.
    pub to: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------

/// Stable error codes, shared by HTTP bodies and the WebSocket `error` frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    BadRequest,
    BadFrame,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    AlreadyAssigned,
    ValidationFailed,
    RateLimited,
    TooLarge,
    Unavailable,
    Internal,
}

impl ErrorCode {
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::BadRequest => "bad_request",
            ErrorCode::BadFrame => "bad_frame",
            ErrorCode::Unauthorized => "unauthorized",
            ErrorCode::Forbidden => "forbidden",
            ErrorCode::NotFound => "not_found",
            ErrorCode::Conflict => "conflict",
            ErrorCode::AlreadyAssigned => "already_assigned",
            ErrorCode::ValidationFailed => "validation_failed",
            ErrorCode::RateLimited => "rate_limited",
            ErrorCode::TooLarge => "too_large",
            ErrorCode::Unavailable => "unavailable",
            ErrorCode::Internal => "internal",
        }
    }
}

/// `{"error": {"code", "message", "details"?}}`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: ErrorCode,
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub details: Option<serde_json::Value>,
}

// ---------------------------------------------------------------------------------------------
// Health
// ---------------------------------------------------------------------------------------------

/// `GET /readyz` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReadyView {
    /// `ready` or `not_ready`.
    pub status: String,
    pub database: String,
    pub broker: String,
}

// ---------------------------------------------------------------------------------------------
// WebSocket frames
// ---------------------------------------------------------------------------------------------

/// Frames a client sends. Unknown types, unknown fields and wrong field types are answered
/// with `error` `bad_frame`, and the connection stays open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    Subscribe {
        conversation_id: ConversationId,
        /// 0 = from the start.
        #[serde(default)]
        after_seq: i64,
    },
    Unsubscribe {
        conversation_id: ConversationId,
    },
    Send {
        conversation_id: ConversationId,
        client_msg_id: String,
        body: String,
    },
    Typing {
        conversation_id: ConversationId,
    },
    Read {
        conversation_id: ConversationId,
        seq: i64,
    },
    Accept {
        conversation_id: ConversationId,
    },
    Duty {
        on_duty: bool,
    },
    #[serde(rename = "queue.watch")]
    QueueWatch,
    /// Moderators and supervisors: receive `moderation.changed` (an extension of protocol v1).
    #[serde(rename = "moderation.watch")]
    ModerationWatch,
    Ping {
        #[serde(default)]
        #[schema(value_type = Option<Object>)]
        nonce: Option<serde_json::Value>,
    },
}

impl ClientFrame {
    /// Every client frame `type` (for tables that must cover them all, such as the
    /// authorisation matrix). `type_name` indexes this list with constants in an exhaustive
    /// `match`: a new variant does not compile until it has an arm, and an index past the end
    /// of this list is a compile error (`unconditional_panic`), so the list must grow with it.
    pub const TYPES: [&'static str; 10] = [
        "subscribe",
        "unsubscribe",
        "send",
        "typing",
        "read",
        "accept",
        "duty",
        "queue.watch",
        "moderation.watch",
        "ping",
    ];

    /// The frame's `type`, used as `ref` in errors that answer it.
    pub fn type_name(&self) -> &'static str {
        Self::TYPES[match self {
            ClientFrame::Subscribe { .. } => 0,
            ClientFrame::Unsubscribe { .. } => 1,
            ClientFrame::Send { .. } => 2,
            ClientFrame::Typing { .. } => 3,
            ClientFrame::Read { .. } => 4,
            ClientFrame::Accept { .. } => 5,
            ClientFrame::Duty { .. } => 6,
            ClientFrame::QueueWatch => 7,
            ClientFrame::ModerationWatch => 8,
            ClientFrame::Ping { .. } => 9,
        }]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    Delivered,
    Held,
}

/// One waiting conversation as watching staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueueEntry {
    pub conversation_id: ConversationId,
    /// 1 = next to be seen.
    pub priority: u32,
    pub waiting_since: String,
    /// The highest moderation severity seen while waiting (`none` … `critical`).
    pub risk: String,
    pub topic: Option<String>,
}

/// Frames the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// Sent only after the message is durably stored.
    Ack {
        client_msg_id: String,
        conversation_id: ConversationId,
        message_id: MessageId,
        seq: Option<i64>,
        status: AckStatus,
    },
    Message(MessageView),
    /// The backlog up to `last_seq` has been sent; what follows is live.
    Subscribed {
        conversation_id: ConversationId,
        last_seq: i64,
    },
    Typing {
        conversation_id: ConversationId,
        user: UserView,
    },
    Read {
        conversation_id: ConversationId,
        user_id: UserId,
        seq: i64,
    },
    Presence {
        user_id: UserId,
        online: bool,
    },
    Conversation(ConversationView),
    Queue {
        conversation_id: ConversationId,
        position: u32,
        estimated_wait_s: u32,
        available_workers: u32,
    },
    #[serde(rename = "queue.snapshot")]
    QueueSnapshot {
        entries: Vec<QueueEntry>,
    },
    #[serde(rename = "queue.changed")]
    QueueChanged {
        entries: Vec<QueueEntry>,
    },
    /// The caller's duty status after a `duty` frame (an extension of protocol v1).
    Duty {
        on_duty: bool,
    },
    /// A safeguarding escalation, new or changed: to supervisors.
    Escalation(EscalationView),
    /// A survey was sent to the caller (young people; an extension): the same entry as in
    /// `GET /v1/me/surveys`.
    Survey(PendingSurvey),
    /// A moderation item changed (an extension): to watching moderators and supervisors.
    #[serde(rename = "moderation.changed")]
    ModerationChanged {
        item: ModerationItemView,
    },
    /// A delivered message changed (an extension): removed by a moderator, or restored on
    /// appeal. `body` is what to show now.
    #[serde(rename = "message.changed")]
    MessageChanged {
        conversation_id: ConversationId,
        message_id: MessageId,
        seq: i64,
        status: String,
        body: String,
    },
    /// Something the user should know, in plain words (an extension): a held message was
    /// rejected, a warning, a mute. `kind` is machine-readable.
    Notice {
        kind: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conversation_id: Option<ConversationId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<MessageId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<String>,
    },
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    Pong {
        #[serde(default)]
        #[schema(value_type = Option<Object>)]
        nonce: Option<serde_json::Value>,
    },
    /// The monitoring notice at the start of a support chat (an extension), to the young
    /// person while they have not acknowledged its current version.
    #[serde(rename = "monitoring_notice")]
    MonitoringNotice {
        conversation_id: ConversationId,
        version: u32,
        text: String,
    },
}

impl ServerFrame {
    /// Every server frame `type`; kept complete as [`ClientFrame::TYPES`] is.
    pub const TYPES: [&'static str; 19] = [
        "ack",
        "message",
        "subscribed",
        "typing",
        "read",
        "presence",
        "conversation",
        "queue",
        "queue.snapshot",
        "queue.changed",
        "duty",
        "escalation",
        "survey",
        "moderation.changed",
        "message.changed",
        "notice",
        "error",
        "pong",
        "monitoring_notice",
    ];

    /// The frame's `type`.
    pub fn type_name(&self) -> &'static str {
        Self::TYPES[match self {
            ServerFrame::Ack { .. } => 0,
            ServerFrame::Message(_) => 1,
            ServerFrame::Subscribed { .. } => 2,
            ServerFrame::Typing { .. } => 3,
            ServerFrame::Read { .. } => 4,
            ServerFrame::Presence { .. } => 5,
            ServerFrame::Conversation(_) => 6,
            ServerFrame::Queue { .. } => 7,
            ServerFrame::QueueSnapshot { .. } => 8,
            ServerFrame::QueueChanged { .. } => 9,
            ServerFrame::Duty { .. } => 10,
            ServerFrame::Escalation(_) => 11,
            ServerFrame::Survey(_) => 12,
            ServerFrame::ModerationChanged { .. } => 13,
            ServerFrame::MessageChanged { .. } => 14,
            ServerFrame::Notice { .. } => 15,
            ServerFrame::Error { .. } => 16,
            ServerFrame::Pong { .. } => 17,
            ServerFrame::MonitoringNotice { .. } => 18,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_round_trip_in_protocol_shape() {
        let f: ClientFrame =
            serde_json::from_str(r#"{"type":"send","conversation_id":"c1","client_msg_id":"m1","body":"hi"}"#).unwrap();
        assert_eq!(
            f,
            ClientFrame::Send { conversation_id: "c1".into(), client_msg_id: "m1".into(), body: "hi".into() }
        );
        let w: ClientFrame = serde_json::from_str(r#"{"type":"queue.watch"}"#).unwrap();
        assert_eq!(w, ClientFrame::QueueWatch);
        let s: ClientFrame = serde_json::from_str(r#"{"type":"subscribe","conversation_id":"c"}"#).unwrap();
        assert_eq!(s, ClientFrame::Subscribe { conversation_id: "c".into(), after_seq: 0 });
    }

    #[test]
    fn client_frames_reject_unknown_fields_types_and_wrong_types() {
        for bad in [
            r#"{"type":"send","conversation_id":"c1","client_msg_id":"m1","body":"hi","x":1}"#,
            r#"{"type":"nope"}"#,
            r#"{"type":"read","conversation_id":"c","seq":"1"}"#,
            r#"{"conversation_id":"c"}"#,
            r#"{"type":"send","conversation_id":"c1","body":"hi"}"#,
            r#"[]"#,
        ] {
            assert!(serde_json::from_str::<ClientFrame>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn server_frames_have_protocol_field_names() {
        let e = ServerFrame::Error {
            code: ErrorCode::RateLimited,
            message: "slow down".into(),
            retry_after_ms: Some(250),
            reference: Some("m1".into()),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["code"], "rate_limited");
        assert_eq!(v["retry_after_ms"], 250);
        assert_eq!(v["ref"], "m1");
        let snap = serde_json::to_value(ServerFrame::QueueSnapshot { entries: vec![] }).unwrap();
        assert_eq!(snap["type"], "queue.snapshot");
    }

    #[test]
    fn frame_type_lists_match_serde_and_have_no_duplicates() {
        let sample_client = [
            ClientFrame::QueueWatch,
            ClientFrame::ModerationWatch,
            ClientFrame::Ping { nonce: None },
            ClientFrame::Duty { on_duty: true },
            ClientFrame::Typing { conversation_id: "c".into() },
        ];
        for f in &sample_client {
            assert_eq!(serde_json::to_value(f).expect("json")["type"], f.type_name());
        }
        let sample_server = [
            ServerFrame::Pong { nonce: None },
            ServerFrame::Duty { on_duty: false },
            ServerFrame::QueueChanged { entries: vec![] },
            ServerFrame::MonitoringNotice { conversation_id: "c".into(), version: 1, text: "t".into() },
            ServerFrame::Presence { user_id: "u".into(), online: true },
        ];
        for f in &sample_server {
            assert_eq!(serde_json::to_value(f).expect("json")["type"], f.type_name());
        }
        for list in [&ClientFrame::TYPES[..], &ServerFrame::TYPES[..]] {
            let mut sorted = list.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), list.len(), "a type listed twice: {list:?}");
        }
    }

    #[test]
    fn error_codes_serialise_as_their_names() {
        for code in [ErrorCode::AlreadyAssigned, ErrorCode::BadFrame, ErrorCode::TooLarge] {
            assert_eq!(serde_json::to_value(code).unwrap(), code.as_str());
        }
    }
}

// Surveys
//
// Feedback surveys on YOT interventions (docs/surveys.md): definitions and versions, the
// managed list of intervention types, pseudonymous participants, assignments, responses and
// suppressed reports.

/// Who a survey is written for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SurveyAudience {
    YoungPerson,
    ParentCarer,
}

/// A question's type, which fixes what an answer may be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    /// An integer 1–5 shown as faces (1 = very unhappy, 5 = very happy).
    EmojiScale,
    /// `true` or `false`.
    YesNo,
    /// One of `options` (a string).
    SingleChoice,
    /// One or more distinct `options` (an array of strings).
    MultipleChoice,
    /// An integer 0–10.
    #[serde(rename = "scale_0_10")]
    Scale0To10,
    /// A string of 1 to `max_length` characters.
    FreeText,
}

/// One question of a survey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyQuestion {
    /// Stable key within the survey (letters, digits, `_`, `-`; up to 40). Keep it when
    /// editing so distance travelled can pair answers across versions.
    pub id: String,
    pub kind: QuestionKind,
    /// The question as staff write it.
    pub text: String,
    /// Child-friendly wording shown to the respondent instead of `text` when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub child_text: Option<String>,
    #[serde(default)]
    pub required: bool,
    /// For single and multiple choice: 2 to 20 distinct options.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// For free text: the longest answer in characters (default 500, at most 2000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
}

/// A survey's content: the body of `POST /v1/surveys` and `PUT /v1/surveys/{id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyDefinition {
    pub title: String,
    pub audience: SurveyAudience,
    /// Child-friendly introduction shown before the first question.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub intro: Option<String>,
    pub questions: Vec<SurveyQuestion>,
}

/// A survey: its editable draft and its latest published version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SurveyView {
    pub id: String,
    pub draft: SurveyDefinition,
    /// Latest published version number (`None` until first published).
    pub latest_version: Option<i64>,
    /// Whether the draft differs from the latest published version.
    pub unpublished_changes: bool,
    pub created_at: String,
    pub updated_at: String,
}

/// `GET /v1/surveys` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SurveyList {
    pub surveys: Vec<SurveyView>,
}

/// A frozen, published version of a survey.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SurveyVersionView {
    pub survey_id: String,
    pub version: i64,
    pub published_at: String,
    pub definition: SurveyDefinition,
}

/// A local service in the directory (`GET /v1/services`). Shared into a chat, it is the
/// `body` of a `service_card` message, as a JSON object in a string: a snapshot of the entry
/// when it was shared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ServiceView {
    pub id: String,
    pub name: String,
    /// A short lowercase tag chosen by the YOT, e.g. `prevention`, `diversion`, `health`.
    pub category: String,
    pub description: String,
    /// Where it works, e.g. a town or "county-wide".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub area: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<String>,
    /// `https://` or `http://` only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Opening times, as text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hours: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_age: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_age: Option<u32>,
    /// Retired entries are listed only to YOT admins (`include_retired=true`).
    #[serde(default)]
    pub retired: bool,
}

/// `GET /v1/services` answer: at most 100, by name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceList {
    pub services: Vec<ServiceView>,
}

/// `POST /v1/services` and `PUT /v1/services/{id}` (the whole entry).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceRequest {
    pub name: String,
    pub category: String,
    pub description: String,
    #[serde(default)]
    pub area: Option<String>,
    #[serde(default)]
    pub phone: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub hours: Option<String>,
    #[serde(default)]
    pub min_age: Option<u32>,
    #[serde(default)]
    pub max_age: Option<u32>,
}

/// `POST /v1/conversations/{id}/service-cards`: share a directory entry into a chat.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShareServiceRequest {
    pub service_id: String,
    /// As for `send`: the same id again is answered with the first message, not a second.
    pub client_msg_id: String,
}

/// The `service_card` message a share stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ServiceCardSent {
    pub message_id: MessageId,
    pub seq: i64,
    pub card: ServiceView,
}

/// An intervention type of the managed list.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InterventionTypeView {
    pub id: String,
    pub name: String,
    pub retired: bool,
}

/// `GET /v1/intervention-types` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct InterventionTypeList {
    pub intervention_types: Vec<InterventionTypeView>,
}

/// `POST /v1/intervention-types`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateInterventionTypeRequest {
    pub name: String,
}

/// The five ONS ethnic groups, plus prefer not to say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ethnicity {
    White,
    MixedOrMultiple,
    AsianOrAsianBritish,
    /// Black, Black British, Caribbean or African.
    BlackBlackBritishCaribbeanAfrican,
    OtherEthnicGroup,
    PreferNotToSay,
}

impl Ethnicity {
    pub fn as_str(self) -> &'static str {
        match self {
            Ethnicity::White => "white",
            Ethnicity::MixedOrMultiple => "mixed_or_multiple",
            Ethnicity::AsianOrAsianBritish => "asian_or_asian_british",
            Ethnicity::BlackBlackBritishCaribbeanAfrican => "black_black_british_caribbean_african",
            Ethnicity::OtherEthnicGroup => "other_ethnic_group",
            Ethnicity::PreferNotToSay => "prefer_not_to_say",
        }
    }
}

/// Looked-after (in care) status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LookedAfter {
    LookedAfter,
    NotLookedAfter,
    PreferNotToSay,
}

impl LookedAfter {
    pub fn as_str(self) -> &'static str {
        match self {
            LookedAfter::LookedAfter => "looked_after",
            LookedAfter::NotLookedAfter => "not_looked_after",
            LookedAfter::PreferNotToSay => "prefer_not_to_say",
        }
    }
}

/// `POST /v1/survey-participants`: a young person on an intervention, under a pseudonymous
/// reference (never a name). Equality fields are optional.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateParticipantRequest {
    /// Pseudonymous case reference, e.g. `YOT-2024-0193` (letters, digits, `-`, `_`, `/`).
    pub reference: String,
    /// An id from `GET /v1/intervention-types`.
    pub intervention_type: String,
    /// `YYYY-MM-DD`.
    pub start_date: String,
    #[serde(default)]
    pub end_date: Option<String>,
    /// One of `10-12`, `13-15`, `16-17`, `18+`, `prefer_not_to_say`.
    #[serde(default)]
    pub age_band: Option<String>,
    /// One of `female`, `male`, `non_binary`, `other`, `prefer_not_to_say`.
    #[serde(default)]
    pub gender: Option<String>,
    #[serde(default)]
    pub ethnicity: Option<Ethnicity>,
    #[serde(default)]
    pub looked_after: Option<LookedAfter>,
}

/// A participant record.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ParticipantView {
    pub id: String,
    pub reference: String,
    pub intervention_type: String,
    pub start_date: String,
    pub end_date: Option<String>,
    pub age_band: Option<String>,
    pub gender: Option<String>,
    pub ethnicity: Option<Ethnicity>,
    pub looked_after: Option<LookedAfter>,
    pub created_at: String,
}

/// `GET /v1/survey-participants` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ParticipantList {
    pub participants: Vec<ParticipantView>,
}

/// `DELETE /v1/survey-participants/{id}` answer: the participant is gone, with their
/// assignments and answers.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ParticipantDeleted {
    pub id: String,
    /// Assignments deleted with the participant (answered or not).
    pub assignments_deleted: u64,
}

/// When in an intervention a survey is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SurveyStage {
    Start,
    Middle,
    End,
    FollowUp,
}

impl SurveyStage {
    pub fn as_str(self) -> &'static str {
        match self {
            SurveyStage::Start => "start",
            SurveyStage::Middle => "middle",
            SurveyStage::End => "end",
            SurveyStage::FollowUp => "follow_up",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "start" => Some(SurveyStage::Start),
            "middle" => Some(SurveyStage::Middle),
            "end" => Some(SurveyStage::End),
            "follow_up" => Some(SurveyStage::FollowUp),
            _ => None,
        }
    }
}

/// Who answers an assignment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AssignmentRespondent {
    /// A young person's account; the survey appears in their `GET /v1/me/surveys`.
    YoungPerson { user_id: UserId },
    /// A parent or carer without an account: the answer carries a single-use access code.
    ParentCarer,
}

/// `POST /v1/survey-assignments`: send the latest published version of a survey.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateAssignmentRequest {
    pub survey_id: String,
    pub participant_id: String,
    pub stage: SurveyStage,
    /// `YYYY-MM-DD`.
    pub due_date: String,
    pub respondent: AssignmentRespondent,
    /// Parent/carer codes: days until the code stops working (default 28, at most 90).
    #[serde(default)]
    pub access_code_valid_days: Option<u32>,
}

/// An assignment's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentStatus {
    Pending,
    InProgress,
    Completed,
}

/// An assignment as staff see it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct AssignmentView {
    pub id: String,
    pub survey_id: String,
    pub version: i64,
    pub participant_id: String,
    pub stage: SurveyStage,
    pub due_date: String,
    pub status: AssignmentStatus,
    pub respondent: AssignmentRespondent,
    pub access_code_expires_at: Option<String>,
}

/// `POST /v1/survey-assignments` answer. `access_code` is shown once (parent/carer only):
/// only its hash is stored.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CreatedAssignment {
    pub assignment: AssignmentView,
    pub access_code: Option<String>,
}

/// One answer: `value` must fit the question's kind (see [`QuestionKind`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SurveyAnswer {
    pub question_id: String,
    #[schema(value_type = Object)]
    pub value: serde_json::Value,
}

/// A survey waiting for the respondent, with what they saved so far.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PendingSurvey {
    pub assignment_id: String,
    pub stage: SurveyStage,
    pub due_date: String,
    pub status: AssignmentStatus,
    pub survey: SurveyVersionView,
    pub saved_answers: Vec<SurveyAnswer>,
    /// Set when this is the feedback survey offered after that support chat closed (absent
    /// otherwise; older servers never send it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation_id: Option<ConversationId>,
}

/// One assignment in the staff list (`GET /v1/surveys/{id}/assignments`). Chat feedback
/// carries no participant, account or conversation: only `chat_feedback: true`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StaffAssignmentView {
    pub id: String,
    pub version: i64,
    /// The participant's pseudonymous case reference (`null` for chat feedback).
    pub participant_reference: Option<String>,
    /// `young_person` or `parent_carer`.
    pub respondent_kind: String,
    pub stage: SurveyStage,
    pub due_date: String,
    pub status: AssignmentStatus,
    pub chat_feedback: bool,
    pub created_at: String,
    pub completed_at: Option<String>,
    /// With `answers=true`: the answers saved so far (free text with personal information
    /// redacted); otherwise `null`.
    pub answers: Option<Vec<SurveyAnswer>>,
    pub submitted_at: Option<String>,
}

/// `GET /v1/surveys/{id}/assignments` answer, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StaffAssignmentList {
    pub assignments: Vec<StaffAssignmentView>,
}

/// `GET`/`PUT /v1/surveys/chat-feedback`: the survey offered to a young person after a
/// support chat closes (`null`: none is offered).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChatFeedbackSetting {
    pub survey_id: Option<String>,
}

/// `GET /v1/me/surveys` answer: the caller's surveys not yet completed.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PendingSurveyList {
    pub surveys: Vec<PendingSurvey>,
}

/// Body of a submission. `final: false` saves part-way (only the answers given are checked
/// and they replace earlier ones); `final: true` also requires every required question.
/// Retrying with the same `submission_id` returns the same response.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitSurveyRequest {
    /// Client-chosen id (1–64 characters) for this submission.
    pub submission_id: String,
    #[serde(rename = "final")]
    pub is_final: bool,
    pub answers: Vec<SurveyAnswer>,
}

/// The response to an assignment.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SurveyResponseView {
    pub response_id: String,
    pub assignment_id: String,
    pub version: i64,
    #[serde(rename = "final")]
    pub is_final: bool,
    pub submission_id: Option<String>,
    pub answers: Vec<SurveyAnswer>,
    pub submitted_at: Option<String>,
}

/// A number in a report: `value` is `null` and `suppressed` is `true` when it is hidden.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ReportCell {
    pub value: Option<i64>,
    pub suppressed: bool,
}

/// One bar of a question's distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DistributionCell {
    pub label: String,
    pub count: Option<i64>,
    pub suppressed: bool,
}

/// One question's results.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct QuestionReport {
    pub question_id: String,
    pub kind: QuestionKind,
    pub text: String,
    /// How many final responses answered it.
    pub answered: ReportCell,
    pub distribution: Vec<DistributionCell>,
    /// Scales only; `null` when suppressed.
    pub mean: Option<f64>,
    pub median: Option<f64>,
    pub stats_suppressed: bool,
    /// Free text only: answers with personal information redacted.
    pub free_text: Option<Vec<String>>,
    pub free_text_suppressed: bool,
}

/// A report on one survey version.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SurveyReport {
    pub survey_id: String,
    pub version: i64,
    pub title: String,
    /// Counts under this are suppressed.
    pub threshold: i64,
    /// The whole report is withheld (every number `null`); `suppression_reason` says why.
    pub suppressed: bool,
    pub suppression_reason: Option<String>,
    pub assigned: ReportCell,
    pub completed: ReportCell,
    pub response_rate: Option<f64>,
    pub questions: Vec<QuestionReport>,
}

/// A count and its share of the pairs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DistanceCell {
    pub count: Option<i64>,
    pub share: Option<f64>,
    pub suppressed: bool,
}

/// Distance travelled on one scale question between two stages (paired by participant).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DistanceReport {
    pub survey_id: String,
    pub question_id: String,
    pub from_stage: SurveyStage,
    pub to_stage: SurveyStage,
    pub threshold: i64,
    pub suppressed: bool,
    pub suppression_reason: Option<String>,
    /// Participants who answered at both stages.
    pub pairs: ReportCell,
    /// Mean of (later − earlier); higher is better on every scale.
    pub mean_change: Option<f64>,
    pub improved: DistanceCell,
    pub same: DistanceCell,
    pub worse: DistanceCell,
}
