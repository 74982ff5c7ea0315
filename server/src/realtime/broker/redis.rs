//! The Redis broker: every node publishes its hub events on one pub/sub channel and delivers
//! what the other nodes publish to its own connections.
//!
//! Redis pub/sub is fire-and-forget: a disconnect, a restart or a full buffer loses events.
//! The database stays the truth, so every loss ends in a *resync*: each connection on the
//! node re-reads what it follows (messages after its last `seq`, the state of its chats, the
//! queue) from the database. A node resyncs when its subscription comes back, every
//! [`OUTAGE_POLL`] while Redis is unreachable (so chats across nodes still move, if slower),
//! and when another node says it could not publish something. Re-reads are spread, at most
//! [`MAX_RESYNCS_PER_SEC`](crate::realtime::hub::MAX_RESYNCS_PER_SEC) connections a second, never all at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::{mpsc, Notify};
use tokio_util::sync::CancellationToken;

use super::Broker;
use crate::realtime::hub::{resync_time, Hub};
use crate::realtime::Event;
use crate::telemetry;

/// The one channel every node publishes on and listens to.
const CHANNEL: &str = "talkzone:events";
/// Events waiting for the publisher. Beyond this the node stops queueing (memory stays
/// bounded while Redis is away) and asks every node to resync once Redis is back.
const PUBLISH_BUFFER: usize = 65_536;
/// Events published in one pipeline (one round trip) when they queue up under load.
const PUBLISH_BATCH: usize = 512;
/// While the subscription is down: how often to re-read from the database and retry.
pub const OUTAGE_POLL: Duration = Duration::from_secs(2);
/// How long to wait between re-reads while Redis is away, for a node with `connections`: every
/// connection re-reads once per poll, spread evenly over it, and a node with many polls less
/// often (19,000 connections: every 9.5 s).
fn outage_poll(connections: usize) -> Duration {
    OUTAGE_POLL.max(resync_time(connections))
}

/// What travels on the channel: the event and the node that produced it (which has
/// already delivered it locally), or a request to resync.
#[derive(Serialize, Deserialize)]
struct Envelope {
    node: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    event: Option<Event>,
}

pub struct RedisBroker {
    node: String,
    client: redis::Client,
    outgoing: mpsc::Sender<String>,
    /// Set when an event could not be handed to Redis: the others must resync.
    lost: Arc<AtomicBool>,
    subscribed: Arc<AtomicBool>,
    publishing: Arc<AtomicBool>,
    /// Asks this node's connections to re-read ([`Hub::resync_on_request`]).
    resyncs: Arc<Notify>,
}

impl RedisBroker {
    /// Checks that Redis answers, then starts the publisher and the listener, which deliver
    /// to `hub` until `shutdown`.
    pub async fn start(
        url: &str,
        node: String,
        hub: Weak<Hub>,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Arc<Self>> {
        let client = redis::Client::open(url)?;
        // Refuse to start against a Redis that is not there: a node that silently runs alone
        // would split the service.
        let mut conn = client.get_multiplexed_async_connection().await?;
        let _: String = redis::cmd("PING").query_async(&mut conn).await?;
        let (outgoing, rx) = mpsc::channel(PUBLISH_BUFFER);
        let broker = Arc::new(Self {
            node,
            client,
            outgoing,
            lost: Arc::new(AtomicBool::new(false)),
            subscribed: Arc::new(AtomicBool::new(false)),
            publishing: Arc::new(AtomicBool::new(true)),
            resyncs: Arc::new(Notify::new()),
        });
        tokio::spawn(Hub::resync_on_request(hub.clone(), broker.resyncs.clone(), shutdown.clone()));
        // The publisher outlives the shutdown signal: messages still committing while the node
        // drains must reach the other nodes' clients too.
        tokio::spawn(broker.clone().publisher(rx));
        tokio::spawn(broker.clone().listener(hub, shutdown));
        Ok(broker)
    }

    /// Sends queued events in pipelines; after any loss, sends a resync request.
    async fn publisher(self: Arc<Self>, mut rx: mpsc::Receiver<String>) {
        let mut batch = Vec::with_capacity(PUBLISH_BATCH);
        'connect: loop {
            let mut conn = loop {
                match self.client.get_multiplexed_async_connection().await {
                    Ok(c) => break c,
                    Err(e) => {
                        self.publishing.store(false, Ordering::Relaxed);
                        tracing::warn!(error = %e, "broker: cannot connect to publish; retrying");
                        // Events queued meanwhile would be stale by the time Redis is back;
                        // drop them and have everyone re-read instead.
                        while rx.try_recv().is_ok() {
                            self.lost.store(true, Ordering::Relaxed);
                        }
                        tokio::time::sleep(OUTAGE_POLL).await;
                        continue;
                    }
                }
            };
            self.publishing.store(true, Ordering::Relaxed);
            loop {
                if self.lost.swap(false, Ordering::Relaxed) {
                    batch.push(self.envelope(None));
                } else {
                    match rx.recv().await {
                        Some(json) => batch.push(json),
                        None => return,
                    }
                }
                while batch.len() < PUBLISH_BATCH {
                    match rx.try_recv() {
                        Ok(json) => batch.push(json),
                        Err(_) => break,
                    }
                }
                let mut pipe = redis::pipe();
                for json in &batch {
                    pipe.cmd("PUBLISH").arg(CHANNEL).arg(json).ignore();
                }
                let sent = batch.len();
                let result: redis::RedisResult<()> = pipe.query_async(&mut conn).await;
                batch.clear();
                match result {
                    Ok(()) => metrics::counter!(telemetry::BROKER_PUBLISHED).increment(sent as u64),
                    Err(e) => {
                        tracing::warn!(error = %e, lost = sent, "broker: publish failed; other nodes will resync");
                        self.lost.store(true, Ordering::Relaxed);
                        self.publishing.store(false, Ordering::Relaxed);
                        continue 'connect;
                    }
                }
            }
        }
    }

