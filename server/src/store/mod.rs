//! Storage: the only place SQL lives.
//!
//! [`Store`] is the trait the rest of the server uses. Two implementations share one body of
//! SQL (`sql.rs`, written once as a macro over the concrete sqlx pool type): SQLite in WAL
//! mode with `synchronous=FULL` (the embedded default) and PostgreSQL. Migrations for each
//! live in `server/migrations/{sqlite,postgres}` and are embedded in the binary.

use std::sync::Arc;

use async_trait::async_trait;

mod postgres;
mod sql;
mod sqlite;
mod sqlite_batch;
pub use sqlite::WAL_AUTOCHECKPOINT_PAGES;
pub mod surveys;

pub use sql::severity_rank;

pub use postgres::PostgresStore;
pub use sqlite::SqliteStore;

/// Storage failures. Unique-key races are reported as [`StoreError::Conflict`]; every other
/// database failure is [`StoreError::Database`] and becomes a 503 without details.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("conflict: {0}")]
    Conflict(&'static str),
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    /// From SQLite's direct message writer (`sqlite_batch.rs`).
    #[error("database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
    /// The write could not be attempted (the writer stopped, or the message it repeated
    /// failed): as a database failure to the client, a 503 to retry.
    #[error("the database is unavailable")]
    Unavailable,
}

impl StoreError {
    /// The database failed or could not be reached: worth retrying soon (a 503).
    pub fn is_unavailable(&self) -> bool {
        matches!(self, StoreError::Database(_) | StoreError::Sqlite(_) | StoreError::Unavailable)
    }

    /// A unique constraint refused the write (a race with another writer).
    pub fn is_unique_violation(&self) -> bool {
        match self {
            StoreError::Database(e) => is_unique_violation(e),
            StoreError::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                    || e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            }
            _ => false,
        }
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// A stored account.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRecord {
    pub id: String,
    pub role: String,
    pub username: Option<String>,
    pub password_hash: Option<String>,
    pub display_name: String,
    pub created_at: i64,
    pub suspended_at: Option<i64>,
    pub muted_until: Option<i64>,
    pub on_duty: bool,
    pub capacity: i64,
    pub tokens_valid_after: Option<i64>,
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub id: String,
    pub role: String,
    pub username: Option<String>,
    pub password_hash: Option<String>,
    pub display_name: String,
    pub created_at: i64,
}

/// A stored conversation with the names of its young person and worker.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ConversationRecord {
    pub id: String,
    pub kind: String,
    pub state: String,
    pub topic: Option<String>,
    pub owner_id: Option<String>,
    pub owner_name: Option<String>,
    pub assigned_to: Option<String>,
    pub assigned_name: Option<String>,
    pub assigned_role: Option<String>,
    pub created_at: i64,
    pub assigned_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub last_seq: i64,
    pub risk: String,
    pub age_band: Option<String>,
    pub moderation_mode: Option<String>,
    pub pii_mode: Option<String>,
    pub risk_rank: i64,
    pub requeued_at: Option<i64>,
    pub first_reply_at: Option<i64>,
    pub outcome: Option<String>,
    pub tags: Option<String>,
    pub hold_reason: Option<String>,
}

/// A stored escalation.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EscalationRecord {
    pub id: String,
    pub conversation_id: String,
    pub message_id: Option<String>,
    pub severity: String,
    pub reason: String,
    pub source: String,
    pub raised_by: Option<String>,
    pub state: String,
    pub created_at: i64,
    pub deadline_at: i64,
    pub reescalated_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<i64>,
    pub resolved_by: Option<String>,
    pub resolved_at: Option<i64>,
    pub outcome: Option<String>,
}

