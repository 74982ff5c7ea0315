//! What a YOT admin manages: `/v1/admin/users*`, `/v1/admin/moderation/policy*`,
//! `/v1/admin/monitoring-notice*`.

use reqwest::Method;

use super::{json, Client, Result};
use crate::{
    AccountActionRequest, Capacity, CreateUserRequest, NoticeRequest, PasswordResetIssued, PolicyInForce,
    PolicyVersionList, RoleChangeRequest, SessionList, SessionsEnded, StaffAccount, StaffAccountList, UserId, UserView,
};

impl Client {
    /// `GET /v1/admin/users` (yot_admin): every staff account, by name.
    pub async fn list_staff(&self, token: &str) -> Result<StaffAccountList> {
        self.get("/v1/admin/users", token).await
    }

    /// `POST /v1/admin/users` (yot_admin).
    pub async fn create_user(&self, token: &str, req: &CreateUserRequest) -> Result<UserView> {
        self.call(Method::POST, "/v1/admin/users", Some(token), Some(req)).await
    }

    /// `PUT /v1/admin/users/{id}/capacity` (yot_admin).
    pub async fn set_capacity(&self, token: &str, user: &UserId, req: &Capacity) -> Result<Capacity> {
        self.call(Method::PUT, &format!("/v1/admin/users/{user}/capacity"), Some(token), Some(req)).await
    }

    /// `GET /v1/admin/moderation/policy` (yot_admin): the policy in force, as TOML.
    pub async fn moderation_policy(&self, token: &str) -> Result<String> {
        self.get_text("/v1/admin/moderation/policy", Some(token)).await
    }

    /// `PUT /v1/admin/moderation/policy` (yot_admin): replaces the policy with `toml`, which
    /// must pass the server's checks first.
    pub async fn replace_moderation_policy(&self, token: &str, toml: &str) -> Result<PolicyInForce> {
        let req = self
            .builder(Method::PUT, "/v1/admin/moderation/policy", Some(token))
            .header(reqwest::header::CONTENT_TYPE, "application/toml")
            .body(toml.to_owned());
        json(req).await
    }

    /// `GET /v1/admin/moderation/policy/versions` (yot_admin): every stored version, newest
    /// first.
    pub async fn moderation_policy_versions(&self, token: &str) -> Result<PolicyVersionList> {
        self.get("/v1/admin/moderation/policy/versions", token).await
    }

    /// `POST /v1/admin/moderation/policy/versions/{version}/restore` (yot_admin): puts an
    /// earlier version back in force, as a new version.
    pub async fn restore_moderation_policy(&self, token: &str, version: i64) -> Result<PolicyInForce> {
        let path = format!("/v1/admin/moderation/policy/versions/{version}/restore");
        self.call(Method::POST, &path, Some(token), None::<&()>).await
    }

    /// `GET /v1/admin/monitoring-notice/versions` (yot_admin): every stored version of the
    /// monitoring notice, newest first.
    pub async fn monitoring_notice_versions(&self, token: &str) -> Result<PolicyVersionList> {
        self.get("/v1/admin/monitoring-notice/versions", token).await
    }

    /// `PUT /v1/admin/monitoring-notice` (yot_admin): a new version of the notice.
    pub async fn replace_monitoring_notice(&self, token: &str, req: &NoticeRequest) -> Result<PolicyInForce> {
        self.call(Method::PUT, "/v1/admin/monitoring-notice", Some(token), Some(req)).await
    }

    /// `GET /v1/admin/users/{id}/sessions` (yot_admin): a staff account's live sessions.
    pub async fn user_sessions(&self, token: &str, user: &UserId) -> Result<SessionList> {
        self.get(&format!("/v1/admin/users/{user}/sessions"), token).await
    }

    /// `DELETE /v1/admin/users/{id}/sessions` (yot_admin): ends every session of the account.
    pub async fn end_user_sessions(&self, token: &str, user: &UserId) -> Result<SessionsEnded> {
        self.call::<(), _>(Method::DELETE, &format!("/v1/admin/users/{user}/sessions"), Some(token), None).await
    }

    /// `DELETE /v1/admin/users/{id}/sessions/{session_id}` (yot_admin): ends one session.
    pub async fn end_user_session(&self, token: &str, user: &UserId, session_id: &str) -> Result<()> {
        let path = format!("/v1/admin/users/{user}/sessions/{session_id}");
        self.call_empty::<()>(Method::DELETE, &path, Some(token), None).await
    }

    /// `POST /v1/admin/users/{id}/suspend` (yot_admin).
    pub async fn suspend_user(&self, token: &str, user: &UserId, req: &AccountActionRequest) -> Result<StaffAccount> {
        self.call(Method::POST, &format!("/v1/admin/users/{user}/suspend"), Some(token), Some(req)).await
    }

    /// `POST /v1/admin/users/{id}/reactivate` (yot_admin).
    pub async fn reactivate_user(
        &self,
        token: &str,
        user: &UserId,
        req: &AccountActionRequest,
    ) -> Result<StaffAccount> {
        self.call(Method::POST, &format!("/v1/admin/users/{user}/reactivate"), Some(token), Some(req)).await
    }

    /// `POST /v1/admin/users/{id}/offboard` (yot_admin).
    pub async fn offboard_user(&self, token: &str, user: &UserId, req: &AccountActionRequest) -> Result<StaffAccount> {
        self.call(Method::POST, &format!("/v1/admin/users/{user}/offboard"), Some(token), Some(req)).await
    }

    /// `PUT /v1/admin/users/{id}/role` (yot_admin).
    pub async fn change_role(&self, token: &str, user: &UserId, req: &RoleChangeRequest) -> Result<StaffAccount> {
        self.call(Method::PUT, &format!("/v1/admin/users/{user}/role"), Some(token), Some(req)).await
    }

    /// `POST /v1/admin/users/{id}/password-reset` (yot_admin): a one-time code, shown once.
    pub async fn issue_password_reset(&self, token: &str, user: &UserId) -> Result<PasswordResetIssued> {
        self.call::<(), _>(Method::POST, &format!("/v1/admin/users/{user}/password-reset"), Some(token), None).await
    }
}
