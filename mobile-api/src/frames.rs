//! WebSocket frames (`GET /v1/ws`): what a client sends and what the server sends.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    ConversationId, ConversationView, ErrorCode, EscalationView, MessageId, MessageView, ModerationItemView,
    PendingSurvey, Staffing, UserId, UserView,
};

/// Frames a client sends. Unknown types, unknown fields and wrong field types are answered
/// with `error` `bad_frame`, and the connection stays open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    Subscribe {
        conversation_id: ConversationId,
        /// 0 = from the start.
        #[serde(default)]
        after_seq: i64,
    },
    Unsubscribe {
        conversation_id: ConversationId,
    },
    Send {
        conversation_id: ConversationId,
        client_msg_id: String,
        body: String,
    },
    Typing {
        conversation_id: ConversationId,
    },
    Read {
        conversation_id: ConversationId,
        seq: i64,
    },
    Accept {
        conversation_id: ConversationId,
    },
    Duty {
        on_duty: bool,
    },
    #[serde(rename = "queue.watch")]
    QueueWatch,
    /// Moderators and supervisors: receive `moderation.changed` (an extension of protocol v1).
    #[serde(rename = "moderation.watch")]
    ModerationWatch,
    Ping {
        #[serde(default)]
        #[schema(value_type = Option<Object>)]
        nonce: Option<serde_json::Value>,
    },
    /// A refreshed access token of this connection's own session (an extension): the socket
    /// stays open past the old token's expiry. Answered by `authenticated`.
    Auth {
        access_token: String,
    },
}

impl ClientFrame {
    /// Every client frame `type` (for tables that must cover them all, such as the
    /// authorisation matrix). `type_name` indexes this list with constants in an exhaustive
    /// `match`: a new variant does not compile until it has an arm, and an index past the end
    /// of this list is a compile error (`unconditional_panic`), so the list must grow with it.
    pub const TYPES: [&'static str; 11] = [
        "subscribe",
        "unsubscribe",
        "send",
        "typing",
        "read",
        "accept",
        "duty",
        "queue.watch",
        "moderation.watch",
        "ping",
        "auth",
    ];

    /// The frame's `type`, used as `ref` in errors that answer it.
    pub fn type_name(&self) -> &'static str {
        Self::TYPES[match self {
            ClientFrame::Subscribe { .. } => 0,
            ClientFrame::Unsubscribe { .. } => 1,
            ClientFrame::Send { .. } => 2,
            ClientFrame::Typing { .. } => 3,
            ClientFrame::Read { .. } => 4,
            ClientFrame::Accept { .. } => 5,
            ClientFrame::Duty { .. } => 6,
            ClientFrame::QueueWatch => 7,
            ClientFrame::ModerationWatch => 8,
            ClientFrame::Ping { .. } => 9,
            ClientFrame::Auth { .. } => 10,
        }]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AckStatus {
    Delivered,
    Held,
}

/// One waiting conversation as watching staff see it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct QueueEntry {
    pub conversation_id: ConversationId,
    /// 1 = next to be seen.
    pub priority: u32,
    pub waiting_since: String,
    /// The highest moderation severity seen while waiting (`none` … `critical`).
    pub risk: String,
    pub topic: Option<String>,
    /// The start of the young person's first message (at most
    /// [`QUEUE_PREVIEW_CHARS`](crate::limits::QUEUE_PREVIEW_CHARS) characters), for triage. Queue
    /// watchers are staff, who may read a queued chat anyway. An extension.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preview: Option<String>,
}

