//! Coming back to an anonymous account: `/v1/auth/device`, `/v1/auth/recover`,
//! `/v1/me/device-credentials`, `/v1/me/recovery-phrase`.

use reqwest::Method;

use super::{Client, Result};
use crate::{
    DeviceCredentialCreated, DeviceCredentialList, DeviceSignIn, RecoverRequest, RecoveryPhraseCreated, TokenResponse,
};

impl Client {
    /// `POST /v1/auth/device`: a new session on the account the credential belongs to.
    pub async fn sign_in_with_device(&self, credential: &str) -> Result<TokenResponse> {
        let req = DeviceSignIn { credential: credential.into() };
        self.call(Method::POST, "/v1/auth/device", None, Some(&req)).await
    }

    /// `POST /v1/auth/recover`: a new session on the account the recovery phrase belongs to.
    pub async fn recover(&self, phrase: &str) -> Result<TokenResponse> {
        let req = RecoverRequest { phrase: phrase.into() };
        self.call(Method::POST, "/v1/auth/recover", None, Some(&req)).await
    }

    /// `GET /v1/me/device-credentials`: the devices that remember the caller.
    pub async fn device_credentials(&self, token: &str) -> Result<DeviceCredentialList> {
        self.get("/v1/me/device-credentials", token).await
    }

    /// `POST /v1/me/device-credentials`: a credential for this device, shown once.
    pub async fn create_device_credential(&self, token: &str) -> Result<DeviceCredentialCreated> {
        self.call::<(), _>(Method::POST, "/v1/me/device-credentials", Some(token), None).await
    }

    /// `DELETE /v1/me/device-credentials/{id}`: forgets a device.
    pub async fn forget_device_credential(&self, token: &str, id: &str) -> Result<()> {
        self.call_empty::<()>(Method::DELETE, &format!("/v1/me/device-credentials/{id}"), Some(token), None).await
    }

    /// `POST /v1/me/recovery-phrase`: a new recovery phrase, shown once (the old one stops working).
    pub async fn create_recovery_phrase(&self, token: &str) -> Result<RecoveryPhraseCreated> {
        self.call::<(), _>(Method::POST, "/v1/me/recovery-phrase", Some(token), None).await
    }

    /// `DELETE /v1/me/recovery-phrase`: the phrase stops working.
    pub async fn remove_recovery_phrase(&self, token: &str) -> Result<()> {
        self.call_empty::<()>(Method::DELETE, "/v1/me/recovery-phrase", Some(token), None).await
    }
}
