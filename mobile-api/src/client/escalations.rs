//! Safeguarding escalations: `/v1/conversations/{id}/escalations`, `/v1/escalations*`.

use reqwest::Method;

use super::{Client, Result};
use crate::{
    AuditTrail, ConversationId, EscalationActionRequest, EscalationList, EscalationListQuery, EscalationView,
    RaiseEscalationRequest, ResolveEscalationRequest,
};

impl Client {
    /// `POST /v1/conversations/{id}/escalations` (staff): supervisors are alerted at once.
    pub async fn raise_escalation(
        &self,
        token: &str,
        conversation: &ConversationId,
        req: &RaiseEscalationRequest,
    ) -> Result<EscalationView> {
        self.call(Method::POST, &format!("/v1/conversations/{conversation}/escalations"), Some(token), Some(req)).await
    }

    /// `GET /v1/escalations` (supervisor, yot_admin): newest first, in pages.
    pub async fn list_escalations(&self, token: &str, query: &EscalationListQuery) -> Result<EscalationList> {
        self.get_query("/v1/escalations", token, query).await
    }

    /// `GET /v1/escalations/{id}` (supervisor, yot_admin).
    pub async fn escalation(&self, token: &str, id: &str) -> Result<EscalationView> {
        self.get(&format!("/v1/escalations/{id}"), token).await
    }

    /// `POST /v1/escalations/{id}/acknowledge` (supervisor): one supervisor takes it on.
    pub async fn acknowledge_escalation(&self, token: &str, id: &str) -> Result<EscalationView> {
        self.call::<(), _>(Method::POST, &format!("/v1/escalations/{id}/acknowledge"), Some(token), None).await
    }

    /// `POST /v1/escalations/{id}/actions` (supervisor): record what was done.
    pub async fn add_escalation_action(
        &self,
        token: &str,
        id: &str,
        req: &EscalationActionRequest,
    ) -> Result<EscalationView> {
        self.call(Method::POST, &format!("/v1/escalations/{id}/actions"), Some(token), Some(req)).await
    }

    /// `POST /v1/escalations/{id}/resolve` (supervisor).
    pub async fn resolve_escalation(
        &self,
        token: &str,
        id: &str,
        req: &ResolveEscalationRequest,
    ) -> Result<EscalationView> {
        self.call(Method::POST, &format!("/v1/escalations/{id}/resolve"), Some(token), Some(req)).await
    }

    /// `GET /v1/escalations/{id}/audit` (supervisor, yot_admin): every step, append-only.
    pub async fn escalation_audit(&self, token: &str, id: &str) -> Result<AuditTrail> {
        self.get(&format!("/v1/escalations/{id}/audit"), token).await
    }
}
