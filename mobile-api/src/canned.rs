//! Canned replies: short texts the YOT keeps for duty workers and supervisors to put into a
//! chat (`/v1/canned-replies*`). The console fills in the variables before the worker sends.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The variables a canned reply may use, written `{name}` in its body. Any other `{…}` is
/// refused, so a typo never reaches a young person as braces.
pub const CANNED_REPLY_VARIABLES: &[(&str, &str)] = &[
    ("worker_name", "the display name of the worker sending it"),
    ("young_person_name", "the young person's display name in the chat (often a friendly random name)"),
];

/// `POST /v1/canned-replies`, `PUT /v1/canned-replies/{id}` (yot_admin).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedReplyRequest {
    /// What the worker picks it by (1 to 80 characters, unique).
    pub title: String,
    /// The text (1 to 2,000 characters), with variables such as `{worker_name}`.
    pub body: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CannedReplyView {
    pub id: String,
    pub title: String,
    pub body: String,
    pub updated_at: String,
}

/// `GET /v1/canned-replies` answer: by title.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct CannedReplyList {
    pub canned_replies: Vec<CannedReplyView>,
}
