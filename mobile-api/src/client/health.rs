//! Operations: `/healthz`, `/readyz`, `/metrics`, and the OpenAPI document.

use reqwest::{Method, StatusCode};

use super::{error_from, send, Client, ClientError, Result};
use crate::ReadyView;

impl Client {
    /// `GET /healthz`: the process is up (the answer is `ok`).
    pub async fn healthz(&self) -> Result<String> {
        self.get_text("/healthz", None).await
    }

    /// `GET /readyz`: 200 when the database and the broker answer, 503 (with the same body,
    /// saying which is down) when not; both are answers, not errors.
    pub async fn readyz(&self) -> Result<(StatusCode, ReadyView)> {
        let resp = send(self.builder(Method::GET, "/readyz", None)).await?;
        let status = resp.status();
        let bytes = resp.bytes().await.map_err(|e| ClientError::Transport(e.to_string()))?;
        if status.is_success() {
            let view = serde_json::from_slice(&bytes).map_err(|e| ClientError::Decode(e.to_string()))?;
            return Ok((status, view));
        }
        match serde_json::from_slice(&bytes) {
            Ok(view) if status == StatusCode::SERVICE_UNAVAILABLE => Ok((status, view)),
            _ => Err(error_from(status, None, &bytes)),
        }
    }

    /// `GET /metrics`: Prometheus text.
    pub async fn metrics(&self) -> Result<String> {
        self.get_text("/metrics", None).await
    }

    /// `GET /v1/asyncapi.json`: the AsyncAPI document of the WebSocket frames.
    pub async fn asyncapi(&self) -> Result<serde_json::Value> {
        self.call::<(), _>(Method::GET, "/v1/asyncapi.json", None, None).await
    }

    /// `GET /v1/openapi.json`: the OpenAPI document of every REST route.
    pub async fn openapi(&self) -> Result<serde_json::Value> {
        self.call::<(), _>(Method::GET, "/v1/openapi.json", None, None).await
    }
}
