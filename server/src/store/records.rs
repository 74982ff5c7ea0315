//! What the store reads and writes: the stored records, the new rows, and the outcomes and
//! small enums its methods return, shared by the aggregates' traits. Kinds and states are the
//! [`crate::model`] types, parsed from their text as the rows are read.

use crate::model::{
    AuditAction, AuditTarget, ClosedReason, ConversationKind, ConversationState, EscalationSource, EscalationState,
    MessageKind, MessageStatus, ModerationItemKind, ModerationItemState, NullableText, PersonalInfoMode, PolicyKind,
    Role, RoomModeration, Severity, VerdictMarkKind,
};

/// A stored account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: String,
    #[sqlx(try_from = "String")]
    pub role: Role,
    pub username: Option<String>,
    pub password_hash: Option<String>,
    pub display_name: String,
    pub created_at: i64,
    pub suspended_at: Option<i64>,
    pub muted_until: Option<i64>,
    pub on_duty: bool,
    pub capacity: i64,
    pub tokens_valid_after: Option<i64>,
    /// Offboarded: the account can never sign in again (its name stays on its records).
    pub offboarded_at: Option<i64>,
    /// The TOTP secret (base32), once enrolled.
    pub totp_secret: Option<String>,
    /// The last TOTP time step accepted (a code is good once).
    pub totp_last_step: Option<i64>,
    /// The identity provider's subject this account signs in as (single sign-on).
    pub oidc_subject: Option<String>,
}

impl UserRecord {
    /// Neither suspended nor offboarded.
    pub fn is_active(&self) -> bool {
        self.suspended_at.is_none() && self.offboarded_at.is_none()
    }
}

/// A change to a staff account's state or role ([`crate::store::Users::change_account`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountChange {
    Suspend,
    Reactivate,
    /// For good: no password, no second factor, no single sign-on binding; the name stays.
    Offboard,
    Role(Role),
    /// The second factor is forgotten: it is enrolled again at the next sign-in.
    ResetSecondFactor,
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub role: Role,
    pub username: Option<String>,
    pub password_hash: Option<String>,
    pub display_name: String,
    pub created_at: i64,
}

/// A stored conversation with the names of its young person and worker.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversationRecord {
    pub id: String,
    #[sqlx(try_from = "String")]
    pub kind: ConversationKind,
    #[sqlx(try_from = "String")]
    pub state: ConversationState,
    pub topic: Option<String>,
    pub owner_id: Option<String>,
    pub owner_name: Option<String>,
    pub assigned_to: Option<String>,
    pub assigned_name: Option<String>,
    #[sqlx(try_from = "NullableText")]
    pub assigned_role: Option<Role>,
    pub created_at: i64,
    pub assigned_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub last_seq: i64,
    #[sqlx(try_from = "String")]
    pub risk: Severity,
    pub age_band: Option<String>,
    #[sqlx(try_from = "NullableText")]
    pub moderation_mode: Option<RoomModeration>,
    #[sqlx(try_from = "NullableText")]
    pub pii_mode: Option<PersonalInfoMode>,
    pub risk_rank: i64,
    pub requeued_at: Option<i64>,
    pub first_reply_at: Option<i64>,
    pub outcome: Option<String>,
    pub tags: Option<String>,
    pub hold_reason: Option<String>,
    #[sqlx(try_from = "NullableText")]
    pub closed_reason: Option<ClosedReason>,
}

/// A stored escalation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EscalationRecord {
    pub id: String,
    pub conversation_id: String,
    pub message_id: Option<String>,
    #[sqlx(try_from = "String")]
    pub severity: Severity,
    pub reason: String,
    #[sqlx(try_from = "String")]
    pub source: EscalationSource,
    pub raised_by: Option<String>,
    #[sqlx(try_from = "String")]
    pub state: EscalationState,
    pub created_at: i64,
    pub deadline_at: i64,
    pub reescalated_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<i64>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<i64>,
    pub outcome: Option<String>,
    /// Re-escalations fired so far (the steps of the chain taken).
    pub steps: i64,
    /// When the next step is due, while it is open.
    pub next_step_at: Option<i64>,
}

