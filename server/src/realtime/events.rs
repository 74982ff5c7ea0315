//! What the hub delivers and the broker carries between nodes.

use serde::{Deserialize, Serialize};
use talkzone_mobile_api::{ConversationId, MessageView, Role, ServerFrame, UserId};

use crate::model::PolicyKind;

/// Something to deliver, on this node or (through the broker) on every node.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum Event {
    /// A stored message, with its moderation verdict: to the subscribers of its conversation
    /// (staff get the verdict; everyone else the message without it).
    Message(MessageView),
    /// An ephemeral or state frame for the subscribers of a conversation.
    ToConversation { conversation_id: ConversationId, frame: ServerFrame, except_user: Option<UserId> },
    /// A frame for every connection of one user.
    ToUser { user_id: UserId, frame: ServerFrame },
    /// A frame for staff watching the queue.
    ToQueueWatchers { frame: ServerFrame },
    /// A frame for moderators watching the moderation queue.
    ToModerationWatchers { frame: ServerFrame },
    /// A frame for every connection of users with one of these roles (escalations to
    /// supervisors).
    ToRoles { roles: Vec<Role>, frame: ServerFrame },
    /// Close every connection of a user: all their sessions ended (suspension, offboarding, a
    /// new role or password, erasure).
    DisconnectUser { user_id: UserId },
    /// Close the connections of one session of a user (signed out, ended by its person or an
    /// admin, its refresh token reused).
    DisconnectSession { user_id: UserId, session_id: String },
    /// The conversation left the queue: end the triage subscriptions of workers who are not
    /// `keep_user` (they no longer have access).
    EndTriage { conversation_id: ConversationId, keep_user: UserId },
    /// A new version of a policy is in the database: every node reloads it now rather than
    /// at its next regular look (the database stays the truth if this event is lost).
    PolicyChanged { kind: PolicyKind },
}
