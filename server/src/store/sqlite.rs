//! SQLite, the embedded default: one file in WAL mode with `synchronous=FULL`, so a commit is
//! on disk before it returns. Writes go through a pool of one connection (SQLite has one
//! writer anyway; queuing in-process avoids `SQLITE_BUSY`), reads through a small pool.
//!
//! Checkpoints (copying the WAL back into the database file, with its own fsync) are done
//! mostly in the background, on a reading connection, every 100 ms. Left to SQLite alone,
//! the commit that fills the WAL to 1,000 pages copies them all while every message queued
//! behind it waits: at 1,000 messages/s that put p99 at 350 ms; with the background copies
//! it was 15 ms. That commit still runs a (now small) checkpoint, which is what lets the
//! next write start the WAL again from its beginning; a checkpoint on another connection
//! cannot do that while writes keep coming, and the WAL would grow without end.

use std::str::FromStr;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::sql::{
    impl_sql_store, Backend, CONVERSATION_SELECT, ESCALATION_COLUMNS, ITEM_COLUMNS, MESSAGE_COLUMNS, QUEUE_ORDER, USER_COLUMNS,
};
use super::*;

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// Stops the background checkpoints when the store goes.
    _checkpoints: tokio_util::sync::DropGuard,
}

/// How often the background checkpoint runs. A passive checkpoint never blocks the writer.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(100);

impl Backend for SqliteStore {
    type Db = sqlx::Sqlite;
    const LOCK_ROWS: &'static str = "";
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";

    fn param(_: usize) -> String {
        "?".into()
    }
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10));
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        let stop = tokio_util::sync::CancellationToken::new();
        tokio::spawn(checkpoints(reader.clone(), stop.clone()));
        Ok(Self { writer, reader, _checkpoints: stop.drop_guard() })
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// Group-commit writers: SQLite has one writer: more would only queue.
    fn concurrent_writers(&self) -> usize {
        1
    }

    fn backend_name(&self) -> &'static str {
        "sqlite"
    }

    async fn run_migrations(&self) -> Result<()> {
        sqlx::migrate!("./migrations/sqlite").run(&self.writer).await?;
        Ok(())
    }
}

/// Copies committed WAL frames into the database file without blocking the writer, so that
/// the writer's own checkpoint, when the WAL reaches 1,000 pages, has little left to copy.
async fn checkpoints(pool: SqlitePool, stop: tokio_util::sync::CancellationToken) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        match sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&pool).await {
            // (busy, frames in the WAL, frames copied): a WAL this large means readers keep
            // the checkpoint from finishing.
            Ok((_, log, copied)) if log > 100_000 => {
                tracing::warn!(wal_frames = log, copied, "the SQLite WAL is not being checkpointed fully");
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "SQLite checkpoint failed"),
        }
    }
}

impl_sql_store!(SqliteStore);
crate::store::surveys::impl_survey_store!(SqliteStore);
