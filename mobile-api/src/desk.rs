//! The duty desk: rota and who is on duty (`/v1/desk`, `/v1/rota/shifts*`, `/v1/me/duty`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{UserId, UserView};

/// `PUT /v1/me/duty`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DutyRequest {
    pub on_duty: bool,
}

/// The caller's duty status.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DutyView {
    pub on_duty: bool,
}

/// `POST /v1/rota/shifts` (yot_admin).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ShiftRequest {
    pub user_id: UserId,
    /// RFC 3339.
    pub starts_at: String,
    pub ends_at: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ShiftView {
    pub id: String,
    pub user: UserView,
    pub starts_at: String,
    pub ends_at: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Rota {
    pub shifts: Vec<ShiftView>,
}

/// A worker on the desk now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DeskWorker {
    pub user: UserView,
    pub open_chats: i64,
    pub capacity: i64,
    /// Connected in the last few seconds.
    pub connected: bool,
    /// Hours on duty in the last 24 hours, against the daily cap.
    pub hours_today: f64,
}

/// `GET /v1/desk`: who is on duty now, who is next, and the queue length.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeskView {
    pub on_duty: Vec<DeskWorker>,
    /// Shifts starting in the next 24 hours.
    pub next: Vec<ShiftView>,
    pub queue_length: u32,
    pub max_hours_per_day: f64,
    pub max_hours_per_week: f64,
}
