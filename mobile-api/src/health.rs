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
}
