//! Talk Zone server: a 24/7 live-chat support service for young people.
//!
//! # Modules, one per concept
//!
//! - base: [`clock`] (injectable time), [`ids`], [`names`] (friendly anonymous names), [`model`] (kinds
//!   and states as types),
//!   [`config`] (settings from flags, environment and file), [`store`] (the database, the only
//!   place SQL lives), [`telemetry`] (logs, metrics), [`error`] (the domain error, free of
//!   HTTP), [`input`] (what text is accepted);
//! - services: [`audit`], [`batch`] (writes gathered into one), [`conversation_cache`],
//!   [`limits`] (rate limits), [`moderation`] (the policy in force), [`realtime`] (events, this
//!   node's hub, the broker between nodes), [`auth`] (tokens, passwords, tickets, the caller),
//!   [`views`] (records as the protocol shows them), [`group_commit`] (messages stored
//!   together), [`push`] (push notifications: devices, providers, the queue); then [`state`], the shared state;
//! - domain rules: [`presence`], [`queue`] (order, positions, waits), [`policies`] (the moderation
//!   policy and the notice, by version, the same on every node), `rooms::policy`,
//!   `privacy::notice` (the monitoring notice), and the low part of [`conversations`]: `access`
//!   (who may do what), `system` (the one path for system messages) and `view`;
//! - domain services: [`on_call`] (alerts to the on-call contact, signed),
//!   [`service_levels`] (the gauges of `/metrics`), [`escalation`], [`moderation_queue`], [`surveys`], [`privacy`] (export,
//!   erasure, holds, retention), [`desk`] (the rota, duty, wellbeing caps), [`verdict_marks`]
//!   (staff marks on moderation verdicts: an evaluation set of real traffic), [`returning`]
//!   (coming back to an anonymous account: device credentials, recovery phrases);
//! - use cases: [`conversations`] (send, lifecycle, live, notes, continuity), [`rooms`],
//!   [`directory`], [`accounts`] (staff accounts), [`canned_replies`];
//! - edges: [`jobs`] (the scheduler), [`ws`] (one task per connection), [`http`] (the router,
//!   extractors, error mapping, the web pages);
//! - the process: [`app`] (build the state, serve), [`cli`].
//!
//! # Floors
//!
//! A module imports only from its own floor or the floors below it, and no modules import each
//! other in a circle, on any floor. The test `floors` below reads this list and checks both on
//! every `crate::` and `super::` path in the sources (tests aside):
//!
//! 1. base: clock, ids, names, model, config, store, telemetry, error, input
//! 2. services: audit, batch, conversation_cache, limits, moderation, realtime, auth, views, group_commit, push
//! 3. state: state
//! 4. rules: presence, queue, policies, rooms::policy, privacy::notice, conversations::access, conversations::system, conversations::view
//! 5. domain: on_call, service_levels, escalation, moderation_queue, surveys, privacy, desk, verdict_marks, returning, service_reports
//! 6. use cases: conversations, rooms, directory, accounts, canned_replies
//! 7. edges: jobs, ws, http
//! 8. process: app, cli

pub mod accounts;
pub mod app;
pub mod audit;
pub mod auth;
pub mod batch;
pub mod canned_replies;
pub mod cli;
pub mod clock;
pub mod config;
pub mod conversation_cache;
pub mod conversations;
pub mod desk;
pub mod directory;
pub mod error;
pub mod escalation;
pub mod group_commit;
pub mod http;
pub mod ids;
pub mod input;
pub mod jobs;
pub mod limits;
pub mod model;
pub mod moderation;
pub mod moderation_queue;
pub mod names;
pub mod on_call;
pub mod policies;
pub mod presence;
pub mod privacy;
pub mod push;
pub mod queue;
pub mod realtime;
pub mod returning;
pub mod rooms;
pub mod service_levels;
pub mod service_reports;
pub mod state;
pub mod store;
pub mod surveys;
pub mod telemetry;
pub mod verdict_marks;
pub mod views;
pub mod ws;

pub use app::{build_state, start, start_with_config, RunningServer};
pub use http::router;

#[cfg(test)]
mod floors;