    /// Delivers other nodes' events to this node's connections; resyncs after any gap.
    async fn listener(self: Arc<Self>, hub: Weak<Hub>, shutdown: CancellationToken) {
        let mut first = true;
        loop {
            match self.client.get_async_pubsub().await {
                Ok(mut pubsub) => match pubsub.subscribe(CHANNEL).await {
                    Ok(()) => {
                        self.subscribed.store(true, Ordering::Relaxed);
                        if !first {
                            tracing::info!("broker: subscription restored; re-reading from the database");
                            metrics::counter!(telemetry::BROKER_RECONNECTS).increment(1);
                            self.resyncs.notify_one();
                        }
                        let mut messages = pubsub.on_message();
                        loop {
                            let msg = tokio::select! {
                                _ = shutdown.cancelled() => return,
                                msg = messages.next() => msg,
                            };
                            let Some(msg) = msg else { break };
                            let Some(hub) = hub.upgrade() else { return };
                            self.receive(&hub, msg.get_payload_bytes());
                        }
                    }
                    Err(e) => tracing::warn!(error = %e, "broker: cannot subscribe"),
                },
                Err(e) => tracing::warn!(error = %e, "broker: cannot connect to listen"),
            }
            // Disconnected: whatever was published meanwhile is gone. Until the subscription
            // is back, every connection re-reads from the database once per retry, spread over
            // the time to the next one.
            self.subscribed.store(false, Ordering::Relaxed);
            first = false;
            // No hub, no one to deliver to: the node is going.
            let Some(connections) = hub.upgrade().map(|h| h.connection_count()) else { return };
            Hub::resync_spread(&hub, outage_poll(connections), &shutdown).await;
            if shutdown.is_cancelled() {
                return;
            }
        }
    }

    fn receive(&self, hub: &Hub, payload: &[u8]) {
        let envelope: Envelope = match serde_json::from_slice(payload) {
            Ok(e) => e,
            Err(e) => {
                // Another version of the server, or something else on our channel: never
                // guess; re-read instead.
                tracing::warn!(error = %e, "broker: unreadable event; re-reading from the database");
                self.resyncs.notify_one();
                return;
            }
        };
        if envelope.node == self.node {
            return;
        }
        metrics::counter!(telemetry::BROKER_RECEIVED).increment(1);
        match envelope.event {
            Some(event) => hub.deliver_local(&event),
            None => self.resyncs.notify_one(),
        }
    }

    fn envelope(&self, event: Option<&Event>) -> String {
        #[derive(Serialize)]
        struct Out<'a> {
            node: &'a str,
            #[serde(skip_serializing_if = "Option::is_none")]
            event: Option<&'a Event>,
        }
        // Our events hold only strings, numbers and JSON values: serialising cannot fail.
        serde_json::to_string(&Out { node: &self.node, event }).unwrap_or_default()
    }
}

#[async_trait]
impl Broker for RedisBroker {
    fn name(&self) -> &'static str {
        "redis"
    }

    fn publish(&self, event: &Event) {
        if self.outgoing.try_send(self.envelope(Some(event))).is_err() {
            metrics::counter!(telemetry::BROKER_DROPPED).increment(1);
            self.lost.store(true, Ordering::Relaxed);
        }
    }

    async fn healthy(&self) -> bool {
        self.subscribed.load(Ordering::Relaxed) && self.publishing.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::outage_poll;

    #[test]
    fn the_outage_poll_slows_with_the_number_of_connections() {
        assert_eq!(outage_poll(0), Duration::from_secs(2));
        assert_eq!(outage_poll(4_000), Duration::from_secs(2));
        assert_eq!(outage_poll(10_000), Duration::from_secs(5));
        assert_eq!(outage_poll(19_000), Duration::from_millis(9_500));
    }
}
