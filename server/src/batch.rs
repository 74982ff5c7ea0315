//! Small durable writes that many connections make at once, made together: each caller waits
//! for its own write to be durable, but one transaction (and one fsync) serves everyone who
//! queued while the last one committed. A reconnect storm is thousands of staff connections
//! each recording a read in the audit log and its presence; one by one, they queued behind
//! each other's commits on the single SQLite writer for many seconds.

use std::future::Future;

use tokio::sync::{mpsc, oneshot};

use crate::store::StoreError;

/// Items waiting; beyond it callers wait (back-pressure, not loss).
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<(), StoreError>>;

pub struct Batcher<T> {
    queue: mpsc::Sender<(T, Reply)>,
}

impl<T: Send + 'static> Batcher<T> {
    /// Starts the task that writes up to `max` queued items at a time with `write`; it stops
    /// when the batcher is dropped.
    pub fn start<F, Fut>(what: &'static str, max: usize, write: F) -> Self
    where
        F: Fn(Vec<T>) -> Fut + Send + 'static,
        Fut: Future<Output = Result<(), StoreError>> + Send,
    {
        let (queue, mut rx) = mpsc::channel::<(T, Reply)>(QUEUE);
        tokio::spawn(async move {
            let mut items = Vec::with_capacity(max);
            let mut replies = Vec::with_capacity(max);
            while let Some((item, reply)) = rx.recv().await {
                items.push(item);
                replies.push(reply);
                while items.len() < max {
                    match rx.try_recv() {
                        Ok((item, reply)) => {
                            items.push(item);
                            replies.push(reply);
                        }
                        Err(_) => break,
                    }
                }
                let result = write(std::mem::replace(&mut items, Vec::with_capacity(max))).await;
                if let Err(e) = &result {
                    tracing::warn!(error = %e, what, size = replies.len(), "batched write failed");
                }
                for reply in replies.drain(..) {
                    let _ = reply.send(match &result {
                        Ok(()) => Ok(()),
                        Err(_) => Err(StoreError::Unavailable),
                    });
                }
            }
        });
        Self { queue }
    }

    /// Queues `item` and waits until it is durable.
    pub async fn write(&self, item: T) -> Result<(), StoreError> {
        let (reply, done) = oneshot::channel();
        self.queue.send((item, reply)).await.map_err(|_| StoreError::Unavailable)?;
        done.await.map_err(|_| StoreError::Unavailable)?
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_writes_share_batches_and_each_is_answered() {
        let seen: Arc<Mutex<Vec<Vec<u32>>>> = Arc::default();
        let log = seen.clone();
        let batcher = Arc::new(Batcher::start("test", 16, move |items: Vec<u32>| {
            let log = log.clone();
            async move {
                // A slow commit, so that others queue behind it.
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
                log.lock().unwrap().push(items);
                Ok(())
            }
        }));
        let tasks: Vec<_> = (0..100u32)
            .map(|i| {
                let b = batcher.clone();
                tokio::spawn(async move { b.write(i).await })
            })
            .collect();
        for t in tasks {
            t.await.unwrap().unwrap();
        }
        let batches = seen.lock().unwrap().clone();
        let mut all: Vec<u32> = batches.iter().flatten().copied().collect();
        all.sort_unstable();
        assert_eq!(all, (0..100).collect::<Vec<_>>(), "every item written once");
        assert!(batches.iter().all(|b| b.len() <= 16), "no batch over the maximum");
        assert!(batches.len() < 100, "items queued during a commit share the next one: {} batches", batches.len());
    }

    #[tokio::test]
    async fn a_failed_batch_fails_every_caller_in_it() {
        let batcher = Batcher::start("test", 8, |_items: Vec<u32>| async { Err(StoreError::Unavailable) });
        assert!(batcher.write(1).await.is_err());
    }
}
