//! Health: what `GET /readyz` answers.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// `GET /readyz` answer.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct ReadyView {
    /// `ready` or `not_ready`.
    pub status: String,
    pub database: String,
    pub broker: String,
    /// The on-call contact's alerts: `ok` (a signed webhook is configured and nothing is
    /// failing), `not_configured` (critical escalations with no supervisor connected reach
    /// nobody), or `failing` (alerts are waiting after a failed delivery). Not a reason to be
    /// not ready: the node still serves chats.
    #[serde(default)]
    pub on_call: String,
    /// What an operator must fix, in words (empty when nothing).
    #[serde(default)]
    pub warnings: Vec<String>,
}