/// A new escalation (with a message, it is stored in the message's transaction).
#[derive(Debug, Clone)]
pub struct NewEscalation {
    pub id: String,
    pub conversation_id: String,
    pub message_id: Option<String>,
    pub severity: Severity,
    pub reason: String,
    pub source: EscalationSource,
    pub raised_by: Option<String>,
    pub created_at: i64,
    pub deadline_at: i64,
    /// Its `escalation_raised` audit entry, written in the same transaction.
    pub audit: AuditEvent,
}

/// Something a supervisor did about an escalation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EscalationActionRecord {
    pub id: String,
    pub escalation_id: String,
    pub at: i64,
    pub actor_id: String,
    pub action: String,
    pub note: Option<String>,
}

/// A message waiting to be delivered to another system.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OutboxRecord {
    pub id: String,
    pub kind: String,
    pub payload: String,
    pub created_at: i64,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub last_error: Option<String>,
}

/// A private staff note.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct NoteRecord {
    pub id: String,
    pub conversation_id: String,
    pub author_id: String,
    pub author_name: Option<String>,
    pub body: String,
    pub created_at: i64,
}

/// How a conversation changes hands or ends; each comes with a system message stored in the
/// same transaction, so the history tells what happened.
#[derive(Debug, Clone)]
pub enum Handover {
    /// Back to the queue (ahead of new arrivals at the same risk).
    Requeue,
    /// To another worker.
    Transfer { to: String },
    /// Ended with an outcome; `tags`, when given, replace the chat's tags (when not, they stay).
    Close { outcome: String, tags: Option<Vec<String>>, reason: ClosedReason },
}

/// Where a new support chat comes from, and how many of that source's chats may wait at once.
#[derive(Debug, Clone)]
pub struct ChatSource {
    /// The keyed hash of the client's address (`Limits::source_key`), never the address.
    pub key: String,
    pub max_waiting: u32,
}

/// What opening a support chat did.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum OpenOutcome {
    /// A new chat, queued.
    Opened(ConversationRecord),
    /// The owner's open chat, returned as it is.
    Existing(ConversationRecord),
    /// Its source is blocked (marked as abuse) until then; nothing stored.
    SourceBlocked { until: i64 },
    /// Its source already has as many chats waiting as it may; nothing stored.
    SourceFull,
}

/// A support chat closed as abuse.
#[derive(Debug, Clone)]
pub struct AbuseMarked {
    pub conversation: ConversationRecord,
    /// The system message that closed it.
    pub message: MessageRecord,
    /// Whether it had a source to block (chats opened before sources were kept have none).
    pub source_blocked: bool,
    /// Its escalations that were still unresolved, resolved now.
    pub escalations_resolved: Vec<String>,
}

/// What a deletion request does to a support chat with an escalation nobody has resolved: the
/// chat is kept under a hold placed automatically (`hold_reason`, no one as its author), and
/// each such escalation gets an action (`action`, with `note`) that says so.
#[derive(Debug, Clone)]
pub struct AutoHold {
    pub hold_reason: String,
    pub action: String,
    pub note: String,
}

/// What erasing an account kept.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Erasure {
    /// Conversations kept under a hold (placed by a supervisor, or just now automatically).
    pub kept: Vec<String>,
    /// Of those, the ones held automatically for an unresolved escalation.
    pub auto_held: Vec<String>,
    /// The unresolved escalations that caused the automatic holds.
    pub escalations: Vec<String>,
}

/// What lifting a safeguarding hold did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HoldReleased {
    /// No such conversation.
    NotFound,
    /// Not lifted: its young person asked for deletion, so lifting it would delete an
    /// escalation nobody has resolved yet.
    EscalationUnresolved,
    /// Lifted; when its young person had asked for deletion, the conversation was deleted
    /// then, and the account too if nothing else of theirs is held.
    Lifted { conversation_deleted: bool, account_deleted: bool },
}

