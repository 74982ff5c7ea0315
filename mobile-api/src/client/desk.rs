//! The duty desk: `/v1/me/duty`, `/v1/desk`, `/v1/rota/shifts*`.

use reqwest::Method;

use super::{Client, Result};
use crate::{DeskView, DutyRequest, DutyView, Rota, RotaQuery, ShiftRequest, ShiftView};

impl Client {
    /// `PUT /v1/me/duty`.
    pub async fn set_duty(&self, token: &str, on_duty: bool) -> Result<DutyView> {
        self.call(Method::PUT, "/v1/me/duty", Some(token), Some(&DutyRequest { on_duty })).await
    }

    /// `GET /v1/desk` (staff): who is on duty now, who is next, how many are waiting.
    pub async fn desk(&self, token: &str) -> Result<DeskView> {
        self.get("/v1/desk", token).await
    }

    /// `GET /v1/rota/shifts` (staff): shifts overlapping `from`–`to`.
    pub async fn rota(&self, token: &str, query: &RotaQuery) -> Result<Rota> {
        self.get_query("/v1/rota/shifts", token, query).await
    }

    /// `POST /v1/rota/shifts` (yot_admin).
    pub async fn add_shift(&self, token: &str, req: &ShiftRequest) -> Result<ShiftView> {
        self.call(Method::POST, "/v1/rota/shifts", Some(token), Some(req)).await
    }

    /// `DELETE /v1/rota/shifts/{id}` (yot_admin).
    pub async fn remove_shift(&self, token: &str, id: &str) -> Result<()> {
        self.call_empty::<()>(Method::DELETE, &format!("/v1/rota/shifts/{id}"), Some(token), None).await
    }
}
