//! Privacy: the monitoring notice, export and erasure, holds and the audit log
//! (`/v1/me/monitoring-notice*`, `/v1/me/export`, `DELETE /v1/me`, `/v1/conversations/{id}/hold*`,
//! `/v1/admin/audit`).

use reqwest::Method;

use super::{Client, Result};
use crate::{
    AcknowledgeNoticeRequest, AuditQuery, AuditTrail, ConversationId, DataExport, DeletionReceipt, HoldRequest,
    HoldState, MonitoringNotice,
};

impl Client {
    /// `GET /v1/me/monitoring-notice` (young_person).
    pub async fn monitoring_notice(&self, token: &str) -> Result<MonitoringNotice> {
        self.get("/v1/me/monitoring-notice", token).await
    }

    /// `POST /v1/me/monitoring-notice/acknowledge` (young_person): only the version in force.
    pub async fn acknowledge_notice(&self, token: &str, req: &AcknowledgeNoticeRequest) -> Result<MonitoringNotice> {
        self.call(Method::POST, "/v1/me/monitoring-notice/acknowledge", Some(token), Some(req)).await
    }

    /// `GET /v1/me/export`: everything held about the caller that is theirs to have.
    pub async fn export_my_data(&self, token: &str) -> Result<DataExport> {
        self.get("/v1/me/export", token).await
    }

    /// `DELETE /v1/me` (young_person, parent_carer): what was deleted and what a hold kept.
    pub async fn delete_me(&self, token: &str) -> Result<DeletionReceipt> {
        self.call::<(), _>(Method::DELETE, "/v1/me", Some(token), None).await
    }

    /// `POST /v1/conversations/{id}/hold` (supervisor).
    pub async fn place_hold(&self, token: &str, id: &ConversationId, req: &HoldRequest) -> Result<HoldState> {
        self.call(Method::POST, &format!("/v1/conversations/{id}/hold"), Some(token), Some(req)).await
    }

    /// `POST /v1/conversations/{id}/hold/release` (supervisor).
    pub async fn lift_hold(&self, token: &str, id: &ConversationId, req: &HoldRequest) -> Result<HoldState> {
        self.call(Method::POST, &format!("/v1/conversations/{id}/hold/release"), Some(token), Some(req)).await
    }

    /// `GET /v1/admin/audit` (yot_admin): the append-only audit log.
    pub async fn audit_log(&self, token: &str, query: &AuditQuery) -> Result<AuditTrail> {
        self.get_query("/v1/admin/audit", token, query).await
    }
}
