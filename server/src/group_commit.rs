//! Group commit of messages: concurrent sends are stored together, in one transaction and
//! one durable commit (`synchronous=FULL` / `synchronous_commit=on` stay on), so durable
//! throughput grows with load instead of being one fsync per message.
//!
//! Messages go to a writer chosen by their conversation, so one conversation's messages are
//! committed, and published, in the order they arrived, and writers never wait on each
//! other's row locks. A writer takes whatever has queued while it was committing (no timer:
//! a lone message is committed at once). The stored messages are published to the hub in
//! commit order before anyone is answered, so an `ack` never overtakes the message's
//! delivery on this node and receivers rarely see `seq` out of order.
//!
//! If a batch fails (a constraint, the database going away), nothing of it is stored and
//! each message is tried again on its own, so one bad message cannot fail its neighbours.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::hub::{Event, Hub};
use crate::store::{InsertOutcome, NewMessage, Store, StoreError};

/// At most this many messages per transaction: bounds a commit's latency and memory.
const MAX_BATCH: usize = 256;
/// Sends waiting per writer; beyond it senders wait (back-pressure, not loss).
const QUEUE: usize = 4096;

struct Request {
    message: NewMessage,
    in_room: bool,
    reply: oneshot::Sender<Result<InsertOutcome, StoreError>>,
}

pub struct MessageWriter {
    store: Arc<dyn Store>,
    writers: Vec<mpsc::Sender<Request>>,
}

impl MessageWriter {
    /// Starts the store's number of writers; they stop when the last handle is dropped.
    pub fn start(store: Arc<dyn Store>, hub: Arc<Hub>) -> Self {
        let writers = (0..store.message_writers().max(1))
            .map(|_| {
                let (tx, rx) = mpsc::channel(QUEUE);
                tokio::spawn(write_batches(store.clone(), hub.clone(), rx));
                tx
            })
            .collect();
        Self { store, writers }
    }

    /// Stores a message (idempotent on sender and `client_msg_id`), publishes it if it was
    /// stored now, and returns what happened once the commit is durable.
    pub async fn insert(&self, message: NewMessage, in_room: bool) -> Result<InsertOutcome, StoreError> {
        // A resend is answered without queueing behind other writes.
        if let (Some(sender), Some(client_id)) = (&message.sender_id, &message.client_msg_id) {
            if let Some(existing) = self.store.message_by_client_id(sender, client_id).await? {
                return Ok(InsertOutcome::Duplicate(existing));
            }
        }
        let mut h = std::collections::hash_map::DefaultHasher::new();
        message.conversation_id.hash(&mut h);
        let writer = &self.writers[(h.finish() % self.writers.len() as u64) as usize];
        let (reply, answer) = oneshot::channel();
        writer.send(Request { message, in_room, reply }).await.map_err(|_| StoreError::Unavailable)?;
        answer.await.map_err(|_| StoreError::Unavailable)?
    }
}

async fn write_batches(store: Arc<dyn Store>, hub: Arc<Hub>, mut rx: mpsc::Receiver<Request>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let results = store_batch(store.as_ref(), &batch).await;
        metrics::histogram!(crate::telemetry::GROUP_COMMIT_SIZE).record(batch.len() as f64);
        for (req, result) in batch.iter().zip(&results) {
            if let Ok(InsertOutcome::Stored(m)) = result {
                if let Some(view) = crate::conversations::staff_message_view(m, req.in_room) {
                    hub.publish(Event::Message(view));
                }
            }
        }
        for (req, result) in batch.drain(..).zip(results) {
            // The sender may have gone (connection closed): the message is stored anyway.
            let _ = req.reply.send(result);
        }
    }
}

/// One transaction for the batch; a resend of a message earlier in the same batch is
/// answered with that message. On failure, each message on its own.
async fn store_batch(store: &dyn Store, batch: &[Request]) -> Vec<Result<InsertOutcome, StoreError>> {
    let mut first_of: HashMap<(&str, &str), usize> = HashMap::new();
    let mut unique = Vec::with_capacity(batch.len());
    // For each request: its index in `unique`, or the request it repeats.
    let mut slot: Vec<Result<usize, usize>> = Vec::with_capacity(batch.len());
    for (i, req) in batch.iter().enumerate() {
        let key = req.message.sender_id.as_deref().zip(req.message.client_msg_id.as_deref());
        match key.and_then(|k| first_of.get(&k).copied()) {
            Some(earlier) => slot.push(Err(earlier)),
            None => {
                if let Some(k) = key {
                    first_of.insert(k, i);
                }
                slot.push(Ok(unique.len()));
                unique.push(req.message.clone());
            }
        }
    }
    // Row locks are taken in conversation-id order (a stable sort keeps each conversation's
    // messages in arrival order), the same order on every node, so two nodes' batches that
    // share conversations wait for each other instead of deadlocking.
    let mut order: Vec<usize> = (0..unique.len()).collect();
    order.sort_by(|a, b| unique[*a].conversation_id.cmp(&unique[*b].conversation_id));
    let sorted: Vec<NewMessage> = order.iter().map(|i| unique[*i].clone()).collect();
    let stored: Vec<Result<InsertOutcome, StoreError>> = match store.insert_messages(&sorted).await {
        Ok(outcomes) => {
            let mut by_arrival: Vec<Option<InsertOutcome>> = vec![None; unique.len()];
            for (k, outcome) in order.iter().zip(outcomes) {
                by_arrival[*k] = Some(outcome);
            }
            by_arrival.into_iter().map(|o| o.ok_or(StoreError::Unavailable)).collect()
        }
        Err(e) => {
            tracing::warn!(error = %e, size = unique.len(), "group commit failed; storing one by one");
            let mut each = Vec::with_capacity(unique.len());
            for m in unique {
                each.push(store.insert_message(m).await);
            }
            each
        }
    };
    let mut stored: Vec<Option<Result<InsertOutcome, StoreError>>> = stored.into_iter().map(Some).collect();
    let mut out: Vec<Result<InsertOutcome, StoreError>> = Vec::with_capacity(batch.len());
    for s in &slot {
        let result = match s {
            Ok(u) => stored[*u].take().unwrap_or(Err(StoreError::Unavailable)),
            Err(earlier) => match &out[*earlier] {
                Ok(InsertOutcome::Stored(m) | InsertOutcome::Duplicate(m)) => Ok(InsertOutcome::Duplicate(m.clone())),
                Ok(InsertOutcome::ConversationClosed) => Ok(InsertOutcome::ConversationClosed),
                Err(_) => Err(StoreError::Unavailable),
            },
        };
        out.push(result);
    }
    out
}