/// Frames the server sends.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// Sent only after the message is durably stored.
    Ack {
        client_msg_id: String,
        conversation_id: ConversationId,
        message_id: MessageId,
        seq: Option<i64>,
        status: AckStatus,
    },
    Message(MessageView),
    /// The backlog up to `last_seq` has been sent; what follows is live.
    Subscribed {
        conversation_id: ConversationId,
        last_seq: i64,
    },
    Typing {
        conversation_id: ConversationId,
        user: UserView,
    },
    Read {
        conversation_id: ConversationId,
        user_id: UserId,
        seq: i64,
    },
    Presence {
        user_id: UserId,
        online: bool,
    },
    Conversation(ConversationView),
    Queue {
        conversation_id: ConversationId,
        position: u32,
        /// `null` when nobody is on duty to accept (`staffing` `nobody_on_duty`).
        estimated_wait_s: Option<u32>,
        available_workers: u32,
        /// Who is there to answer now (an extension; see `ConversationView::staffing`).
        staffing: Staffing,
        /// When nobody is on duty: the rota's next shift start, if within 7 days (an extension).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        next_on_duty_at: Option<String>,
    },
    #[serde(rename = "queue.snapshot")]
    QueueSnapshot {
        entries: Vec<QueueEntry>,
    },
    #[serde(rename = "queue.changed")]
    QueueChanged {
        entries: Vec<QueueEntry>,
    },
    /// The caller's duty status after a `duty` frame (an extension of protocol v1).
    Duty {
        on_duty: bool,
    },
    /// A safeguarding escalation, new or changed: to supervisors.
    Escalation(EscalationView),
    /// A survey was sent to the caller (young people; an extension): the same entry as in
    /// `GET /v1/me/surveys`.
    Survey(PendingSurvey),
    /// A moderation item changed (an extension): to watching moderators and supervisors.
    #[serde(rename = "moderation.changed")]
    ModerationChanged {
        item: ModerationItemView,
    },
    /// A delivered message changed (an extension): removed by a moderator, or restored on
    /// appeal. `body` is what to show now.
    #[serde(rename = "message.changed")]
    MessageChanged {
        conversation_id: ConversationId,
        message_id: MessageId,
        seq: i64,
        status: String,
        body: String,
    },
    /// Something the user should know, in plain words (an extension): a held message was
    /// rejected, a warning, a mute. `kind` is machine-readable.
    Notice {
        kind: String,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        conversation_id: Option<ConversationId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<MessageId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        client_msg_id: Option<String>,
    },
    Error {
        code: ErrorCode,
        message: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after_ms: Option<u64>,
        #[serde(rename = "ref", default, skip_serializing_if = "Option::is_none")]
        reference: Option<String>,
    },
    Pong {
        #[serde(default)]
        #[schema(value_type = Option<Object>)]
        nonce: Option<serde_json::Value>,
    },
    /// The monitoring notice at the start of a support chat (an extension), to the young
    /// person while they have not acknowledged its current version.
    #[serde(rename = "monitoring_notice")]
    MonitoringNotice {
        conversation_id: ConversationId,
        version: u32,
        text: String,
    },
    /// The answer to `auth` (an extension): the socket now lives `expires_in` seconds more.
    Authenticated {
        expires_in: u64,
    },
}

impl ServerFrame {
    /// Every server frame `type`; kept complete as [`ClientFrame::TYPES`] is.
    pub const TYPES: [&'static str; 20] = [
        "ack",
        "message",
        "subscribed",
        "typing",
        "read",
        "presence",
        "conversation",
        "queue",
        "queue.snapshot",
        "queue.changed",
        "duty",
        "escalation",
        "survey",
        "moderation.changed",
        "message.changed",
        "notice",
        "error",
        "pong",
        "monitoring_notice",
        "authenticated",
    ];

