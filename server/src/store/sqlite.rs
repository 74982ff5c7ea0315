//! SQLite, the embedded default: one file in WAL mode with `synchronous=FULL`, so a commit is
//! on disk before it returns. Writes go through a pool of one connection (SQLite has one
//! writer anyway; queuing in-process avoids `SQLITE_BUSY`), reads through a small pool.

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
}

impl Backend for SqliteStore {
    type Db = sqlx::Sqlite;
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
        Ok(Self { writer, reader })
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

impl_sql_store!(SqliteStore);
crate::store::surveys::impl_survey_store!(SqliteStore);
