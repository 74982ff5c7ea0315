//! Real-time delivery: the [`Event`]s a node fans out, the [`hub`] of this node's
//! connections, and the [`broker`] that carries events between nodes.
//!
//! Inside: `events` (lowest) <- `broker` <- `hub` <- `broker::redis` (the Redis bridge feeds
//! the hub it was given).

pub mod broker;
mod events;
pub mod hub;

pub use events::Event;
pub use hub::Hub;
