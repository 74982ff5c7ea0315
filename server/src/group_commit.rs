//! Group commit of messages: concurrent sends are stored together, in one transaction and
//! one durable commit (`synchronous=FULL` / `synchronous_commit=on` stay on), so durable
//! throughput grows with load instead of being one fsync per message.
//!
//! Messages go to a writer chosen by their conversation, so one conversation's messages are
//! committed, and published, in the order they arrived, and writers never wait on each
//! other's row locks. A writer takes whatever has queued while it was committing (no timer:
//! a lone message is committed at once). The stored messages are published to the hub in
//! commit order before anyone is answered, so an `ack` never overtakes the message's
//! delivery on this node and receivers rarely see `seq` out of order. Publishing a batch
//! overlaps with storing the next.
//!
//! If a batch fails (a constraint, the database going away), nothing of it is stored and
//! each message is tried again on its own, so one bad message cannot fail its neighbours.

use std::hash::{Hash, Hasher};
use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::realtime::{Event, Hub};
use crate::store::{InsertOutcome, NewMessage, Store, StoreError};

/// At most this many messages per transaction: bounds a commit's latency and memory.
const MAX_BATCH: usize = 512;
/// Sends waiting per writer; beyond it senders wait (back-pressure, not loss).
const QUEUE: usize = 4096;
/// Stored batches waiting to be published, per writer.
const PUBLISH_QUEUE: usize = 4;

/// A stored batch and what happened to each of its messages.
type Stored = (Vec<Request>, Vec<Result<InsertOutcome, StoreError>>);

struct Request {
    message: NewMessage,
    in_room: bool,
    reply: oneshot::Sender<Result<InsertOutcome, StoreError>>,
}

pub struct MessageWriter {
    writers: Vec<mpsc::Sender<Request>>,
}

impl MessageWriter {
    /// Starts the store's number of writers; they stop when the last handle is dropped.
    pub fn start(store: Arc<dyn Store>, hub: Arc<Hub>) -> std::io::Result<Self> {
        let own_thread = store.message_batches_block();
        let mut writers = Vec::new();
        for i in 0..store.message_writers().max(1) {
            let (tx, rx) = mpsc::channel(QUEUE);
            // Publishing and answering a batch overlaps with storing the next one; batches
            // reach the publisher, and so the hub, in commit order.
            let (done_tx, done_rx) = mpsc::channel(PUBLISH_QUEUE);
            tokio::spawn(publish_batches(hub.clone(), done_rx));
            let writer = write_batches(store.clone(), rx, done_tx);
            if own_thread {
                on_own_thread(i, writer)?;
            } else {
                tokio::spawn(writer);
            }
            writers.push(tx);
        }
        Ok(Self { writers })
    }

    /// Stores a message (idempotent on sender and `client_msg_id`), publishes it if it was
    /// stored now, and returns what happened once the commit is durable.
    pub async fn insert(&self, message: NewMessage, in_room: bool) -> Result<InsertOutcome, StoreError> {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        message.conversation_id.hash(&mut h);
        let writer = &self.writers[(h.finish() % self.writers.len() as u64) as usize];
        let (reply, answer) = oneshot::channel();
        writer.send(Request { message, in_room, reply }).await.map_err(|_| StoreError::Unavailable)?;
        answer.await.map_err(|_| StoreError::Unavailable)?
    }
}

/// Runs a writer whose batches block their thread (SQLite's commit waits for `fsync` in place)
/// on a thread of its own, in a single-threaded runtime. The batch then runs where it is:
/// on a tokio worker it would stall that worker's other tasks, and handing them to another
/// thread for each batch (`block_in_place`) cost about 7 % of the server's CPU at 1,000
/// messages/s (docs/benchmarks.md).
fn on_own_thread(i: usize, writer: impl std::future::Future<Output = ()> + Send + 'static) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    std::thread::Builder::new().name(format!("tz-msg-writer-{i}")).spawn(move || runtime.block_on(writer))?;
    Ok(())
}

async fn write_batches(store: Arc<dyn Store>, mut rx: mpsc::Receiver<Request>, done_tx: mpsc::Sender<Stored>) {
    loop {
        let Some(first) = rx.recv().await else { return };
        // Sized to what is queued: a full-size buffer per lone message is a large allocation.
        let mut batch = Vec::with_capacity((rx.len() + 1).min(MAX_BATCH));
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(r) => batch.push(r),
                Err(_) => break,
            }
        }
        let t0 = std::time::Instant::now();
        let results = store_batch(store.as_ref(), &batch).await;
        tracing::debug!(size = batch.len(), store_us = t0.elapsed().as_micros() as u64, "batch stored");
        metrics::histogram!(crate::telemetry::GROUP_COMMIT_SIZE).record(batch.len() as f64);
        if done_tx.send((batch, results)).await.is_err() {
            return;
        }
    }
}

/// Publishes each stored batch to the hub, then answers its senders: an `ack` never
/// overtakes the message's delivery on this node.
async fn publish_batches(hub: Arc<Hub>, mut done: mpsc::Receiver<Stored>) {
    while let Some((batch, results)) = done.recv().await {
        let t0 = std::time::Instant::now();
        for (req, result) in batch.iter().zip(&results) {
            if let Ok(InsertOutcome::Stored(m)) = result {
                if let Some(view) = crate::views::staff_message_view(m, req.in_room) {
                    hub.publish(Event::Message(view));
                }
            }
        }
        tracing::debug!(size = batch.len(), publish_us = t0.elapsed().as_micros() as u64, "batch published");
        for (req, result) in batch.into_iter().zip(results) {
            // The sender may have gone (connection closed): the message is stored anyway.
            let _ = req.reply.send(result);
        }
    }
}

/// One transaction for the batch (the store answers resends, in the database or in the batch,
/// with the earlier message). On failure, each message on its own.
async fn store_batch(store: &dyn Store, batch: &[Request]) -> Vec<Result<InsertOutcome, StoreError>> {
    let messages: Vec<NewMessage> = batch.iter().map(|r| r.message.clone()).collect();
    match store.insert_messages(&messages).await {
        Ok(outcomes) if outcomes.len() == messages.len() => outcomes.into_iter().map(Ok).collect(),
        Ok(outcomes) => {
            tracing::error!(sent = messages.len(), answered = outcomes.len(), "group commit answered the wrong number");
            messages.iter().map(|_| Err(StoreError::Unavailable)).collect()
        }
        Err(e) => {
            tracing::warn!(error = %e, size = messages.len(), "group commit failed; storing one by one");
            let mut each = Vec::with_capacity(messages.len());
            for m in messages {
                each.push(store.insert_message(m).await);
            }
            each
        }
    }
}
