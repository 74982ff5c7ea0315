//! Signing in, tokens, sessions and the caller's own account (`/v1/auth/*`, `/v1/me`,
//! `/v1/me/password`, `/v1/me/sessions`, `/v1/ws-ticket`).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Role, UserId};

/// A user as others see them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct UserView {
    pub id: UserId,
    pub role: Role,
    pub display_name: String,
}

/// `POST /v1/auth/anonymous` takes an empty object.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnonymousRequest {}

/// `POST /v1/auth/login`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

/// `POST /v1/auth/refresh` and `POST /v1/auth/logout`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// The answer of every route that signs a user in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenResponse {
    /// A JWT to send as `Authorization: Bearer …`.
    pub access_token: String,
    /// Single use: each refresh returns a new one; reusing an old one revokes the family.
    pub refresh_token: String,
    /// Seconds until the access token expires.
    pub expires_in: u64,
    pub user: UserView,
}

/// `POST /v1/me/password`: every session of the account ends (tokens refused, sockets closed).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    pub current_password: String,
    pub new_password: String,
}

/// `POST /v1/auth/password-reset`: a new password with the one-time code an admin gave.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    pub code: String,
    pub new_password: String,
}

/// `POST /v1/ws-ticket`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WsTicketResponse {
    /// Pass as `GET /v1/ws?ticket=…`; single use.
    pub ticket: String,
    pub expires_in: u64,
}

/// A session: one sign-in (`GET /v1/me/sessions`, `GET /v1/admin/users/{id}/sessions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionView {
    pub id: String,
    pub created_at: String,
    /// When it was last used (a request, a refresh), to the minute.
    pub last_seen_at: Option<String>,
    /// When it ends unless it is used again (its refresh token's expiry).
    pub expires_at: String,
    /// The device's user agent (staff and registered accounts; never for anonymous accounts).
    pub user_agent: Option<String>,
    /// The address it signed in from (staff and registered accounts; never for anonymous ones).
    pub source_ip: Option<String>,
    /// How it signed in: `password`, `password+totp`, `recovery_code`, `oidc` or `anonymous`.
    pub method: String,
    /// True for the session of the token making the request.
    pub current: bool,
}

/// A list of live sessions, newest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionView>,
}

/// How many sessions a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SessionsEnded {
    pub ended: u64,
}
