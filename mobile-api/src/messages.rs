//! Stored messages as clients see them, with the moderation verdict staff see
//! (`/v1/conversations/{id}/messages`, and the `message` frame).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{ConversationId, MessageId, UserView};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    Text,
    System,
    ServiceCard,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Text => "text",
            MessageKind::System => "system",
            MessageKind::ServiceCard => "service_card",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "text" => Some(Self::Text),
            "system" => Some(Self::System),
            "service_card" => Some(Self::ServiceCard),
            _ => None,
        }
    }
}

/// One stored message; also the payload of the `message` frame.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct MessageView {
    pub conversation_id: ConversationId,
    /// Per conversation, from 1, without gaps.
    pub seq: i64,
    pub message_id: MessageId,
    /// The sender's id for this message; `null` for system messages.
    pub client_msg_id: Option<String>,
    /// `null` for system messages (`kind: system`).
    pub sender: Option<UserView>,
    /// Plain text, never HTML.
    pub body: String,
    pub sent_at: String,
    pub kind: MessageKind,
    /// True when a moderator removed the message; `body` is then a placeholder (extension).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub removed: bool,
    /// Staff only (an extension): what the moderation step found in this message, and why.
    /// Never sent to young people or parents/carers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moderation: Option<ModerationSummary>,
}

/// The moderation verdict on a message, as staff see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ModerationSummary {
    /// `none`, `low`, `medium`, `high` or `critical`.
    pub severity: String,
    pub labels: Vec<String>,
    /// Each rule that fired, with the words that matched.
    pub flags: Vec<ModerationFlag>,
    /// Personal information found (kind and text).
    pub pii: Vec<PiiFound>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ModerationFlag {
    pub category: String,
    pub severity: String,
    pub rule: String,
    pub matched: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PiiFound {
    pub kind: String,
    pub text: String,
}

/// `GET /v1/conversations/{id}/messages` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct MessagesPage {
    pub messages: Vec<MessageView>,
    /// Pass as `after_seq` for the next page; equal to the request's `after_seq` when empty.
    pub next_after_seq: i64,
}
