//! Every end-to-end test, in one binary (as kanidm's testkit does): each module was once its
//! own file under `tests/tests/`, and so its own binary, each linking the whole server. One
//! binary links once, so a change to the server rebuilds one test executable instead of 19.
//!
//! A new test goes into one of these modules, or into a new module declared here; never a new
//! file next to `e2e/` (see `tests/tests/DO_NOT_ADD_MORE_TESTS_HERE`). The tests share one
//! process: nothing may set environment variables or other process-wide state, and a test
//! that must own a process (to kill it, or to measure its memory) starts the `talkzone`
//! binary as a child ([`talkzone_tests::ProcessServer`]).

// Tests unwrap: a panic is the failure report they want.
#![allow(clippy::unwrap_used)]

mod a11y;
mod admin_tools_page;
mod alert_chain;
mod asyncapi;
mod authz;
mod bad_input;
mod chat;
mod chat_page;
mod coming_back;
mod coming_back_page;
mod connection_limits;
mod console_api;
mod console_page;
mod console_verdict;
mod desk;
mod directory;
mod erasure;
mod hostile;
mod inactive_chats;
mod inactive_console;
mod limits;
mod load;
mod matrix;
mod nodes;
mod notice;
mod on_call_page;
mod ops;
mod passkey_page;
mod passkeys;
mod paused_node;
mod policies;
mod privacy;
mod push;
mod push_native;
mod push_page;
mod reports;
mod restart;
mod risk_context;
mod rooms;
mod second_factor_page;
mod service_metrics;
mod service_report_page;
mod service_reports;
mod sessions;
mod single_sign_on;
mod sources;
mod staff_lifecycle;
mod staff_pages;
mod staff_second_factor;
mod staff_sessions;
mod staff_sign_in;
mod store;
mod surveys;
mod text_and_links;
mod verdict_marks;
mod web;
mod young_person;
