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
    /// Only when this sign-in set up a second factor: one-time recovery codes, shown this
    /// once (each signs in once in place of a code, if the authenticator is lost).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

/// What `POST /v1/auth/login` answers: the tokens, or (staff) the second step.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
pub enum LoginAnswer {
    Tokens(TokenResponse),
    SecondFactor(SecondFactorRequired),
}

/// The password was right; a second factor is needed (`POST /v1/auth/login/second-factor`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SecondFactorRequired {
    pub second_factor: SecondFactorChallenge,
}

/// The second step of a sign-in.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct SecondFactorChallenge {
    /// Pass it with the code; good for `expires_in` seconds and a few tries.
    pub challenge: String,
    /// `totp`: a code from the authenticator app (or a recovery code). `enrol`: first set one
    /// up with `enrolment`, then send a code from it.
    pub kind: SecondFactorKind,
    pub expires_in: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enrolment: Option<TotpEnrolment>,
    /// The account has a passkey: the second step may be a passkey instead of a code
    /// (`POST /v1/auth/login/passkey/start`, then `POST /v1/auth/login/passkey`).
    #[serde(default)]
    pub passkey: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SecondFactorKind {
    Totp,
    Enrol,
}

/// A TOTP secret to add to an authenticator app (RFC 6238: SHA-1, 6 digits, 30 s).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct TotpEnrolment {
    /// Base32, for typing into the app.
    pub secret: String,
    /// `otpauth://totp/…`, for a QR code or a link on a phone.
    pub otpauth_url: String,
}

/// `POST /v1/auth/login/second-factor`: a 6-digit code, or a recovery code.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SecondFactorRequest {
    pub challenge: String,
    pub code: String,
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

/// `POST /v1/auth/login/passkey/start`: the passkey step of a sign-in, for the challenge the
/// password step gave.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeySignInStart {
    pub challenge: String,
}

/// What a browser passes to WebAuthn: for `navigator.credentials.get` (a sign-in) or
/// `navigator.credentials.create` (a registration). Binary fields are base64url strings, to be
/// decoded into `ArrayBuffer`s before the call.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasskeyOptions {
    /// `{"publicKey": …}`: `PublicKeyCredentialRequestOptions` or `…CreationOptions`.
    #[schema(value_type = Object)]
    pub options: serde_json::Value,
    /// Seconds the options are good for.
    pub expires_in: u64,
}

/// `POST /v1/auth/login/passkey`: the passkey's assertion for the sign-in's challenge.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeySignInFinish {
    pub challenge: String,
    /// The `PublicKeyCredential` that `navigator.credentials.get` gave, as JSON (binary fields
    /// base64url): `id`, `rawId`, `type`, `response` (`authenticatorData`, `clientDataJSON`,
    /// `signature`, `userHandle`), `extensions`.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// `POST /v1/me/passkeys/registration`: the options for `navigator.credentials.create`, and the
/// registration they belong to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasskeyRegistrationStarted {
    /// Pass it back with the new credential; single use, good for `expires_in` seconds.
    pub registration: String,
    #[serde(flatten)]
    pub options: PasskeyOptions,
}

/// `POST /v1/me/passkeys`: the new credential for a registration.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyRegistrationFinish {
    pub registration: String,
    /// What its person calls it ("work laptop"): 1 to 60 characters.
    pub name: String,
    /// The `PublicKeyCredential` that `navigator.credentials.create` gave, as JSON (binary
    /// fields base64url): `id`, `rawId`, `type`, `response` (`attestationObject`,
    /// `clientDataJSON`), `extensions`.
    #[schema(value_type = Object)]
    pub credential: serde_json::Value,
}

/// A passkey of the caller (never its key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

/// `GET /v1/me/passkeys`: the caller's passkeys, oldest first.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PasskeyList {
    pub passkeys: Vec<PasskeyView>,
}
