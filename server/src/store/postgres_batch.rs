//! PostgreSQL's message writer for the usual batch: a few plain messages. It takes two round
//! trips where the portable writer (`write_batch_in_tx`) takes five (`BEGIN`, the resend check,
//! the conversations locked, their rows, `COMMIT`):
//!
//! 1. one read, outside any transaction: the batch's conversations, and whether any message
//!    was sent before (a resend);
//! 2. one statement, its own transaction: it locks the conversations in id order, checks that
//!    each is still as the read saw it (`last_seq`, state, assignee), and only then moves
//!    their `last_seq` on and inserts the rows. Its commit is durable before it answers
//!    (`synchronous_commit` stays on).
//!
//! The decisions are [`plan_batch`], the same as every writer's. When the check fails (another
//! node wrote to one of the chats, or it was handed over or closed in between), the statement
//! changes nothing and the batch goes to the portable writer, which reads under its locks. So
//! does a batch with a resend, a held message, a risk or an escalation to write, or more than
//! [`MAX_MESSAGES`] messages.

use std::collections::HashMap;

use sqlx::PgConnection;

use super::sql::{message_status, plan_batch, BatchConversation, BatchPlan};
use super::{InsertOutcome, NewMessage, Result};

/// Larger batches come when the writer is busy; then two round trips fewer matter less than
/// the portable writer's one statement per chunk.
pub(super) const MAX_MESSAGES: usize = 16;

/// The batch's conversations (`last_seq`, state, assignee) and whether any of its messages is
/// a resend, in one read. Arrays keep it one prepared statement for any batch size.
const READ: &str = "SELECT c.id, c.state, c.assigned_to, c.last_seq, \
    EXISTS (SELECT 1 FROM unnest($2::text[], $3::text[]) AS k(sender_id, client_msg_id) \
            JOIN messages m ON m.sender_id = k.sender_id AND m.client_msg_id = k.client_msg_id) AS resent \
    FROM conversations c WHERE c.id = ANY($1)";

/// Locks the conversations in id order (as every writer does, so writers on several nodes
/// queue rather than deadlock), and writes only if every one is as the read saw it: a failed
/// check changes nothing. Returns whether it wrote.
const WRITE: &str = "WITH seen AS (\
        SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[]) \
        AS v(id, old_seq, new_seq, state, assigned_to)), \
    locked AS MATERIALIZED (\
        SELECT id, last_seq, state, assigned_to FROM conversations WHERE id = ANY($1) ORDER BY id FOR UPDATE), \
    unchanged AS MATERIALIZED (\
        SELECT count(*) = cardinality($1::text[]) AS ok FROM locked l JOIN seen v ON v.id = l.id \
        AND v.old_seq = l.last_seq AND v.state = l.state AND v.assigned_to IS NOT DISTINCT FROM l.assigned_to), \
    bumped AS (\
        UPDATE conversations c SET last_seq = v.new_seq FROM seen v, unchanged u WHERE u.ok AND c.id = v.id), \
    inserted AS (\
        INSERT INTO messages (id, conversation_id, seq, status, original_body, sender_id, sender_role, sender_name, \
            client_msg_id, body, kind, sent_at, severity, verdict) \
        SELECT r.* FROM unnest($6::text[], $7::text[], $8::bigint[], $9::text[], $10::text[], $11::text[], $12::text[], \
            $13::text[], $14::text[], $15::text[], $16::text[], $17::bigint[], $18::text[], $19::text[]) AS r, unchanged u \
        WHERE u.ok) \
    SELECT ok FROM unchanged";

/// Stores `batch` in two round trips, or returns `None` (having changed nothing) when it must
/// go to the portable writer.
pub(super) async fn write_batch(conn: &mut PgConnection, batch: &[NewMessage]) -> Result<Option<Vec<InsertOutcome>>> {
    let mut ids: Vec<&str> = batch.iter().map(|m| m.conversation_id.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    let (senders, client_ids): (Vec<&str>, Vec<&str>) =
        batch.iter().filter_map(|m| Some((m.sender_id.as_deref()?, m.client_msg_id.as_deref()?))).unzip();
    let found: Vec<(String, String, Option<String>, i64, bool)> =
        sqlx::query_as(READ).bind(&ids).bind(&senders).bind(&client_ids).fetch_all(&mut *conn).await?;
    if found.is_empty() || found.iter().any(|row| row.4) {
        // A resend (answered with the stored message) or no chat at all: the portable writer.
        return Ok(None);
    }
    let seen: HashMap<String, (String, Option<String>, i64)> =
        found.into_iter().map(|(id, state, assigned_to, last_seq, _)| (id, (state, assigned_to, last_seq))).collect();
    let convs = seen
        .iter()
        .map(|(id, (state, assigned_to, last_seq))| {
            (id.clone(), BatchConversation { state: state.clone(), assigned_to: assigned_to.clone(), last_seq: *last_seq })
        })
        .collect();
    let BatchPlan { outcomes, rows, bumped } = plan_batch(batch, &HashMap::new(), convs);
    if rows.is_empty() {
        // Every message refused (a closed chat, a stale access): nothing to write.
        return Ok(Some(outcomes));
    }

    // The conversations that take messages, as the read saw them, and their new `last_seq`.
    let mut conv_ids = Vec::with_capacity(bumped.len());
    let (mut old_seqs, mut new_seqs, mut states, mut assignees) = (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (id, new_seq) in &bumped {
        let (state, assigned_to, last_seq) = &seen[id];
        conv_ids.push(id.as_str());
        old_seqs.push(*last_seq);
        new_seqs.push(*new_seq);
        states.push(state.as_str());
        assignees.push(assigned_to.as_deref());
    }
    let col = |f: fn(&NewMessage) -> Option<&str>| rows.iter().map(|(m, _)| f(m)).collect::<Vec<_>>();
    let wrote: bool = sqlx::query_scalar(WRITE)
        .bind(&conv_ids)
        .bind(&old_seqs)
        .bind(&new_seqs)
        .bind(&states)
        .bind(&assignees)
        // The rows, one array per column in the order of `MESSAGE_INSERT_COLUMNS`.
        .bind(col(|m| Some(m.id.as_str())))
        .bind(col(|m| Some(m.conversation_id.as_str())))
        .bind(rows.iter().map(|(_, seq)| *seq).collect::<Vec<_>>())
        .bind(col(|m| Some(message_status(m))))
        .bind(col(|m| m.original_body.as_deref()))
        .bind(col(|m| m.sender_id.as_deref()))
        .bind(col(|m| m.sender_role.as_deref()))
        .bind(col(|m| m.sender_name.as_deref()))
        .bind(col(|m| m.client_msg_id.as_deref()))
        .bind(col(|m| Some(m.body.as_str())))
        .bind(col(|m| Some(m.kind.as_str())))
        .bind(rows.iter().map(|(m, _)| m.sent_at).collect::<Vec<_>>())
        .bind(col(|m| Some(m.severity.as_str())))
        .bind(col(|m| m.verdict.as_deref()))
        .fetch_one(&mut *conn)
        .await?;
    Ok(wrote.then_some(outcomes))
}
