//! Carries hub events between nodes. The in-process broker (a single node) has nothing to
//! carry; the [Redis broker](redis::RedisBroker) connects several nodes. Either way the
//! database is the truth: a node that misses an event sees a `seq` gap, or resyncs from the
//! database when its broker connection comes back.

pub mod redis;

use async_trait::async_trait;

use crate::realtime::Event;

#[async_trait]
pub trait Broker: Send + Sync + 'static {
    /// `in-process` or `redis`.
    fn name(&self) -> &'static str;
    /// Sends an event to the other nodes without waiting (the hub's fan-out must not block).
    fn publish(&self, event: &Event);
    /// Whether the broker is reachable, for `/readyz`.
    async fn healthy(&self) -> bool;
}

/// A single node: every subscriber is local, so publishing is the hub's local delivery.
pub struct LocalBroker;

#[async_trait]
impl Broker for LocalBroker {
    fn name(&self) -> &'static str {
        "in-process"
    }

    fn publish(&self, _event: &Event) {}

    async fn healthy(&self) -> bool {
        true
    }
}
