//! Peer rooms (kind `room`, an extension of protocol v1): how each is moderated (`/v1/rooms/*`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::ConversationView;

/// How a room works (kind `room`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct RoomInfo {
    pub age_band: String,
    pub moderation: RoomModeration,
    pub personal_info: PersonalInfoMode,
    /// Whether the caller is a member.
    pub joined: bool,
    /// The room's house rules in plain words, from its settings (an extension): shown to a
    /// young person when they join, and kept at hand in the room.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub house_rules: Vec<String>,
}

/// `pre`: every message is held until a moderator approves it. `post`: only flagged ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoomModeration {
    Pre,
    Post,
}

impl RoomModeration {
    pub fn as_str(self) -> &'static str {
        match self {
            RoomModeration::Pre => "pre",
            RoomModeration::Post => "post",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "pre" => Some(Self::Pre),
            "post" => Some(Self::Post),
            _ => None,
        }
    }
}

/// What happens to personal information (phone numbers, addresses, …) in a room message:
/// held for a moderator, or delivered with it redacted. Never shown to other members.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PersonalInfoMode {
    Hold,
    Redact,
}

impl PersonalInfoMode {
    pub fn as_str(self) -> &'static str {
        match self {
            PersonalInfoMode::Hold => "hold",
            PersonalInfoMode::Redact => "redact",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "hold" => Some(Self::Hold),
            "redact" => Some(Self::Redact),
            _ => None,
        }
    }
}

/// `POST /v1/rooms` (yot_admin).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoomRequest {
    pub topic: String,
    /// e.g. `13-15`.
    pub age_band: String,
    pub moderation: RoomModeration,
    #[serde(default = "default_pii_mode")]
    pub personal_info: PersonalInfoMode,
}

fn default_pii_mode() -> PersonalInfoMode {
    PersonalInfoMode::Hold
}

/// `GET /v1/rooms` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RoomList {
    pub rooms: Vec<ConversationView>,
}
