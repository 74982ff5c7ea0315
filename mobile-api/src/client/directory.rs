//! The directory of local services: `/v1/services*`, `/v1/conversations/{id}/service-cards`.

use reqwest::Method;

use super::{Client, Result};
use crate::{
    ConversationId, ServiceCardSent, ServiceList, ServiceRequest, ServiceSearchQuery, ServiceView, ShareServiceRequest,
};

impl Client {
    /// `GET /v1/services`: search the directory (any signed-in user).
    pub async fn search_services(&self, token: &str, query: &ServiceSearchQuery) -> Result<ServiceList> {
        self.get_query("/v1/services", token, query).await
    }

    /// `POST /v1/services` (yot_admin).
    pub async fn create_service(&self, token: &str, req: &ServiceRequest) -> Result<ServiceView> {
        self.call(Method::POST, "/v1/services", Some(token), Some(req)).await
    }

    /// `GET /v1/services/{id}`.
    pub async fn service(&self, token: &str, id: &str) -> Result<ServiceView> {
        self.get(&format!("/v1/services/{id}"), token).await
    }

    /// `PUT /v1/services/{id}` (yot_admin): replaces the entry; cards already shared keep theirs.
    pub async fn update_service(&self, token: &str, id: &str, req: &ServiceRequest) -> Result<ServiceView> {
        self.call(Method::PUT, &format!("/v1/services/{id}"), Some(token), Some(req)).await
    }

    /// `POST /v1/services/{id}/retire` (yot_admin): hidden from search and sharing.
    pub async fn retire_service(&self, token: &str, id: &str) -> Result<()> {
        self.call_empty::<()>(Method::POST, &format!("/v1/services/{id}/retire"), Some(token), None).await
    }

    /// `POST /v1/conversations/{id}/service-cards`: share an entry into the chat.
    pub async fn share_service(
        &self,
        token: &str,
        conversation: &ConversationId,
        req: &ShareServiceRequest,
    ) -> Result<ServiceCardSent> {
        self.call(Method::POST, &format!("/v1/conversations/{conversation}/service-cards"), Some(token), Some(req))
            .await
    }
}
