//! PostgreSQL, for production and several nodes. `synchronous_commit` stays on (the server
//! default), so a commit has reached the WAL on disk before an `ack` is sent.

use std::str::FromStr as _;
use std::time::Duration;

use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::PgPool;

use super::backend::Backend;
use super::sql::impl_sql_store;
use super::*;

pub struct PostgresStore {
    pool: PgPool,
    /// Connections the message writers keep between batches. sqlx pings a connection when it
    /// is taken from the pool and again when it goes back: two round trips per batch, one of
    /// them before the batch can start. After a failed batch they all go back to the pool,
    /// which checks them.
    batch_conns: std::sync::Mutex<Vec<PoolConnection<sqlx::Postgres>>>,
}

/// At most this many are kept (one per writer, and a few for single messages sent meanwhile).
const KEPT_BATCH_CONNECTIONS: usize = 4;

impl Backend for PostgresStore {
    type Db = sqlx::Postgres;
    const LOCK_ROWS: &'static str = " FOR UPDATE";
    const BEGIN_WRITE: &'static str = "BEGIN";
    const DATA_MODIFYING_CTE: bool = true;
    const LOCK_KEY: Option<&'static str> = Some("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))");

    fn param(n: usize) -> String {
        format!("${n}")
    }
}

impl PostgresStore {
    /// Every session of the pool gets `limits` ([`SessionLimits`]) and names itself
    /// `talkzone <pid>` in `pg_stat_activity`, so an operator (or a test) can tell the nodes'
    /// sessions apart.
    pub async fn connect(url: &str, limits: SessionLimits) -> Result<Self> {
        let options = PgConnectOptions::from_str(url)?
            .options([
                ("lock_timeout", format!("{}ms", limits.lock_timeout_ms)),
                ("idle_in_transaction_session_timeout", format!("{}ms", limits.idle_in_transaction_timeout_ms)),
            ])
            .application_name(&format!("talkzone {}", std::process::id()));
        let pool = PgPoolOptions::new()
            .max_connections(16)
            .acquire_timeout(Duration::from_secs(10))
            .connect_with(options)
            .await?;
        Ok(Self { pool, batch_conns: std::sync::Mutex::new(Vec::new()) })
    }

    fn reader(&self) -> &PgPool {
        &self.pool
    }

    fn writer(&self) -> &PgPool {
        &self.pool
    }

    async fn write_messages(&self, batch: &[NewMessage]) -> Result<Vec<InsertOutcome>> {
        let kept = self.batch_conns.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut conn = match kept {
            Some(conn) => conn,
            None => self.writer().acquire().await?,
        };
        let result = write_batch_on(&mut conn, batch).await;
        let mut kept = self.batch_conns.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(_) if kept.len() < KEPT_BATCH_CONNECTIONS => kept.push(conn),
            Ok(_) => {}
            // The database may have gone away (a restart): every kept connection goes back
            // to the pool to be checked, so that the next batches do not fail on them too.
            Err(_) => kept.clear(),
        }
        result
    }

    /// Group-commit writers: messages of different conversations lock different rows, so
    /// writers do not wait on each other; few writers keep the pool (16) mostly free for reads
    /// and make batches larger. Measured on 2 cores at 1,000 messages/s (docs/benchmarks.md):
    /// two writers p99 9.8–13.5 ms (four runs); one, 15.4 and 16.1 ms; four, 13.1–17.1 ms
    /// (four runs). At 3,000 messages/s two gave p99 56 ms where four gave 92 to 100 ms, and
    /// eight 374 ms. Not measured on more cores.
    fn concurrent_writers(&self) -> usize {
        2
    }

    /// Batches wait for PostgreSQL asynchronously.
    fn batches_block(&self) -> bool {
        false
    }

    fn backend_name(&self) -> &'static str {
        "postgres"
    }

    async fn run_migrations(&self) -> Result<()> {
        sqlx::migrate!("./migrations/postgres").run(&self.pool).await?;
        Ok(())
    }
}

impl_sql_store!(PostgresStore);
