//! What a batch of messages does (group commit), decided in memory from what the batch read
//! under its locks: one decision for both stores' writers (`messages.rs` through sqlx,
//! `sqlite_batch.rs` through rusqlite); and the shapes of multi-row statements.

use std::collections::HashMap;

use super::{InsertOutcome, MessageRecord, NewMessage};
use crate::model::{ConversationState, MessageStatus};

/// A conversation's row as a message batch read it, under its lock.
pub(crate) struct BatchConversation {
    pub state: ConversationState,
    pub assigned_to: Option<String>,
    pub last_seq: i64,
}

/// What a batch of messages does, decided from what it read under its locks.
pub(crate) struct BatchPlan<'a> {
    /// One per message, in arrival order.
    pub outcomes: Vec<InsertOutcome>,
    /// The rows to insert, with their `seq` (`None` while held), in arrival order.
    pub rows: Vec<(&'a NewMessage, Option<i64>)>,
    /// The new `last_seq` of each conversation that took messages, in id order.
    pub bumped: Vec<(String, i64)>,
}

/// Decides each message of a batch, in arrival order: a resend (stored earlier, in `earlier`,
/// or earlier in this batch) is answered with the first message; a closed or missing chat
/// refuses; a chat no longer as the sender's access was decided is `Stale`; the rest take the
/// next `seq` (held messages none). Both stores' writers run this one decision.
pub(crate) fn plan_batch<'a>(
    batch: &'a [NewMessage],
    earlier: &HashMap<(String, String), MessageRecord>,
    mut convs: HashMap<String, BatchConversation>,
) -> BatchPlan<'a> {
    let mut outcomes: Vec<InsertOutcome> = Vec::with_capacity(batch.len());
    let mut rows: Vec<(&NewMessage, Option<i64>)> = Vec::with_capacity(batch.len());
    let mut in_batch: HashMap<(&str, &str), usize> = HashMap::new();
    let mut changed: Vec<&str> = Vec::new();
    for m in batch {
        let key = m.sender_id.as_deref().zip(m.client_msg_id.as_deref());
        if let Some((sender, client_id)) = key {
            if let Some(rec) = earlier.get(&(sender.to_owned(), client_id.to_owned())) {
                outcomes.push(InsertOutcome::Duplicate(rec.clone()));
                continue;
            }
            if let Some(first) = in_batch.get(&(sender, client_id)) {
                let again = match &outcomes[*first] {
                    InsertOutcome::Stored(rec) => InsertOutcome::Duplicate(rec.clone()),
                    other => other.clone(),
                };
                outcomes.push(again);
                continue;
            }
            in_batch.insert((sender, client_id), outcomes.len());
        }
        let Some(conv) = convs.get_mut(&m.conversation_id).filter(|c| c.state != ConversationState::Closed) else {
            outcomes.push(InsertOutcome::ConversationClosed);
            continue;
        };
        if let Some(expect) = &m.expect {
            if expect.state != conv.state || expect.assigned_to != conv.assigned_to {
                outcomes.push(InsertOutcome::Stale);
                continue;
            }
        }
        let seq = if m.hold.is_some() {
            None
        } else {
            conv.last_seq += 1;
            changed.push(&m.conversation_id);
            Some(conv.last_seq)
        };
        rows.push((m, seq));
        outcomes.push(InsertOutcome::Stored(message_record(m, seq)));
    }
    changed.sort_unstable();
    changed.dedup();
    let bumped = changed.into_iter().map(|id| (id.to_owned(), convs[id].last_seq)).collect();
    BatchPlan { outcomes, rows, bumped }
}

/// `rows` parenthesised groups of `width` placeholders, numbered on from 1, for a multi-row
/// `VALUES`.
pub(crate) fn row_placeholders(rows: usize, width: usize, param: fn(usize) -> String) -> String {
    (0..rows)
        .map(|k| format!("({})", (width * k + 1..width * k + width + 1).map(param).collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A new message's status: held for moderation, or visible.
pub(crate) fn message_status(m: &NewMessage) -> MessageStatus {
    if m.hold.is_some() {
        MessageStatus::Held
    } else {
        MessageStatus::Visible
    }
}

/// The record of a message as [`plan_batch`] stores it.
pub(crate) fn message_record(m: &NewMessage, seq: Option<i64>) -> MessageRecord {
    MessageRecord {
        id: m.id.clone(),
        conversation_id: m.conversation_id.clone(),
        seq,
        status: message_status(m),
        sender_id: m.sender_id.clone(),
        sender_role: m.sender_role,
        sender_name: m.sender_name.clone(),
        client_msg_id: m.client_msg_id.clone(),
        body: m.body.clone(),
        kind: m.kind,
        sent_at: m.sent_at,
        severity: m.severity,
        verdict: m.verdict.clone(),
    }
}

/// `items` in chunks of at most `max` whose sizes are powers of two, largest first: a batch
/// of any size becomes a few statements of a few distinct shapes, which each connection's
/// statement cache keeps prepared.
pub(crate) fn pow2_chunks<T>(items: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    debug_assert!(max.is_power_of_two());
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let size = max.min(1 << rest.len().ilog2());
        let (head, tail) = rest.split_at(size);
        rest = tail;
        Some(head)
    })
}

#[cfg(test)]
mod tests {
    use super::pow2_chunks;

    #[test]
    fn chunks_are_powers_of_two_largest_first() {
        let items: Vec<u32> = (0..300).collect();
        let sizes: Vec<usize> = pow2_chunks(&items, 128).map(<[u32]>::len).collect();
        assert_eq!(sizes, vec![128, 128, 32, 8, 4]);
        let joined: Vec<u32> = pow2_chunks(&items, 128).flatten().copied().collect();
        assert_eq!(joined, items, "in order, nothing lost or repeated");
        assert_eq!(pow2_chunks(&items[..0], 64).count(), 0);
        assert_eq!(pow2_chunks(&items[..7], 64).map(<[u32]>::len).collect::<Vec<_>>(), vec![4, 2, 1]);
    }
}
