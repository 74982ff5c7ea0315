//! Reports and the moderation queue: `/v1/reports`, `/v1/moderation/*`.

use reqwest::Method;

use super::{Client, Result};
use crate::{
    AppealDecisionRequest, AppealRequest, BulkDecisionRequest, BulkDecisionResult, DecisionRequest, MessageId,
    ModerationContext, ModerationItemView, ModerationLog, ModerationQueue, ReportReceipt, ReportRequest,
    UserActionRequest, UserId, VerdictMarkReport, VerdictMarkRequest, VerdictMarkView,
};

impl Client {
    /// `POST /v1/reports`: report a message the caller can see, or a user.
    pub async fn create_report(&self, token: &str, req: &ReportRequest) -> Result<ReportReceipt> {
        self.call(Method::POST, "/v1/reports", Some(token), Some(req)).await
    }

    /// `GET /v1/moderation/queue` (moderator, supervisor).
    pub async fn moderation_queue(&self, token: &str) -> Result<ModerationQueue> {
        self.get("/v1/moderation/queue", token).await
    }

    /// `POST /v1/moderation/items/{id}/claim` (moderator, supervisor).
    pub async fn claim_item(&self, token: &str, id: &str) -> Result<ModerationItemView> {
        self.call::<(), _>(Method::POST, &format!("/v1/moderation/items/{id}/claim"), Some(token), None).await
    }

    /// `GET /v1/moderation/items/{id}/context` (moderator, supervisor): the messages around it.
    pub async fn moderation_context(&self, token: &str, id: &str) -> Result<ModerationContext> {
        self.get(&format!("/v1/moderation/items/{id}/context"), token).await
    }

    /// `POST /v1/moderation/items/{id}/decision` (moderator, supervisor).
    pub async fn decide_item(&self, token: &str, id: &str, req: &DecisionRequest) -> Result<ModerationItemView> {
        self.call(Method::POST, &format!("/v1/moderation/items/{id}/decision"), Some(token), Some(req)).await
    }

    /// `POST /v1/moderation/bulk` (moderator, supervisor): one decision for many items.
    pub async fn decide_bulk(&self, token: &str, req: &BulkDecisionRequest) -> Result<BulkDecisionResult> {
        self.call(Method::POST, "/v1/moderation/bulk", Some(token), Some(req)).await
    }

    /// `POST /v1/moderation/items/{id}/appeal` (the sender or the reported user, once).
    pub async fn appeal_item(&self, token: &str, id: &str, req: &AppealRequest) -> Result<ReportReceipt> {
        self.call(Method::POST, &format!("/v1/moderation/items/{id}/appeal"), Some(token), Some(req)).await
    }

    /// `POST /v1/moderation/items/{id}/appeal/decision` (a moderator other than the first).
    pub async fn decide_appeal(
        &self,
        token: &str,
        id: &str,
        req: &AppealDecisionRequest,
    ) -> Result<ModerationItemView> {
        self.call(Method::POST, &format!("/v1/moderation/items/{id}/appeal/decision"), Some(token), Some(req)).await
    }

    /// `POST /v1/moderation/users/{id}/actions` (moderator, supervisor): warn, mute, suspend, ….
    pub async fn act_on_user(&self, token: &str, user: &UserId, req: &UserActionRequest) -> Result<()> {
        self.call_empty(Method::POST, &format!("/v1/moderation/users/{user}/actions"), Some(token), Some(req)).await
    }

    /// `GET /v1/moderation/log` (moderator, supervisor, yot_admin).
    pub async fn moderation_log(&self, token: &str) -> Result<ModerationLog> {
        self.get("/v1/moderation/log", token).await
    }

    /// `POST /v1/messages/{id}/verdict-mark` (duty_worker, supervisor, moderator): the
    /// moderation verdict on a message the caller can read was wrong, and what it should be.
    pub async fn mark_verdict(
        &self,
        token: &str,
        message: &MessageId,
        req: &VerdictMarkRequest,
    ) -> Result<VerdictMarkView> {
        self.call(Method::POST, &format!("/v1/messages/{message}/verdict-mark"), Some(token), Some(req)).await
    }

    /// `GET /v1/admin/verdict-marks/report` (yot_admin): the classifier in force on the marked
    /// messages.
    pub async fn verdict_mark_report(&self, token: &str) -> Result<VerdictMarkReport> {
        self.get("/v1/admin/verdict-marks/report", token).await
    }

    /// `GET /v1/admin/verdict-marks/export` (yot_admin): the marked messages as JSON Lines.
    pub async fn verdict_mark_export(&self, token: &str) -> Result<String> {
        self.get_text("/v1/admin/verdict-marks/export", Some(token)).await
    }
}
