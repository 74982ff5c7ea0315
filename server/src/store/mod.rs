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
    #[error("migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is not valid: {0}")]
    Corrupt(String),
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
    pub on_duty: bool,
    pub capacity: i64,
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
}

/// A stored message.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MessageRecord {
    pub id: String,
    pub conversation_id: String,
    pub seq: i64,
    pub sender_id: Option<String>,
    pub sender_role: Option<String>,
    pub sender_name: Option<String>,
    pub client_msg_id: Option<String>,
    pub body: String,
    pub kind: String,
    pub sent_at: i64,
    pub severity: String,
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
}

/// What accepting a queued conversation did.
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
#[derive(Debug, Clone)]
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
}

/// Everything the server keeps. Implementations must make each method atomic.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// `postgres` or `sqlite`.
    fn backend(&self) -> &'static str;
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<()>;
    /// A cheap round trip, for `/readyz`.
    async fn ping(&self) -> Result<()>;

    async fn create_user(&self, user: NewUser) -> Result<UserRecord>;
    async fn user(&self, id: &str) -> Result<Option<UserRecord>>;
    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>>;
    async fn set_on_duty(&self, user_id: &str, on_duty: bool) -> Result<()>;
    /// Ids of staff who answer chats and are on duty.
    async fn on_duty_staff(&self) -> Result<Vec<String>>;

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
        now: i64,
    ) -> Result<AcceptOutcome>;

    /// Stores a message with the next `seq`, idempotent on `(sender, client_msg_id)`.
    async fn insert_message(&self, message: NewMessage) -> Result<InsertOutcome>;
    /// Messages with `seq > after_seq`, in order, at most `limit`.
    async fn messages_after(&self, conversation_id: &str, after_seq: i64, limit: u32) -> Result<Vec<MessageRecord>>;
    /// Raises the user's read marker to `seq` (never lowers it); returns the stored marker.
    async fn mark_read(&self, conversation_id: &str, user_id: &str, seq: i64, now: i64) -> Result<i64>;

    async fn append_audit(&self, event: AuditEvent) -> Result<()>;
    async fn audit_for_target(&self, target_type: &str, target_id: &str) -> Result<Vec<AuditEvent>>;
}

/// Opens the store a database URL names: `sqlite:…` or `postgres://…`.
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