/// An entry of the services directory.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ServiceRecord {
    pub id: String,
    pub name: String,
    pub category: String,
    pub description: String,
    pub area: Option<String>,
    pub phone: Option<String>,
    pub url: Option<String>,
    pub hours: Option<String>,
    pub min_age: Option<i64>,
    pub max_age: Option<i64>,
    pub retired: i64,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A canned reply.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CannedReplyRecord {
    pub id: String,
    pub title: String,
    pub body: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// An assigned support chat the young person has not answered since `silent_since` (when staff
/// last wrote); `prompted_at`: when the worker was last told of a silence in it.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SilentChat {
    pub id: String,
    pub assigned_to: String,
    pub owner_name: Option<String>,
    pub silent_since: i64,
    pub prompted_at: Option<i64>,
}

/// A device credential (its secret is kept only as a hash, never read back).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceCredentialRecord {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub last_used_at: i64,
}

/// A push subscription: a device to notify. `kind` is a `PushKind` as stored (`web_push`,
/// `fcm`, `apns`); `address` the endpoint URL or the provider's token.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PushSubscriptionRecord {
    pub id: String,
    pub user_id: String,
    /// The session that registered it: signing out of that session removes it.
    pub session_id: Option<String>,
    pub kind: String,
    pub address: String,
    /// Web Push only: the browser's public key and auth secret (base64url).
    pub p256dh: Option<String>,
    pub auth_secret: Option<String>,
    pub device_label: Option<String>,
    pub created_at: i64,
    pub last_success_at: Option<i64>,
}

/// A rota shift.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShiftRecord {
    pub id: String,
    pub user_id: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub created_by: Option<String>,
    pub created_at: i64,
}

/// A worker's load, for routing.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StaffLoad {
    pub id: String,
    pub capacity: i64,
    pub open_chats: i64,
    pub last_assigned_at: Option<i64>,
}

/// A new peer room.
#[derive(Debug, Clone)]
pub struct NewRoom {
    pub id: String,
    pub topic: String,
    pub age_band: String,
    pub moderation_mode: RoomModeration,
    pub pii_mode: PersonalInfoMode,
    pub created_by: String,
    pub now: i64,
}

/// A stored moderation queue item.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ModerationItemRecord {
    pub id: String,
    #[sqlx(try_from = "String")]
    pub kind: ModerationItemKind,
    pub conversation_id: Option<String>,
    pub message_id: Option<String>,
    pub subject_user_id: Option<String>,
    pub reporter_id: Option<String>,
    pub reason: String,
    #[sqlx(try_from = "String")]
    pub severity: Severity,
    pub evidence: Option<String>,
    #[sqlx(try_from = "String")]
    pub state: ModerationItemState,
    pub claimed_by: Option<String>,
    pub claim_expires_at: Option<i64>,
    pub decision: Option<String>,
    pub decision_reason: Option<String>,
    pub decided_by: Option<String>,
    pub decided_at: Option<i64>,
    pub appeal_state: Option<String>,
    pub appeal_reason: Option<String>,
    pub created_at: i64,
}

/// A new moderation item (a hold is created with its message by `insert_message`).
#[derive(Debug, Clone)]
pub struct NewModerationItem {
    pub id: String,
    pub kind: ModerationItemKind,
    pub conversation_id: Option<String>,
    pub message_id: Option<String>,
    pub subject_user_id: Option<String>,
    pub reporter_id: Option<String>,
    pub reason: String,
    pub severity: Severity,
    pub evidence: Option<String>,
    pub created_at: i64,
}

/// What a moderator decided; the store applies it to the item and its message atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemDecision {
    /// Deliver the held message (optionally with a new body, keeping the original).
    Approve { body: Option<String> },
    /// Never deliver the held message.
    Reject,
    /// Hide a delivered message (kept as evidence); its body becomes `placeholder`.
    Remove { placeholder: String },
    /// Undo a removal on appeal: the message is shown again with `body`.
    Restore { body: String },
    /// No action.
    Dismiss,
}

