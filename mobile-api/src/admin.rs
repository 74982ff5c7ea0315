//! What a YOT admin manages: staff accounts, their capacity, the moderation policy
//! (`/v1/admin/*`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Role, UserId};

/// `POST /v1/admin/users` (yot_admin).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUserRequest {
    pub username: String,
    pub password: String,
    pub role: Role,
    #[serde(default)]
    pub display_name: Option<String>,
}

/// `PUT /v1/admin/users/{id}/capacity` (yot_admin), and its answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Capacity {
    /// Chats the worker takes at once (1 to 20; default 3).
    pub capacity: i64,
}

/// `PUT /v1/admin/moderation/policy`: the new policy passed its checks and is in force.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyInForce {
    /// Always `in_force`.
    pub status: String,
    /// Its version: every node changes over to it within a second.
    pub version: i64,
}

/// One version of a policy (`GET /v1/admin/moderation/policy/versions`,
/// `GET /v1/admin/monitoring-notice/versions`), newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyVersion {
    pub version: i64,
    /// The moderation policy's TOML, or the notice's text.
    pub body: String,
    pub created_at: String,
    /// The admin who put it in force; absent for what the service did itself (an import).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_by: Option<crate::UserId>,
    /// Why it was made, e.g. `restored from version 3`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// The version every node uses now.
    pub in_force: bool,
}

/// Every stored version of a policy, newest first. Version 0, the built-in one, is not
/// stored: it is in force while the list is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PolicyVersionList {
    pub versions: Vec<PolicyVersion>,
}

/// `PUT /v1/admin/monitoring-notice`: a new version of the notice young people are shown at
/// the start of a support chat (plain words, 1 to 2,000 characters).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoticeRequest {
    pub text: String,
}

/// A staff account, as a YOT admin manages it (`GET /v1/admin/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StaffAccount {
    pub id: UserId,
    pub username: Option<String>,
    pub role: Role,
    pub display_name: String,
    pub on_duty: bool,
    /// Chats at once (duty workers and supervisors).
    pub capacity: i64,
    pub suspended: bool,
    /// Offboarded: can never sign in again; the name stays on the records it made.
    pub offboarded: bool,
    /// A second factor is enrolled.
    pub second_factor: bool,
    pub created_at: String,
}

/// `POST /v1/admin/users/{id}/suspend`, `/reactivate`, `/offboard` (yot_admin): why, for the
/// audit log.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AccountActionRequest {
    /// 1 to 500 characters when given.
    #[serde(default)]
    pub reason: Option<String>,
}

/// `PUT /v1/admin/users/{id}/role` (yot_admin): a staff role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChangeRequest {
    pub role: Role,
}

/// `POST /v1/admin/users/{id}/password-reset` (yot_admin): a one-time code, shown this once.
/// Give the person the link (`path` on this server), never a password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PasswordResetIssued {
    pub code: String,
    /// Where the person sets their new password with it: `/console#reset=<code>`.
    pub path: String,
    pub expires_at: String,
}

/// `GET /v1/admin/users`: every staff account, by name.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct StaffAccountList {
    pub accounts: Vec<StaffAccount>,
}