/// A new escalation (with a message, it is stored in the message's transaction).
#[derive(Debug, Clone)]
pub struct NewEscalation {
    pub id: String,
    pub conversation_id: String,
    pub message_id: Option<String>,
    pub severity: String,
    pub reason: String,
    /// `worker` or `moderation`.
    pub source: String,
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
    /// Ended with an outcome and tags.
    Close { outcome: String, tags: Vec<String> },
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
    pub moderation_mode: String,
    pub pii_mode: String,
    pub created_by: String,
    pub now: i64,
}

/// A stored moderation queue item.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ModerationItemRecord {
    pub id: String,
    pub kind: String,
    pub conversation_id: Option<String>,
    pub message_id: Option<String>,
    pub subject_user_id: Option<String>,
    pub reporter_id: Option<String>,
    pub reason: String,
    pub severity: String,
    pub evidence: Option<String>,
    pub state: String,
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
    pub kind: String,
    pub conversation_id: Option<String>,
    pub message_id: Option<String>,
    pub subject_user_id: Option<String>,
    pub reporter_id: Option<String>,
    pub reason: String,
    pub severity: String,
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
    pub status: String,
    pub sender_id: Option<String>,
    pub sender_role: Option<String>,
    pub sender_name: Option<String>,
    pub client_msg_id: Option<String>,
    pub body: String,
    pub kind: String,
    pub sent_at: i64,
    pub severity: String,
    /// The moderation verdict as JSON (staff only).
    pub verdict: Option<String>,
}

/// A message to store; `seq` is assigned by the store.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: String,
    pub conversation_id: String,
    pub sender_id: Option<String>,
    pub sender_role: Option<String>,
    pub sender_name: Option<String>,
    pub client_msg_id: Option<String>,
    pub body: String,
    pub kind: String,
    pub sent_at: i64,
    pub severity: String,
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
    pub state: String,
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

/// What rotating a refresh token did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The old token was valid and is now spent; the new one is stored in the same family.
    Rotated { user_id: String },
    /// The token was already spent: the family is now revoked.
    Reused { user_id: String },
    /// Unknown, expired or revoked.
    Invalid,
}

/// An entry of the append-only audit log.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuditEvent {
    pub id: String,
    pub at: i64,
    pub actor_id: Option<String>,
    pub action: String,
    pub target_type: String,
    pub target_id: String,
    pub details: Option<String>,
}

/// Filters of the staff conversation list.
#[derive(Debug, Clone, Default)]
pub struct ConversationFilter {
    pub state: Option<String>,
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

/// Everything the server keeps. Implementations must make each method atomic.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `postgres` or `sqlite`.
    fn backend(&self) -> &'static str;
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<()>;
    /// A cheap round trip, for `/readyz`.
    async fn ping(&self) -> Result<()>;

