//! SQLite's message writer: a whole batch (its transaction, its reads, the decisions, the
//! inserts and the durable commit) runs in one go on the writer connection, through rusqlite
//! on the raw handle that sqlx lends out (`lock_handle`) for as long as the batch runs.
//!
//! Why: through sqlx, every statement is a round trip to the connection's own thread, two
//! thread wake-ups, and a batch took eight or more of them. On a busy 2-core machine each
//! wake-up can wait for a core, and those waits, not SQLite, were most of a batch's time
//! (docs/benchmarks.md). Here a batch costs one hand-over.
//!
//! The decisions are [`plan_batch`], the same function as the portable writer's. Batches with
//! a held message, a risk to raise or an escalation take the portable writer
//! (`write_batch_in_tx`), which writes those rows as well; this one writes messages only.

use std::collections::HashMap;

use rusqlite::{params, Connection, OptionalExtension, Row};

use super::batch_plan::{message_status, plan_batch, BatchConversation, BatchPlan};
use super::messages::{MESSAGE_COLUMNS, MESSAGE_INSERT_COLUMNS};
use super::{InsertOutcome, MessageRecord, NewMessage};

/// Whether this writer can store the whole batch: plain messages, with no moderation item,
/// risk or escalation rows to write beside them.
pub(super) fn only_messages(batch: &[NewMessage]) -> bool {
    batch.iter().all(|m| {
        m.hold.is_none()
            && m.escalation.is_none()
            && m.severity == crate::model::Severity::None
            && m.conversation_risk == crate::model::Severity::None
    })
}

/// Stores `batch` in one transaction on `db` and answers each message, in order. On failure
/// nothing of it is stored and no transaction is left open (unless even the rollback failed:
/// the caller checks `is_autocommit`).
pub(super) fn write_batch(db: &Connection, batch: &[NewMessage]) -> rusqlite::Result<Vec<InsertOutcome>> {
    let t0 = std::time::Instant::now();
    db.execute_batch("BEGIN IMMEDIATE")?;
    let t1 = t0.elapsed();
    let result = statements(db, batch);
    let t2 = t0.elapsed();
    let result = result.and_then(|out| db.execute_batch("COMMIT").map(|()| out));
    tracing::debug!(
        begin_us = t1.as_micros() as u64,
        stmts_us = (t2 - t1).as_micros() as u64,
        commit_us = (t0.elapsed() - t2).as_micros() as u64,
        "sqlite batch"
    );
    if result.is_err() && !db.is_autocommit() {
        let _ = db.execute_batch("ROLLBACK");
    }
    result
}

fn statements(db: &Connection, batch: &[NewMessage]) -> rusqlite::Result<Vec<InsertOutcome>> {
    // Resends already stored. In-process statements cost no round trip: one per key.
    let mut earlier: HashMap<(String, String), MessageRecord> = HashMap::new();
    let mut find = db.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE sender_id = ?1 AND client_msg_id = ?2"
    ))?;
    for m in batch {
        let (Some(sender), Some(client_id)) = (&m.sender_id, &m.client_msg_id) else { continue };
        if let Some(rec) = find.query_row(params![sender, client_id], message_from_row).optional()? {
            earlier.insert((sender.clone(), client_id.clone()), rec);
        }
    }

    // The conversations (the write lock taken by BEGIN IMMEDIATE holds them all).
    let mut convs: HashMap<String, BatchConversation> = HashMap::new();
    let mut read = db.prepare_cached("SELECT state, assigned_to, last_seq FROM conversations WHERE id = ?1")?;
    for m in batch {
        if convs.contains_key(&m.conversation_id) {
            continue;
        }
        let row = read
            .query_row(params![m.conversation_id], |r| {
                Ok(BatchConversation { state: parsed(r, 0)?, assigned_to: r.get(1)?, last_seq: r.get(2)? })
            })
            .optional()?;
        if let Some(conv) = row {
            convs.insert(m.conversation_id.clone(), conv);
        }
    }

    let BatchPlan { outcomes, rows, bumped } = plan_batch(batch, &earlier, convs);

    let mut bump = db.prepare_cached("UPDATE conversations SET last_seq = ?2 WHERE id = ?1")?;
    for (id, last_seq) in &bumped {
        bump.execute(params![id, last_seq])?;
    }
    let mut insert = db.prepare_cached(&format!(
        "INSERT INTO messages ({MESSAGE_INSERT_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"
    ))?;
    for (m, seq) in rows {
        // The order of MESSAGE_INSERT_COLUMNS.
        insert.execute(params![
            m.id,
            m.conversation_id,
            seq,
            message_status(m).as_str(),
            m.original_body,
            m.sender_id,
            m.sender_role.map(|r| r.as_str()),
            m.sender_name,
            m.client_msg_id,
            m.body,
            m.kind.as_str(),
            m.sent_at,
            m.severity.as_str(),
            m.verdict,
        ])?;
    }
    Ok(outcomes)
}

/// A row of `MESSAGE_COLUMNS`, in that order.
fn message_from_row(r: &Row<'_>) -> rusqlite::Result<MessageRecord> {
    Ok(MessageRecord {
        id: r.get(0)?,
        conversation_id: r.get(1)?,
        seq: r.get(2)?,
        status: parsed(r, 3)?,
        sender_id: r.get(4)?,
        sender_role: r.get::<_, Option<String>>(5)?.map(|s| parse(5, s)).transpose()?,
        sender_name: r.get(6)?,
        client_msg_id: r.get(7)?,
        body: r.get(8)?,
        kind: parsed(r, 9)?,
        sent_at: r.get(10)?,
        severity: parsed(r, 11)?,
        verdict: r.get(12)?,
    })
}

/// A text column parsed into its enum: a value the code does not know is a conversion error.
fn parsed<T: TryFrom<String>>(r: &Row<'_>, i: usize) -> rusqlite::Result<T>
where
    T::Error: std::error::Error + Send + Sync + 'static,
{
    parse(i, r.get(i)?)
}

fn parse<T: TryFrom<String>>(i: usize, s: String) -> rusqlite::Result<T>
where
    T::Error: std::error::Error + Send + Sync + 'static,
{
    T::try_from(s).map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, rusqlite::types::Type::Text, Box::new(e)))
}
