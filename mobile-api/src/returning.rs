//! Coming back to an anonymous account (`/v1/auth/device`, `/v1/auth/recover`,
//! `/v1/me/device-credentials`, `/v1/me/recovery-phrase`): a device-bound credential the app
//! (or the web chat, on the young person's own device) keeps, and a recovery phrase they can
//! write down to continue on another device.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Words in a recovery phrase.
pub const RECOVERY_PHRASE_WORDS: usize = 10;

/// `POST /v1/me/device-credentials`: the credential, shown once. Keep it where only this
/// device can read it (the platform's secure storage; in a browser, `localStorage` only when
/// the young person says the device is their own).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeviceCredentialCreated {
    /// Names the credential for `DELETE /v1/me/device-credentials/{id}`.
    pub id: String,
    /// The secret to sign in with (`POST /v1/auth/device`); the server keeps only a hash.
    pub credential: String,
    pub created_at: String,
    /// Days it lasts unused; every sign-in with it starts the count again.
    pub unused_days: u32,
}

/// A device credential as listed (never its secret).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct DeviceCredentialView {
    pub id: String,
    pub created_at: String,
    pub last_used_at: String,
}

/// `GET /v1/me/device-credentials` (and in the data export).
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct DeviceCredentialList {
    pub credentials: Vec<DeviceCredentialView>,
    /// Whether the account has a recovery phrase (never the phrase).
    pub has_recovery_phrase: bool,
}

/// `POST /v1/auth/device`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceSignIn {
    pub credential: String,
}

/// `POST /v1/me/recovery-phrase`: the phrase, shown once (a new one replaces the old).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct RecoveryPhraseCreated {
    /// [`RECOVERY_PHRASE_WORDS`] words separated by spaces.
    pub phrase: String,
}

/// `POST /v1/auth/recover`: the phrase as written down (any case; spaces, commas or hyphens
/// between the words).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoverRequest {
    pub phrase: String,
}
