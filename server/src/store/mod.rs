//! Storage: the only place SQL lives.
//!
//! [`Store`] is the trait the rest of the server uses: one sub-trait per aggregate, each in its
//! own file with its SQL, written once as a macro over the concrete sqlx pool type and
//! instantiated for both implementations (`sql.rs`): SQLite in WAL mode with
//! `synchronous=FULL` (the embedded default) and PostgreSQL. Migrations for each live in
//! `server/migrations/{sqlite,postgres}` and are embedded in the binary.
//!
//! - `records.rs`: every record, new row and outcome the traits take and return
//! - `database.rs` ([`Database`]): which database, migrations, a health check, job leases
//! - `users.rs` ([`Users`]): accounts and their lifecycle
//! - `sessions.rs` ([`Sessions`]): sessions (one per sign-in), refresh tokens, WebSocket tickets
//! - `credentials.rs` ([`Credentials`]): failed sign-ins (throttling), second factors, two-step
//!   sign-ins and single sign-on logins under way
//! - `desk.rs` ([`Desk`]): duty, the rota, capacity, presence
//! - `conversations.rs` ([`Conversations`]): support chats, the queue, rooms, participants, notes
//! - `messages.rs` ([`Messages`]): storing messages (group commit) and reading them;
//!   `batch_plan.rs` decides a batch, `sqlite_batch.rs` writes one on SQLite's own handle
//! - `moderation.rs` ([`Moderation`]), `escalations.rs` ([`Escalations`]), `privacy.rs`
//!   ([`Privacy`]), `audit.rs` ([`Audit`]), `directory.rs` ([`Directory`]), `surveys.rs`
//!   ([`Surveys`], with its own records), `canned.rs` ([`CannedReplies`]), `returning.rs`
//!   ([`Returning`]: device credentials and recovery phrases), `push.rs` ([`Push`]: push
//!   subscriptions and the per-chat notification window), `passkeys.rs` ([`Passkeys`]: staff
//!   passkeys and WebAuthn ceremonies under way)
//!
//! On a `dyn Store` every sub-trait's methods can be called as they are (a trait object has its
//! supertraits' methods); on a concrete store or a generic `S: Store`, bring them into scope
//! with `use crate::store::prelude::*;`. `Privacy` and `Surveys` each have an
//! `apply_retention`: name the trait in those calls.

use std::sync::Arc;

mod audit;
mod backend;
mod batch_plan;
mod canned;
mod conversations;
mod credentials;
mod database;
mod desk;
mod directory;
mod escalations;
mod messages;
mod moderation;
mod passkeys;
mod policies;
mod postgres;
mod privacy;
mod push;
mod records;
mod releases;
mod returning;
mod service_reports;
mod sessions;
mod sql;
mod sqlite;
mod sqlite_batch;
pub mod surveys;
mod users;
mod verdict_marks;

pub use audit::Audit;
pub use canned::CannedReplies;
pub use conversations::Conversations;
pub use credentials::Credentials;
pub use database::Database;
pub use desk::Desk;
pub use directory::Directory;
pub use escalations::Escalations;
pub use messages::Messages;
pub use moderation::Moderation;
pub use passkeys::{CeremonyKind, Passkeys};
pub use policies::Policies;
pub use postgres::PostgresStore;
pub use privacy::Privacy;
pub use push::Push;
pub use records::*;
pub use returning::Returning;
pub use service_reports::{ChatTimes, EscalationTimes, FlaggedMessage, ItemTimes, ServiceReports};
pub use sessions::Sessions;
pub use sqlite::{SqliteStore, WAL_AUTOCHECKPOINT_PAGES};
pub use surveys::Surveys;
pub use users::Users;
pub use verdict_marks::VerdictMarks;

/// The sub-traits, for calling their methods on a concrete store or a generic `S: Store`
/// (`use crate::store::prelude::*;`) without their names in the importing module.
pub mod prelude {
    pub use super::{
        Audit as _, CannedReplies as _, Conversations as _, Credentials as _, Database as _, Desk as _, Directory as _,
        Escalations as _, Messages as _, Moderation as _, Passkeys as _, Policies as _, Privacy as _, Push as _,
        Returning as _, ServiceReports as _, Sessions as _, Surveys as _, Users as _, VerdictMarks as _,
    };
}

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

/// Everything the server keeps. Implementations must make each method atomic.
pub trait Store:
    Database
    + Users
    + Sessions
    + Credentials
    + Desk
    + Directory
    + Conversations
    + Messages
    + Moderation
    + Escalations
    + Privacy
    + Audit
    + Surveys
    + Policies
    + VerdictMarks
    + CannedReplies
    + Returning
    + Push
    + Passkeys
    + ServiceReports
{
}

/// Whatever has every part is a store (`Arc<SqliteStore>` becomes an `Arc<dyn Store>`).
impl<T> Store for T where
    T: Database
        + Users
        + Sessions
        + Credentials
        + Desk
        + Directory
        + Conversations
        + Messages
        + Moderation
        + Escalations
        + Privacy
        + Audit
        + Surveys
        + Policies
        + VerdictMarks
        + CannedReplies
        + Returning
        + Push
        + Passkeys
        + ServiceReports
{
}

/// How long the server's PostgreSQL sessions wait on others: a statement waits at most
/// `lock_timeout_ms` for a lock, and a session idle inside a transaction for longer than
/// `idle_in_transaction_timeout_ms` (its node paused or frozen mid-write) is ended by the
/// server, which releases its locks. Without them one frozen node stalls every other node's
/// writes to the rows it locked, for as long as it is frozen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionLimits {
    pub lock_timeout_ms: u64,
    pub idle_in_transaction_timeout_ms: u64,
}

impl Default for SessionLimits {
    fn default() -> Self {
        Self { lock_timeout_ms: 10_000, idle_in_transaction_timeout_ms: 5_000 }
    }
}

/// Opens the store a database URL names: `sqlite:…` or `postgres://…`, with the default
/// [`SessionLimits`].
pub async fn connect(url: &str) -> Result<Arc<dyn Store>> {
    connect_with(url, SessionLimits::default()).await
}

/// As [`connect`], with these limits on PostgreSQL sessions (SQLite has no sessions to bound).
pub async fn connect_with(url: &str, limits: SessionLimits) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(PostgresStore::connect(url, limits).await?))
    } else {
        Ok(Arc::new(SqliteStore::connect(url).await?))
    }
}

fn is_unique_violation(e: &sqlx::Error) -> bool {
    matches!(e, sqlx::Error::Database(d) if d.is_unique_violation())
}
