//! Canned replies: `/v1/canned-replies*`.

use reqwest::Method;

use super::{Client, Result};
use crate::{CannedReplyList, CannedReplyRequest, CannedReplyView};

impl Client {
    /// `GET /v1/canned-replies` (duty_worker, supervisor, yot_admin): every one, by title.
    pub async fn list_canned_replies(&self, token: &str) -> Result<CannedReplyList> {
        self.get("/v1/canned-replies", token).await
    }

    /// `POST /v1/canned-replies` (yot_admin).
    pub async fn create_canned_reply(&self, token: &str, req: &CannedReplyRequest) -> Result<CannedReplyView> {
        self.call(Method::POST, "/v1/canned-replies", Some(token), Some(req)).await
    }

    /// `PUT /v1/canned-replies/{id}` (yot_admin): replaces its title and body.
    pub async fn update_canned_reply(
        &self,
        token: &str,
        id: &str,
        req: &CannedReplyRequest,
    ) -> Result<CannedReplyView> {
        self.call(Method::PUT, &format!("/v1/canned-replies/{id}"), Some(token), Some(req)).await
    }

    /// `DELETE /v1/canned-replies/{id}` (yot_admin).
    pub async fn delete_canned_reply(&self, token: &str, id: &str) -> Result<()> {
        self.call_empty::<()>(Method::DELETE, &format!("/v1/canned-replies/{id}"), Some(token), None).await
    }
}
