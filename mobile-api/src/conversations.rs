//! Support chats: opening, listing, handing over and closing them, tags and notes
//! (`/v1/conversations/*`, `/v1/outcomes`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{ConversationId, MonitoringNotice, RoomInfo, UserId, UserView};

/// `POST /v1/conversations` (young_person).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateConversationRequest {
    #[serde(default)]
    pub topic: Option<String>,
    /// Stored as the first message of the conversation (same checks as `send`).
    #[serde(default)]
    pub first_message: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    Support,
    Room,
}

impl ConversationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::Support => "support",
            ConversationKind::Room => "room",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "support" => Some(Self::Support),
            "room" => Some(Self::Room),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversationState {
    Queued,
    Assigned,
    Closed,
    /// Peer rooms while they run (an extension of protocol v1).
    Open,
}

impl ConversationState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationState::Queued => "queued",
            ConversationState::Assigned => "assigned",
            ConversationState::Closed => "closed",
            ConversationState::Open => "open",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "queued" => Some(Self::Queued),
            "assigned" => Some(Self::Assigned),
            "closed" => Some(Self::Closed),
            "open" => Some(Self::Open),
            _ => None,
        }
    }
}

/// A conversation as its participants and staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ConversationView {
    pub id: ConversationId,
    pub kind: ConversationKind,
    pub state: ConversationState,
    pub topic: Option<String>,
    pub created_at: String,
    /// The young person the support chat belongs to.
    pub young_person: Option<UserView>,
    /// The worker the chat is assigned to, once accepted.
    pub assigned_to: Option<UserView>,
    /// 1-based place in the queue while `queued`.
    pub queue_position: Option<u32>,
    /// Estimated seconds until a worker accepts, while `queued`.
    pub estimated_wait_s: Option<u32>,
    /// The highest `seq` stored so far (0 when empty).
    pub last_seq: i64,
    /// Support chats: the highest moderation severity seen (staff see it; the queue is ordered
    /// by it). An extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk: Option<String>,
    /// How it ended (`closed` only; staff only, like `risk` and `tags`: an outcome such as
    /// `safeguarding_referral` is not for whoever holds the young person's phone). An extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
    /// Support chats, staff only: the tags workers gave it (`PUT /v1/conversations/{id}/tags`,
    /// or on closing). An extension.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// Peer rooms only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<RoomInfo>,
    /// Support chats, to their young person only (an extension): who may read this chat, in
    /// plain words, with the version to acknowledge (`POST /v1/me/monitoring-notice/acknowledge`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring_notice: Option<MonitoringNotice>,
}

/// `GET /v1/conversations` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ConversationList {
    pub conversations: Vec<ConversationView>,
    /// Extension: more match; ask again with `offset` set to this. Absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_offset: Option<u32>,
}

// ---------------------------------------------------------------------------------------------
// Handing over and closing support chats
// ---------------------------------------------------------------------------------------------

/// `POST /v1/conversations/{id}/transfer`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    pub to: UserId,
    pub reason: String,
}

/// `POST /v1/conversations/{id}/requeue`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequeueRequest {
    pub reason: String,
}

/// `POST /v1/conversations/{id}/abuse` (supervisor): the chat is closed and the address it
/// came from may open no chat and make no sign-up for `block_hours` (1 to 168; 24 if left out).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkAbuseRequest {
    pub reason: String,
    #[serde(default)]
    pub block_hours: Option<u32>,
}

/// `POST /v1/conversations/{id}/close`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseRequest {
    /// One of the configured outcomes (`GET /v1/outcomes`).
    pub outcome: String,
    #[serde(default)]
    pub tags: Vec<String>,
}

/// `PUT /v1/conversations/{id}/tags`: replaces the chat's tags (staff only; up to 20, each 1 to
/// 40 characters without commas or control characters).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TagsRequest {
    pub tags: Vec<String>,
}

/// `POST /v1/conversations/{id}/notes`: staff only, never shown to the young person.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NoteView {
    pub id: String,
    pub author: UserView,
    pub body: String,
    pub created_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct NoteList {
    pub notes: Vec<NoteView>,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct OutcomeList {
    pub outcomes: Vec<String>,
}
