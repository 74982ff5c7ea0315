//! The Talk Zone client contract, protocol v1 (`shared/design/protocol.md`, documented in
//! `docs/protocol.md`).
//!
//! Layout: one file per resource, each re-exported here so every type is
//! `talkzone_mobile_api::Name` (the modules themselves are private):
//! - this file: the contract map, [`limits`], and the `id_type!` macro behind the ids;
//! - `ids`: [`UserId`], [`ConversationId`], [`MessageId`] and [`Role`];
//! - `auth`: signing in, tokens, the caller's account (`/v1/auth/*`, `/v1/me`, `/v1/ws-ticket`);
//! - `admin`: staff accounts, capacity and the moderation policy (`/v1/admin/*`);
//! - `conversations`: support chats, handing over, closing, tags and notes (`/v1/conversations/*`);
//! - `rooms`: peer rooms and how each is moderated (`/v1/rooms/*`);
//! - `messages`: stored messages and the moderation verdict staff see;
//! - `escalations`: safeguarding escalations and the on-call alert (`/v1/escalations/*`);
//! - `push`: push notifications (the VAPID key, per-device subscriptions, the fixed payload);
//! - `returning`: coming back to an anonymous account (device credentials, recovery phrases);
//! - `privacy`: the monitoring notice, holds, the audit trail, export and erasure;
//! - `desk`: the duty desk, rota and duty status (`/v1/desk`, `/v1/rota/*`, `/v1/me/duty`);
//! - `moderation`: reports, the moderation queue, appeals, user actions, the modlog;
//! - `directory`: the directory of local services and `service_card` messages (`/v1/services*`);
//! - `surveys`: feedback surveys, participants, assignments, responses and reports;
//! - `queries`: the query parameters of the HTTP routes;
//! - `errors`: [`ErrorCode`] and the error body shared by HTTP and the WebSocket;
//! - `health`: what `GET /readyz` answers;
//! - `frames`: WebSocket frames, [`ClientFrame`] and [`ServerFrame`];
//! - `client` (the default `client` feature): a typed async client with a method for every
//!   route (HTTP on reqwest, WebSocket on tokio-tungstenite) used by the tests, the load
//!   generator and any Rust client; its module doc is the route -> method table. Without the
//!   feature this crate is only the types.
//!
//! Nothing here knows about axum or sqlx: a client depends on this crate without the server.

/// Limits that are part of the contract (the server may be configured lower, never higher
/// for body and id lengths).
pub mod limits {
    /// Longest message body, in characters (Unicode scalar values).
    pub const MAX_BODY_CHARS: usize = 4_000;
    /// Longest `client_msg_id`, in characters.
    pub const MAX_CLIENT_MSG_ID_CHARS: usize = 64;
    /// Default largest WebSocket frame, in bytes; larger frames close the socket with 1009.
    pub const DEFAULT_MAX_FRAME_BYTES: usize = 16 * 1024;
    /// Largest page of `GET /v1/conversations/{id}/messages`.
    pub const MAX_PAGE: u32 = 500;
    /// Page size when `limit` is not given.
    pub const DEFAULT_PAGE: u32 = 100;
    /// Longest first-message preview in a queue entry, in characters.
    pub const QUEUE_PREVIEW_CHARS: usize = 140;
    /// Longest canned reply title, in characters.
    pub const MAX_CANNED_TITLE_CHARS: usize = 80;
    /// Longest canned reply body, in characters (a message's limit less room for the
    /// variables' values).
    pub const MAX_CANNED_BODY_CHARS: usize = 2_000;
    /// Most canned replies the service keeps.
    pub const MAX_CANNED_REPLIES: usize = 200;
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub String);

        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(s: &str) -> Self {
                Self(s.to_owned())
            }
        }
    };
}

// Declared after `id_type!` so the macro is in scope in them.
/// A text that names no variant of the enum it should: a stored value the code does not know,
/// or a typo. The enums the server keeps in its database parse with `TryFrom<String>` (the
/// store's edge) and `FromStr`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownVariant {
    /// The enum, e.g. `role`.
    pub of: &'static str,
    pub value: String,
}

impl std::fmt::Display for UnknownVariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?} is not a known {}", self.value, self.of)
    }
}

impl std::error::Error for UnknownVariant {}

/// `TryFrom<String>` and `FromStr` for an enum with `parse(&str) -> Option<Self>`.
macro_rules! parses_from_text {
    ($($t:ty => $of:literal),* $(,)?) => {$(
        impl std::str::FromStr for $t {
            type Err = $crate::UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$t>::parse(s).ok_or_else(|| $crate::UnknownVariant { of: $of, value: s.to_owned() })
            }
        }
        impl TryFrom<String> for $t {
            type Error = $crate::UnknownVariant;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                s.parse()
            }
        }
    )*};
}

parses_from_text!(
    Role => "role",
    ConversationKind => "conversation kind",
    ConversationState => "conversation state",
    MessageKind => "message kind",
    RoomModeration => "room moderation",
    PersonalInfoMode => "personal information mode",
    ClosedReason => "closed reason",
);

mod admin;
mod asyncapi;
mod auth;
mod canned;
mod conversations;
mod desk;
mod directory;
mod errors;
mod escalations;
mod frames;
mod health;
mod ids;
mod messages;
mod moderation;
mod privacy;
mod push;
mod queries;
mod returning;
mod rooms;
mod service_reports;
mod surveys;

#[cfg(feature = "client")]
pub mod client;

pub use admin::*;
pub use asyncapi::asyncapi;
pub use auth::*;
pub use canned::*;
pub use conversations::*;
pub use desk::*;
pub use directory::*;
pub use errors::*;
pub use escalations::*;
pub use frames::*;
pub use health::*;
pub use ids::*;
pub use messages::*;
pub use moderation::*;
pub use privacy::*;
pub use push::*;
pub use queries::*;
pub use returning::*;
pub use rooms::*;
pub use service_reports::*;
pub use surveys::*;