    /// Creates an account, with `audit` (if any) in the same transaction.
    async fn create_user(&self, user: NewUser, audit: Option<AuditEvent>) -> Result<UserRecord>;
    async fn user(&self, id: &str) -> Result<Option<UserRecord>>;
    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>>;
    /// Whether it changed. `audit` is written in the same transaction, and only on a change.
    async fn set_on_duty(&self, user_id: &str, on_duty: bool, now: i64, audit: Option<AuditEvent>) -> Result<bool>;
    /// Ids of staff who answer chats and are on duty.
    async fn on_duty_staff(&self) -> Result<Vec<String>>;
    /// Staff who answer chats, are on duty and were connected at or after `seen_since`, with
    /// their open chats and capacity, for availability and auto-assignment.
    async fn available_staff(&self, seen_since: i64) -> Result<Vec<StaffLoad>>;
    /// Adds a directory entry, with `audit` in the same transaction; a name already used is
    /// a conflict.
    async fn create_service(&self, r: &ServiceRecord, audit: AuditEvent) -> Result<()>;
    /// Replaces an entry's details (not its id, creator or retirement), with `audit`; `false`
    /// (and no entry) if there is no such service.
    async fn update_service(&self, r: &ServiceRecord, audit: AuditEvent) -> Result<bool>;
    /// Retires an entry, with `audit`; `false` (and no entry) if there is no such service
    /// or it was retired already.
    async fn retire_service(&self, id: &str, audit: AuditEvent) -> Result<bool>;
    async fn service(&self, id: &str) -> Result<Option<ServiceRecord>>;
    /// Entries by name, at most `limit`: those whose name, category, description or area
    /// contains `text` (any case), in `category` if given, and retired ones only if asked.
    async fn services(
        &self,
        text: Option<&str>,
        category: Option<&str>,
        include_retired: bool,
        limit: i64,
    ) -> Result<Vec<ServiceRecord>>;
    /// Adds a rota shift, with `audit` in the same transaction.
    async fn create_shift(&self, shift: ShiftRecord, audit: AuditEvent) -> Result<()>;
    /// Removes a rota shift, with the audit entry `audit` makes of the shift's worker in the
    /// same transaction; `false` (and no entry) if there is no such shift.
    async fn delete_shift(&self, id: &str, audit: &(dyn for<'k> Fn(&'k str) -> AuditEvent + Sync)) -> Result<bool>;
    /// Shifts overlapping `[from, to)`, by start.
    async fn shifts_between(&self, from: i64, to: i64) -> Result<Vec<ShiftRecord>>;
    /// Milliseconds the user was on duty between `since` and `now`.
    async fn duty_ms_since(&self, user_id: &str, since: i64, now: i64) -> Result<i64>;
    /// The mean time from assignment to close of support chats closed since `since`.
    async fn mean_handling_ms(&self, since: i64) -> Result<Option<i64>>;
    /// Every staff account (duty workers, supervisors, moderators, YOT admins), by name.
    async fn staff_accounts(&self) -> Result<Vec<UserRecord>>;
    /// Replaces a support chat's tags, with `audit` in the same transaction; when `assigned_to`
    /// is given, only while the chat is still assigned to that worker. `false` (and no entry)
    /// if nothing changed hands.
    async fn set_tags(
        &self,
        conversation_id: &str,
        tags: &[String],
        assigned_to: Option<&str>,
        audit: AuditEvent,
    ) -> Result<bool>;
    /// Sets how many chats a worker takes at once, with `audit` in the same transaction;
    /// `false` (and no entry) if there is no such worker.
    async fn set_capacity(&self, user_id: &str, capacity: i64, audit: AuditEvent) -> Result<bool>;
    /// Records that these users are connected now.
    async fn touch_seen(&self, user_ids: &[String], now: i64) -> Result<()>;
    /// Assigned chats whose worker has been gone (not connected since `seen_before`) or off
    /// duty (since `off_duty_before`).
    async fn stranded_assignments(&self, seen_before: i64, off_duty_before: i64) -> Result<Vec<ConversationRecord>>;

    async fn create_refresh_token(
        &self,
        family_id: Option<&str>,
        user_id: &str,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<()>;
    /// Spends `old_hash` and stores `new_hash` in its family, or detects reuse.
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<RotateOutcome>;
    /// Revokes the family of a token (logout). Returns the user it belonged to.
    async fn revoke_refresh_family(&self, token_hash: &str, now: i64) -> Result<Option<String>>;

    async fn create_ws_ticket(&self, ticket_hash: &str, user_id: &str, expires_at: i64) -> Result<()>;
    /// Deletes the ticket and returns its user if it existed and had not expired.
    async fn consume_ws_ticket(&self, ticket_hash: &str, now: i64) -> Result<Option<String>>;

    /// Creates a queued support conversation, or returns the owner's open one
    /// (`false` = it already existed).
    async fn open_support_conversation(
        &self,
        id: &str,
        owner_id: &str,
        topic: Option<&str>,
        now: i64,
    ) -> Result<(ConversationRecord, bool)>;
    async fn conversation(&self, id: &str) -> Result<Option<ConversationRecord>>;
    async fn conversations_of_owner(&self, owner_id: &str) -> Result<Vec<ConversationRecord>>;
    async fn conversations_for_staff(&self, filter: &ConversationFilter) -> Result<Vec<ConversationRecord>>;
    /// 1-based position of a queued conversation (by waiting time).
    async fn queue_position(&self, conversation_id: &str) -> Result<Option<u32>>;
    /// Atomically assigns a queued conversation; exactly one of racing callers wins.
    async fn accept_conversation(
        &self,
        conversation_id: &str,
        worker_id: &str,
        announcement: NewMessage,
        audit: AuditEvent,
        now: i64,
    ) -> Result<AcceptOutcome>;

    /// Stores a message with the next `seq`, idempotent on `(sender, client_msg_id)`.
    async fn insert_message(&self, message: NewMessage) -> Result<InsertOutcome>;
    /// Stores several messages in one transaction (group commit): one durable commit for
    /// the lot, in a fixed handful of statements whatever its size. Resends (earlier in the
    /// database or in the batch) come back as duplicates. Any error fails the whole batch
    /// (nothing stored) and the caller stores them one by one instead.
    async fn insert_messages(&self, batch: &[NewMessage]) -> Result<Vec<InsertOutcome>>;
    /// The message a sender already sent with this `client_msg_id`, if any.
    async fn message_by_client_id(&self, sender_id: &str, client_msg_id: &str) -> Result<Option<MessageRecord>>;
    /// Takes (or renews) the lease on a job until `expires_at` if it is free, expired, or
    /// already `holder`'s. True when `holder` has it: with several nodes, one runs the job.
    async fn take_lease(&self, job: &str, holder: &str, now: i64, expires_at: i64) -> Result<bool>;
    /// Concurrent writers of messages that do not contend with each other: 1 for SQLite
    /// (one writer connection), several for PostgreSQL (row locks per conversation).
    fn message_writers(&self) -> usize;
    /// Whether a batch of messages blocks the thread it runs on until it is durable (SQLite:
    /// its commit waits for `fsync` in place); such writers get a thread of their own.
    fn message_batches_block(&self) -> bool;
    /// Messages with `seq > after_seq`, in order, at most `limit`.
    async fn messages_after(&self, conversation_id: &str, after_seq: i64, limit: u32) -> Result<Vec<MessageRecord>>;
    /// Raises the user's read marker to `seq` (never lowers it); returns the stored marker.
    async fn mark_read(&self, conversation_id: &str, user_id: &str, seq: i64, now: i64) -> Result<i64>;

    async fn message(&self, id: &str) -> Result<Option<MessageRecord>>;

    /// Creates a room, with `audit` in the same transaction.
    async fn create_room(&self, room: NewRoom, audit: AuditEvent) -> Result<ConversationRecord>;
    async fn rooms(&self) -> Result<Vec<ConversationRecord>>;
    /// The caller's role in a conversation if they are a current participant.
    async fn membership(&self, conversation_id: &str, user_id: &str) -> Result<Option<String>>;
    /// Makes the user a current participant, with `audit` (if any) in the same transaction:
    /// a supervisor's access to a child's chat is never without its record.
    async fn join(
        &self,
        conversation_id: &str,
        user_id: &str,
        role: &str,
        now: i64,
        audit: Option<AuditEvent>,
    ) -> Result<()>;
    async fn leave(&self, conversation_id: &str, user_id: &str, now: i64) -> Result<()>;
    async fn set_muted_until(&self, user_id: &str, until: Option<i64>) -> Result<()>;
    /// Suspends (or lifts) an account; suspending also revokes every refresh token.
    async fn set_suspended(&self, user_id: &str, at: Option<i64>) -> Result<()>;

    async fn create_moderation_item(&self, item: NewModerationItem) -> Result<ModerationItemRecord>;
    async fn moderation_item(&self, id: &str) -> Result<Option<ModerationItemRecord>>;
    /// Open items and requested appeals, most severe first, then oldest.
    async fn moderation_queue(&self) -> Result<Vec<ModerationItemRecord>>;
    /// Claims an item unless someone else holds an unexpired claim. `false` = refused.
    async fn claim_item(&self, id: &str, moderator_id: &str, now: i64, expires_at: i64) -> Result<bool>;
    /// Decides an open item (or a requested appeal when `appeal` is set), applying the decision
    /// to its message in the same transaction, with a log entry.
    async fn decide_item(
        &self,
        id: &str,
        moderator_id: &str,
        decision: ItemDecision,
        reason: &str,
        appeal: bool,
        now: i64,
    ) -> Result<DecideOutcome>;
    /// Records an appeal on a decided item, once. `false` when not allowed (not decided, or
    /// already appealed).
    async fn request_appeal(&self, id: &str, reason: &str, now: i64) -> Result<bool>;
    async fn append_modlog(&self, entry: ModLogRecord) -> Result<()>;
    async fn modlog(&self, limit: u32) -> Result<Vec<ModLogRecord>>;

    async fn create_escalation(&self, e: NewEscalation) -> Result<EscalationRecord>;
    async fn escalation(&self, id: &str) -> Result<Option<EscalationRecord>>;
    /// Escalations, newest first, optionally only those in `state` or of one conversation;
    /// `limit` rows (all of them if `None`) after skipping `offset`.
    async fn escalations(
        &self,
        state: Option<&str>,
        conversation_id: Option<&str>,
        limit: Option<u32>,
        offset: u32,
    ) -> Result<Vec<EscalationRecord>>;
    /// Open → acknowledged by `supervisor_id`; `None` if it was not open.
    /// Writes `audit` in the same transaction, if it was open.
    async fn acknowledge_escalation(
        &self,
        id: &str,
        supervisor_id: &str,
        now: i64,
        audit: AuditEvent,
    ) -> Result<Option<EscalationRecord>>;
    /// The action and its `audit` entry, in one transaction.
    async fn add_escalation_action(&self, action: EscalationActionRecord, audit: AuditEvent) -> Result<()>;
    /// The actions recorded on these escalations, each escalation's in the order they were
    /// taken (one query per 128 escalations, not one per escalation).
    async fn escalation_actions(&self, ids: &[&str]) -> Result<Vec<EscalationActionRecord>>;
    /// Open or acknowledged → resolved, with `audit` in the same transaction; `None` if
    /// already resolved.
    async fn resolve_escalation(
        &self,
        id: &str,
        supervisor_id: &str,
        outcome: &str,
        now: i64,
        audit: AuditEvent,
    ) -> Result<Option<EscalationRecord>>;
    /// Open escalations past their deadline that have not re-escalated yet.
    async fn due_escalations(&self, now: i64) -> Result<Vec<EscalationRecord>>;
    /// Marks the re-escalation, queues the on-call alert and writes `audit` in one
    /// transaction. `false` if another node (or an acknowledgement) got there first: it fires
    /// exactly once.
    async fn fire_reescalation(&self, id: &str, now: i64, alert_payload: &str, audit: AuditEvent) -> Result<bool>;
    /// Claims up to `limit` due outbox rows until `lock_until` (one node delivers each).
    async fn claim_outbox(&self, now: i64, lock_until: i64, limit: u32) -> Result<Vec<OutboxRecord>>;
    async fn outbox_delivered(&self, id: &str, now: i64) -> Result<()>;
    async fn outbox_failed(&self, id: &str, error: &str, next_attempt_at: i64) -> Result<()>;

    async fn add_note(&self, note: NoteRecord) -> Result<()>;
    async fn notes(&self, conversation_id: &str) -> Result<Vec<NoteRecord>>;
    /// Requeues, transfers or closes an assigned (or, for close, queued) conversation, with its
    /// system message and its audit entry, in one transaction. `None` if its state did not
    /// allow it (nothing stored).
    async fn hand_over(
        &self,
        conversation_id: &str,
        from_worker: Option<&str>,
        handover: Handover,
        announcement: NewMessage,
        audit: AuditEvent,
        now: i64,
    ) -> Result<Option<(ConversationRecord, MessageRecord)>>;
    /// Records the assigned worker's first reply (ends the assignment timeout).
    async fn mark_first_reply(&self, conversation_id: &str, worker_id: &str, now: i64) -> Result<()>;
    /// Assigned conversations whose worker has not replied since `assigned_before`.
    async fn unanswered_assignments(&self, assigned_before: i64) -> Result<Vec<ConversationRecord>>;

    /// Ends every session of a user: refresh tokens revoked, access tokens issued before `now`
    /// refused; optionally with a new password hash, and `audit` in the same transaction.
    async fn end_sessions(
        &self,
        user_id: &str,
        new_password_hash: Option<&str>,
        now: i64,
        audit: Option<AuditEvent>,
    ) -> Result<()>;
    /// Places (`Some(reason)`) or lifts (`None`) a safeguarding hold, with `audit` in the same
    /// transaction; `false` (and no entry) if there is no such conversation.
    async fn set_hold(
        &self,
        conversation_id: &str,
        hold: Option<(&str, &str)>,
        now: i64,
        audit: AuditEvent,
    ) -> Result<bool>;
    /// Everything about one user that belongs in their own export.
    async fn messages_sent_by(&self, user_id: &str) -> Result<Vec<MessageRecord>>;
    /// Erases a user: support chats not under a hold are deleted with their messages; their
    /// messages elsewhere are blanked (so others' history keeps its `seq`); the account goes.
    /// Returns the ids of conversations kept under a hold. The audit entry `audit` makes of
    /// those ids is written in the same transaction.
    // `for<'k>` written out: async_trait would give an elided lifetime here one fixed name.
    async fn erase_user(
        &self,
        user_id: &str,
        now: i64,
        audit: &(dyn for<'k> Fn(&'k [String]) -> AuditEvent + Sync),
    ) -> Result<Vec<String>>;
    /// Deletes closed support chats (and their messages) closed before `closed_before` and
    /// not under a hold, and audit entries older than `audit_before`; returns how many chats.
    async fn apply_retention(&self, closed_before: i64, audit_before: i64) -> Result<u64>;
    async fn audit_since(&self, since: i64, limit: u32) -> Result<Vec<AuditEvent>>;

    async fn append_audit(&self, event: AuditEvent) -> Result<()>;
    /// Appends several audit entries in one transaction.
    async fn append_audits(&self, events: &[AuditEvent]) -> Result<()>;
    async fn audit_for_target(&self, target_type: &str, target_id: &str) -> Result<Vec<AuditEvent>>;

    /// Records that a user acknowledged a version of the monitoring notice; the first time
    /// counts (acknowledging again keeps it), and only the first writes `audit`, in the same
    /// transaction. Returns when it was first acknowledged.
    async fn acknowledge_notice(&self, user_id: &str, version: i64, now: i64, audit: AuditEvent) -> Result<i64>;
    /// When the user acknowledged this version of the monitoring notice, if they have.
    async fn notice_acknowledged_at(&self, user_id: &str, version: i64) -> Result<Option<i64>>;
    /// Every version of the monitoring notice the user acknowledged, and when (oldest first).
    async fn notice_acknowledgements(&self, user_id: &str) -> Result<Vec<(i64, i64)>>;
}

/// Opens the store a database URL names: `sqlite:…` or `postgres://…`.
/// Opens the database once and returns it as both the main store and the survey store
/// (`surveys::SurveyStore`), sharing one pool.
pub async fn connect_with_surveys(url: &str) -> Result<(Arc<dyn Store>, Arc<dyn surveys::SurveyStore>)> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let s = Arc::new(PostgresStore::connect(url).await?);
        Ok((s.clone(), s))
    } else {
        let s = Arc::new(SqliteStore::connect(url).await?);
        Ok((s.clone(), s))
    }
}

pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url).await?))
    } else {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