    /// The frame's `type`.
    pub fn type_name(&self) -> &'static str {
        Self::TYPES[match self {
            ServerFrame::Ack { .. } => 0,
            ServerFrame::Message(_) => 1,
            ServerFrame::Subscribed { .. } => 2,
            ServerFrame::Typing { .. } => 3,
            ServerFrame::Read { .. } => 4,
            ServerFrame::Presence { .. } => 5,
            ServerFrame::Conversation(_) => 6,
            ServerFrame::Queue { .. } => 7,
            ServerFrame::QueueSnapshot { .. } => 8,
            ServerFrame::QueueChanged { .. } => 9,
            ServerFrame::Duty { .. } => 10,
            ServerFrame::Escalation(_) => 11,
            ServerFrame::Survey(_) => 12,
            ServerFrame::ModerationChanged { .. } => 13,
            ServerFrame::MessageChanged { .. } => 14,
            ServerFrame::Notice { .. } => 15,
            ServerFrame::Error { .. } => 16,
            ServerFrame::Pong { .. } => 17,
            ServerFrame::MonitoringNotice { .. } => 18,
            ServerFrame::Authenticated { .. } => 19,
        }]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_frames_round_trip_in_protocol_shape() {
        let f: ClientFrame =
            serde_json::from_str(r#"{"type":"send","conversation_id":"c1","client_msg_id":"m1","body":"hi"}"#).unwrap();
        assert_eq!(
            f,
            ClientFrame::Send { conversation_id: "c1".into(), client_msg_id: "m1".into(), body: "hi".into() }
        );
        let w: ClientFrame = serde_json::from_str(r#"{"type":"queue.watch"}"#).unwrap();
        assert_eq!(w, ClientFrame::QueueWatch);
        let s: ClientFrame = serde_json::from_str(r#"{"type":"subscribe","conversation_id":"c"}"#).unwrap();
        assert_eq!(s, ClientFrame::Subscribe { conversation_id: "c".into(), after_seq: 0 });
    }

    #[test]
    fn client_frames_reject_unknown_fields_types_and_wrong_types() {
        for bad in [
            r#"{"type":"send","conversation_id":"c1","client_msg_id":"m1","body":"hi","x":1}"#,
            r#"{"type":"nope"}"#,
            r#"{"type":"read","conversation_id":"c","seq":"1"}"#,
            r#"{"conversation_id":"c"}"#,
            r#"{"type":"send","conversation_id":"c1","body":"hi"}"#,
            r#"[]"#,
        ] {
            assert!(serde_json::from_str::<ClientFrame>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn server_frames_have_protocol_field_names() {
        let e = ServerFrame::Error {
            code: ErrorCode::RateLimited,
            message: "slow down".into(),
            retry_after_ms: Some(250),
            reference: Some("m1".into()),
        };
        let v = serde_json::to_value(&e).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["code"], "rate_limited");
        assert_eq!(v["retry_after_ms"], 250);
        assert_eq!(v["ref"], "m1");
        let snap = serde_json::to_value(ServerFrame::QueueSnapshot { entries: vec![] }).unwrap();
        assert_eq!(snap["type"], "queue.snapshot");
    }

    #[test]
    fn frame_type_lists_match_serde_and_have_no_duplicates() {
        let sample_client = [
            ClientFrame::QueueWatch,
            ClientFrame::ModerationWatch,
            ClientFrame::Ping { nonce: None },
            ClientFrame::Duty { on_duty: true },
            ClientFrame::Typing { conversation_id: "c".into() },
            ClientFrame::Auth { access_token: "t".into() },
        ];
        for f in &sample_client {
            assert_eq!(serde_json::to_value(f).expect("json")["type"], f.type_name());
        }
        let sample_server = [
            ServerFrame::Pong { nonce: None },
            ServerFrame::Duty { on_duty: false },
            ServerFrame::QueueChanged { entries: vec![] },
            ServerFrame::MonitoringNotice { conversation_id: "c".into(), version: 1, text: "t".into() },
            ServerFrame::Presence { user_id: "u".into(), online: true },
            ServerFrame::Authenticated { expires_in: 900 },
        ];
        for f in &sample_server {
            assert_eq!(serde_json::to_value(f).expect("json")["type"], f.type_name());
        }
        for list in [&ClientFrame::TYPES[..], &ServerFrame::TYPES[..]] {
            let mut sorted = list.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), list.len(), "a type listed twice: {list:?}");
        }
    }
}
