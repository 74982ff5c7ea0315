//! What the shared SQL needs to know of each database: the [`Backend`] trait, implemented by
//! the SQLite and PostgreSQL stores (below the aggregates' SQL, which uses it, and below
//! `sql.rs`, which instantiates that SQL for each store).

/// Ties a store type to its sqlx database.
pub(crate) trait Backend {
    type Db: sqlx::Database;
    /// Appended to a `SELECT` whose rows the transaction goes on to update: PostgreSQL locks
    /// them now, in the statement's order; SQLite's one writer needs nothing.
    const LOCK_ROWS: &'static str;
    /// Begins a transaction that reads and then writes what it read: SQLite takes the write
    /// lock at once (a deferred one could not upgrade once another connection wrote).
    const BEGIN_WRITE: &'static str;
    /// The `n`th (from 1) placeholder of a statement whose parameters are bound in the order
    /// they appear.
    fn param(n: usize) -> String;
    /// `WITH … AS (UPDATE …) INSERT …` in one statement (PostgreSQL; SQLite has no such thing).
    const DATA_MODIFYING_CTE: bool = false;
    /// A statement taking a lock on the text `$1` until the transaction ends, so that
    /// transactions counting and adding rows about one key (a source's waiting chats) take
    /// turns: PostgreSQL's advisory lock; SQLite's one writer needs none.
    const LOCK_KEY: Option<&'static str> = None;
}
