//! The load generator behind `tzload` (issue 7): scenarios that drive a running Talk Zone
//! (one node or several) through the public protocol only, with the typed client, and report
//! sent, acknowledged, delivered, lost, duplicated and out-of-order messages, throughput,
//! latency percentiles, and the CPU seconds of both sides. The tests run small versions of
//! the same scenarios for correctness.

pub mod delivery;
pub mod peer;
pub mod probe;
pub mod report;
pub mod scenarios;
pub mod schedule;
pub mod setup;
pub mod traffic;

pub use report::Report;
pub use setup::Target;
pub use traffic::Observe;