/// The result of applying a decision.
// Returned once per call and matched at once, never kept in numbers: boxing the records
// would cost an allocation each to save a copy of a few hundred bytes.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum DecideOutcome {
    Decided {
        item: ModerationItemRecord,
        message: Option<MessageRecord>,
    },
    NotFound,
    /// Already decided, or claimed by someone else (claim not expired).
    Conflict(&'static str),
    /// The decision does not fit the item (e.g. approve a report).
    Invalid(&'static str),
}

/// A moderation log entry.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ModLogRecord {
    pub id: String,
    pub at: i64,
    pub moderator_id: Option<String>,
    pub action: String,
    pub item_id: Option<String>,
    pub subject_user_id: Option<String>,
    pub reason: Option<String>,
    pub expires_at: Option<i64>,
}

/// A stored message.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRecord {
    pub id: String,
    pub conversation_id: String,
    /// `None` while held for moderation.
    pub seq: Option<i64>,
    #[sqlx(try_from = "String")]
    pub status: MessageStatus,
    pub sender_id: Option<String>,
    #[sqlx(try_from = "NullableText")]
    pub sender_role: Option<Role>,
    pub sender_name: Option<String>,
    pub client_msg_id: Option<String>,
    pub body: String,
    #[sqlx(try_from = "String")]
    pub kind: MessageKind,
    pub sent_at: i64,
    #[sqlx(try_from = "String")]
    pub severity: Severity,
    /// The moderation verdict as JSON (staff only).
    pub verdict: Option<String>,
}

/// A message to store; `seq` is assigned by the store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: String,
    pub conversation_id: String,
    pub sender_id: Option<String>,
    pub sender_role: Option<Role>,
    pub sender_name: Option<String>,
    pub client_msg_id: Option<String>,
    pub body: String,
    pub kind: MessageKind,
    pub sent_at: i64,
    pub severity: Severity,
    /// The conversation's risk with this message (at least `severity`: risk that built across
    /// the young person's messages can make it higher): the conversation's risk rises to it.
    pub conversation_risk: Severity,
    /// The moderation verdict as JSON, kept for staff.
    pub verdict: Option<String>,
    /// Set when the body was redacted before delivery: the text as sent, kept as evidence.
    pub original_body: Option<String>,
    /// Hold the message for moderation (no `seq` until approved) with this queue item.
    pub hold: Option<NewModerationItem>,
    /// Raise this escalation in the same transaction (high or critical risk).
    pub escalation: Option<NewEscalation>,
    /// Store it only if the conversation is still in this state (the sender's access was
    /// decided from a cached copy of it); otherwise [`InsertOutcome::Stale`].
    pub expect: Option<Expected>,
}

/// The parts of a support conversation that decide who may write in it (its owner never
/// changes), as the sender's access was decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expected {
    pub state: ConversationState,
    pub assigned_to: Option<String>,
}

/// What storing a message did.
#[derive(Debug, Clone)]
pub enum InsertOutcome {
    /// Stored now, with its new `seq`.
    Stored(MessageRecord),
    /// The sender already sent this `client_msg_id`: the earlier message, unchanged.
    Duplicate(MessageRecord),
    /// The conversation does not exist or is closed.
    ConversationClosed,
    /// The conversation is no longer as [`NewMessage::expect`] says: nothing stored; decide
    /// access again from a fresh read.
    Stale,
}

/// What accepting a queued conversation did.
// As `DecideOutcome`: one per call, so the records are not boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub enum AcceptOutcome {
    /// The caller won; the conversation and the system message announcing the worker.
    Accepted(ConversationRecord, MessageRecord),
    AlreadyAssigned,
    Closed,
    NotFound,
}

/// What rotating a refresh token did. `session_id` is the token's family: one sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The old token was valid and is now spent; the new one is stored in the same family.
    Rotated { user_id: String, session_id: String },
    /// The token was already spent: the family (the session) is now revoked.
    Reused { user_id: String, session_id: String },
    /// Unknown, expired or revoked.
    Invalid,
}

