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

/// Who is there to answer a waiting chat right now (an extension), from the live desk: workers
/// on duty and connected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Staffing {
    /// Someone on duty has room for another chat.
    Available,
    /// Workers are on duty, all at their capacity: a chat is accepted when one frees up.
    Busy,
    /// Nobody is on duty (or none is connected): the chat waits as a message until someone is.
    NobodyOnDuty,
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
    /// Estimated seconds until a worker accepts, while `queued` and someone is on duty to
    /// accept (`staffing` `available` or `busy`); `null` when nobody is: no number would be
    /// honest then.
    pub estimated_wait_s: Option<u32>,
    /// While `queued` (an extension): who is there to answer now, from the live desk.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub staffing: Option<Staffing>,
    /// While `queued` and nobody is on duty (an extension): when the rota's next shift starts
    /// (RFC 3339), if one starts in the next 7 days. A client shows it in local time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_on_duty_at: Option<String>,
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
    /// Support chats, staff only, while assigned and the worker has not replied yet (an
    /// extension): when the chat goes back to the queue unless the assigned worker replies
    /// (`TALKZONE_ASSIGNMENT_TIMEOUT_S` after it was assigned).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_reply_due_at: Option<String>,
    /// Support chats, staff only, once closed (an extension): who or what closed it, so a worker
    /// can tell a young person who left with the quick exit (maybe interrupted, maybe not safe)
    /// from one who ended the chat or stopped answering. Absent for chats closed before it was
    /// kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closed_reason: Option<ClosedReason>,
}

/// Why a support chat closed (an extension).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ClosedReason {
    /// Staff closed it with an outcome (or marked it as abuse).
    Staff,
    /// The young person ended it ("End chat").
    Ended,
    /// The young person left with the quick exit: they may have been interrupted or not be safe.
    QuickExit,
    /// The young person stopped answering: closed after the worker was told, with a message
    /// that they can come back.
    NoResponse,
}

impl ClosedReason {
    pub fn as_str(self) -> &'static str {
        match self {
            ClosedReason::Staff => "staff",
            ClosedReason::Ended => "ended",
            ClosedReason::QuickExit => "quick_exit",
            ClosedReason::NoResponse => "no_response",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "staff" => Some(Self::Staff),
            "ended" => Some(Self::Ended),
            "quick_exit" => Some(Self::QuickExit),
            "no_response" => Some(Self::NoResponse),
            _ => None,
        }
    }
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

/// `POST /v1/conversations/{id}/end` (an extension): the young person ends their own support
/// chat, queued or assigned. Its outcome is `young_person_left`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EndChatRequest {
    /// Why, for the worker and the service's figures: `ended` (the "End chat" button, the
    /// default) or `quick_exit` (the page's quick exit, which ends only a chat still queued).
    #[serde(default)]
    pub reason: EndReason,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    #[default]
    Ended,
    QuickExit,
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
    /// Tags to add to those the chat already has (none given: its tags stay as they are).
    /// Closing never removes a tag; `PUT /v1/conversations/{id}/tags` replaces them.
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

/// One of a young person's earlier support chats, as the staff who have their current chat see
/// it (`GET /v1/conversations/{id}/earlier`): how it went, never what was said.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct EarlierChat {
    pub id: ConversationId,
    pub created_at: String,
    pub closed_at: Option<String>,
    /// `closed`, or `queued`/`assigned` for one still open (at most the current one's twin).
    pub state: ConversationState,
    pub topic: Option<String>,
    /// The highest moderation severity seen in it.
    pub risk: String,
    pub outcome: Option<String>,
    pub tags: Vec<String>,
    /// The worker who had it last.
    pub worker: Option<UserView>,
}

/// `GET /v1/conversations/{id}/earlier` answer: newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct EarlierChatList {
    pub chats: Vec<EarlierChat>,
}
