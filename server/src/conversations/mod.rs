//! Support conversations: who may do what, and the one code path for each action. The REST
//! handlers and the WebSocket connection both call these functions, so authorisation,
//! validation, limits, moderation, storage and fan-out happen in exactly one place.
//!
//! Floors inside (each imports only from those above it in this list):
//! - [`access`]: who may do what (low: escalation, moderation and privacy use it too);
//! - [`system`]: the one path for system messages (low: escalation uses it too);
//! - [`view`]: a conversation as each viewer sees it, and telling its parties;
//! - [`send`], [`lifecycle`], [`live`], [`notes`], [`continuity`]: the use cases;
//! - [`inactive`]: chats the young person stopped answering (uses [`lifecycle`]).

pub mod access;
pub mod continuity;
pub mod inactive;
pub mod lifecycle;
pub mod live;
pub mod notes;
pub mod send;
pub mod system;
pub mod view;

pub use access::{access, access_of, load_readable, triage_only, Access};
pub use continuity::earlier;
pub use lifecycle::{
    accept, close, end_by_young_person, join_as_supervisor, mark_abuse, open, requeue, return_stranded,
    return_unanswered, transfer,
};
pub use live::{history, mark_read, typing};
pub use notes::{add_note, notes, set_tags};
pub use send::{send, send_message, Sent};
pub use system::{announcement, system_message};
pub use view::view;