/// A session: one sign-in, its refresh-token family.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRecord {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub last_seen_at: Option<i64>,
    /// When it ended (signed out, revoked, the account suspended …); `None` while live.
    pub revoked_at: Option<i64>,
    pub user_agent: Option<String>,
    pub source_ip: Option<String>,
    /// How it signed in (`password`, `password+totp`, `recovery_code`, `oidc`, `anonymous`).
    pub method: Option<String>,
    pub end_reason: Option<String>,
    /// When its newest refresh token expires: after that the session is over too.
    pub expires_at: i64,
}

/// A new session, with the facts that let its person recognise it.
#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: String,
    pub user_id: String,
    pub created_at: i64,
    pub user_agent: Option<String>,
    pub source_ip: Option<String>,
    pub method: String,
}

/// A redeemed WebSocket ticket: whose, which session, and until when its socket may live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketGrant {
    pub user_id: String,
    pub session_id: String,
    pub token_expires_at: i64,
}

/// An entry of the append-only audit log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEvent {
    pub id: String,
    pub at: i64,
    pub actor_id: Option<String>,
    #[sqlx(try_from = "String")]
    pub action: AuditAction,
    #[sqlx(try_from = "String")]
    pub target_type: AuditTarget,
    pub target_id: String,
    pub details: Option<String>,
}

/// A version of a policy (the moderation rules, the monitoring notice).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PolicyVersionRecord {
    #[sqlx(try_from = "String")]
    pub kind: PolicyKind,
    pub version: i64,
    /// The moderation policy's TOML, or the notice's text.
    pub body: String,
    pub created_at: i64,
    /// The admin who put it in force; `None` for what the service did itself (an import).
    pub created_by: Option<String>,
    /// Why it was made, e.g. `restored from version 3`.
    pub note: Option<String>,
}

/// A member of staff's mark on a message's moderation verdict.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct VerdictMarkRecord {
    pub id: String,
    pub message_id: String,
    pub marked_by: String,
    pub marked_at: i64,
    #[sqlx(try_from = "String")]
    pub kind: VerdictMarkKind,
    /// A moderation category's name, or `none`.
    pub category: String,
    #[sqlx(try_from = "String")]
    pub severity: Severity,
}

/// A mark with the message it is about, for classifying again.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MarkedMessage {
    pub id: String,
    pub message_id: String,
    pub marked_at: i64,
    #[sqlx(try_from = "String")]
    pub kind: VerdictMarkKind,
    pub category: String,
    #[sqlx(try_from = "String")]
    pub severity: Severity,
    pub body: String,
    #[sqlx(try_from = "String")]
    pub conversation_kind: ConversationKind,
}

/// Filters of the staff conversation list.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    pub state: Option<ConversationState>,
    pub assigned_to: Option<String>,
    /// Support chats only (rooms are listed apart).
    pub support_only: bool,
    /// A duty worker's view: only queued chats and the ones assigned to this worker.
    pub visible_to_worker: Option<String>,
    /// A page: at most `limit` (default [`MAX_PAGE`]) after skipping `offset`.
    pub limit: Option<u32>,
    pub offset: u32,
}

/// The most rows one list request returns.
pub const MAX_PAGE: u32 = 500;

/// The first step of a two-step sign-in, as stored (`sign_in_challenges`).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChallengeRecord {
    pub user_id: String,
    /// `totp` (a code from the app set up before) or `enrol` (setting one up now).
    pub purpose: String,
    /// The secret offered for enrolment (base32), until a code from it is given.
    pub pending_secret: Option<String>,
    pub attempts: i64,
    pub expires_at: i64,
}

/// A staff member's passkey (WebAuthn). `passkey` is the WebAuthn library's record of it (JSON:
/// the credential id and public key, no secret).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PasskeyRecord {
    pub id: String,
    pub user_id: String,
    /// base64url, as the authenticator names it.
    pub credential_id: String,
    pub name: String,
    pub passkey: String,
    /// The authenticator's signature counter at its last use (0: it keeps none).
    pub sign_count: i64,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}
