//! SQLite, the embedded default: one file in WAL mode with `synchronous=FULL`, so a commit is
//! on disk before it returns. Writes go through a pool of one connection (SQLite has one
//! writer anyway; queuing in-process avoids `SQLITE_BUSY`), reads through a small pool.
//!
//! Message batches run on the writer connection's own handle in one go (`sqlite_batch.rs`).
//!
//! Checkpoints (copying the WAL back into the database file, with its own fsync) are done
//! mostly in the background, on a reading connection, every 5 ms while messages are being
//! written. Left to SQLite alone, the commit that fills the WAL copies it all while every
//! message queued behind it waits: at 1,000 messages/s that put p99 at 350 ms. The commit
//! that fills the WAL to [`WAL_AUTOCHECKPOINT_PAGES`] still runs a (now small) checkpoint,
//! which is what lets the next write start the WAL again from its beginning; a checkpoint on
//! another connection cannot do that while writes keep coming, and the WAL would grow
//! without end.

use std::str::FromStr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;

use super::backend::Backend;
use super::sql::impl_sql_store;
use super::*;

pub struct SqliteStore {
    writer: SqlitePool,
    reader: SqlitePool,
    /// The message writer's rusqlite view of the writer connection, kept between batches so
    /// that its prepared statements are too (preparing them again for each batch was about a
    /// third of a small batch's statement time). Used only while sqlx lends the handle out.
    batch_db: std::sync::Mutex<Option<BatchDb>>,
    /// Message batches committed: the background checkpoint runs sooner after them.
    committed: Arc<AtomicU64>,
    /// Stops the background checkpoints when the store goes.
    _checkpoints: tokio_util::sync::DropGuard,
}

/// The writer's own checkpoint runs when the WAL reaches this many pages (40 MB at 4 KiB).
/// Rare on purpose: it runs inside a commit, fsyncs the database file and takes about 10 ms,
/// which every message queued behind that commit waits for; at SQLite's default of 1,000
/// pages it came three times a second at 1,000 messages/s.
pub const WAL_AUTOCHECKPOINT_PAGES: u32 = 10_000;

/// The background checkpoint runs this often while messages are being committed, and at
/// least every [`CHECKPOINT_AT_LEAST`] for the other writes. A passive checkpoint never
/// blocks the writer.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(5);
const CHECKPOINT_AT_LEAST: Duration = Duration::from_millis(100);

/// rusqlite on the writer connection's raw handle. Its cached statements must be finalized
/// before sqlx closes that handle (sqlx panics on a close with statements open): the writer
/// pool never retires its connection on its own, a connection closed after a failed rollback
/// drops this first, and so does dropping the store. (Should sqlx's own thread give the
/// connection up, after a rollback of its own failed, its close fails and the handle is
/// leaked, not freed; the next batch sees a different handle and starts afresh.)
struct BatchDb {
    raw: usize,
    db: rusqlite::Connection,
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // No batch is running (they borrow the store); the pool closes its connection after.
        let cached = match self.batch_db.get_mut() {
            Ok(cached) => cached.take(),
            Err(poisoned) => poisoned.into_inner().take(),
        };
        drop(cached);
    }
}

impl Backend for SqliteStore {
    type Db = sqlx::Sqlite;
    const LOCK_ROWS: &'static str = "";
    const BEGIN_WRITE: &'static str = "BEGIN IMMEDIATE";

    fn param(_: usize) -> String {
        "?".into()
    }
}

/// The database file, and its `-wal` and `-shm` files, readable and writable by this user
/// only: they hold children's messages. The file is created `0600` before SQLite opens it, and
/// SQLite gives the `-wal` and `-shm` files it creates the database file's mode; files made
/// before this rule (by an older version, `0644`) are tightened here at every start.
fn owner_only(path: &std::path::Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let name = path.as_os_str();
        if name.is_empty() || name == ":memory:" {
            return Ok(());
        }
        match std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e),
        }
        for suffix in ["", "-wal", "-shm"] {
            let mut file = name.to_owned();
            file.push(suffix);
            let file = std::path::PathBuf::from(file);
            match std::fs::metadata(&file) {
                Ok(m) if m.permissions().mode() & 0o077 != 0 => {
                    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600))?
                }
                _ => {}
            }
        }
    }
    #[cfg(not(unix))]
    let _ = path;
    Ok(())
}

impl SqliteStore {
    pub async fn connect(url: &str) -> Result<Self> {
        let options = SqliteConnectOptions::from_str(url)?;
        owner_only(options.get_filename()).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string());
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            // Kept for the life of the store: the message writer holds statements on it.
            .idle_timeout(None)
            .max_lifetime(None)
            // A ping before each use is a round trip to the connection's thread that tells
            // nothing about a file this process holds open; every message batch would pay it.
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await?;
        let reader = SqlitePoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await?;
        let stop = tokio_util::sync::CancellationToken::new();
        let committed = Arc::new(AtomicU64::new(0));
        tokio::spawn(checkpoints(reader.clone(), committed.clone(), stop.clone()));
        Ok(Self { writer, reader, batch_db: std::sync::Mutex::new(None), committed, _checkpoints: stop.drop_guard() })
    }

    fn reader(&self) -> &SqlitePool {
        &self.reader
    }

    fn writer(&self) -> &SqlitePool {
        &self.writer
    }

    /// A batch of messages, on the writer connection's raw handle in one go (see
    /// `sqlite_batch.rs`), or through sqlx when it has more than messages to write.
    #[allow(unsafe_code)]
    async fn write_messages(&self, batch: &[NewMessage]) -> Result<Vec<InsertOutcome>> {
        if !super::sqlite_batch::only_messages(batch) {
            return write_batch_in_tx(&self.writer, batch).await;
        }
        let t0 = std::time::Instant::now();
        let mut conn = self.writer.acquire().await?;
        let t1 = t0.elapsed();
        let mut handle = conn.lock_handle().await?;
        tracing::debug!(
            acquire_us = t1.as_micros() as u64,
            lock_us = (t0.elapsed() - t1).as_micros() as u64,
            "sqlite handle"
        );
        let raw = handle.as_raw_handle().as_ptr();
        // Only this method takes the lock, and only while it holds the handle.
        let mut cached = self.batch_db.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let (result, left_open) = on_this_thread(|| {
            if cached.as_ref().is_some_and(|c| c.raw != raw as usize) {
                // Cannot happen while the pool keeps its one connection; if it did, the old
                // handle is gone and finalizing its statements would touch freed memory.
                tracing::error!("the SQLite writer connection changed under the message writer");
                std::mem::forget(cached.take());
            }
            if cached.is_none() {
                // SAFETY: sqlx's connection thread makes no call on this handle while
                // `handle` is held, and this view is used only then; rusqlite never closes a
                // handle it does not own, and its statements are finalized before sqlx closes
                // the handle (see `BatchDb`).
                match unsafe { rusqlite::Connection::from_handle(raw) } {
                    Ok(db) => *cached = Some(BatchDb { raw: raw as usize, db }),
                    Err(e) => return (Err(e), false),
                }
            }
            let db = &cached.as_ref().expect("set above").db;
            let result = super::sqlite_batch::write_batch(db, batch);
            (result, !db.is_autocommit())
        });
        if left_open {
            // Even the rollback failed: the connection will be closed (below), so its
            // statements go now, while the handle is still lent out.
            *cached = None;
        }
        drop(cached);
        drop(handle);
        self.committed.fetch_add(1, Ordering::Relaxed);
        if left_open {
            // A connection inside a transaction must not be reused.
            conn.close_on_drop();
        }
        Ok(result?)
    }

    /// Group-commit writers: SQLite has one writer: more would only queue.
    fn concurrent_writers(&self) -> usize {
        1
    }

    /// A message batch runs on the calling thread, its commit's `fsync` included.
    fn batches_block(&self) -> bool {
        true
    }

    fn backend_name(&self) -> &'static str {
        "sqlite"
    }

    async fn run_migrations(&self) -> Result<()> {
        sqlx::migrate!("./migrations/sqlite").run(&self.writer).await?;
        Ok(())
    }
}

/// Runs blocking work from async code without stalling the tasks queued behind it on this
/// worker (the multi-threaded runtime hands them to another thread); on a current-thread
/// runtime it simply runs. The group-commit writer calls from a thread and runtime of its own
/// (`group_commit.rs`), so there it runs in place; a caller on tokio's workers (tests using
/// the store directly) gets the hand-over.
fn on_this_thread<R>(work: impl FnOnce() -> R) -> R {
    match tokio::runtime::Handle::current().runtime_flavor() {
        tokio::runtime::RuntimeFlavor::MultiThread => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// Copies committed WAL frames into the database file without blocking the writer, so that
/// the writer's own checkpoint, when the WAL reaches [`WAL_AUTOCHECKPOINT_PAGES`], has little
/// left to copy.
///
/// Small and often: each checkpoint ends in an fsync of the database file, and a commit's
/// fsync of the WAL waits for the disk to finish whatever is in flight. Every 100 ms, a
/// checkpoint wrote 100 ms of pages at once and the commits beside it took 10 ms and more
/// (p99 of delivery 18 ms at 1,000 messages/s); every 5 ms, p99 was 7 to 14 ms
/// (docs/benchmarks.md). When no message is being written, it runs every 100 ms.
async fn checkpoints(pool: SqlitePool, committed: Arc<AtomicU64>, stop: tokio_util::sync::CancellationToken) {
    let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let (mut seen, mut last) = (0, tokio::time::Instant::now());
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = committed.load(Ordering::Relaxed);
        if now == seen && last.elapsed() < CHECKPOINT_AT_LEAST {
            continue;
        }
        (seen, last) = (now, tokio::time::Instant::now());
        let result = sqlx::query_as::<_, (i64, i64, i64)>("PRAGMA wal_checkpoint(PASSIVE)").fetch_one(&pool).await;
        if let Ok((_, log, copied)) = &result {
            tracing::debug!(log, copied, checkpoint_us = last.elapsed().as_micros() as u64, "checkpoint");
        }
        match result {
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
