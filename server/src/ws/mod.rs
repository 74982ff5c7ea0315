//! `GET /v1/ws`: authenticates before the upgrade (bearer token, or a single-use ticket for
//! browsers), checks the `Origin` of browser connections against the allowed list (axum does
//! not), sizes tungstenite's buffers and limits, then hands the socket to a connection task.

mod connection;

use std::net::SocketAddr;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::auth::AuthUser;
use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
pub struct WsQuery {
    ticket: Option<String>,
}

/// Checks a browser's `Origin`. Native clients send none and authenticate with a header.
pub fn origin_allowed(headers: &HeaderMap, allowed: &[String]) -> bool {
    match headers.get(axum::http::header::ORIGIN) {
        None => true,
        Some(v) => v
            .to_str()
            .ok()
            .and_then(crate::config::normalise_origin)
            .is_some_and(|o| allowed.iter().any(|a| a == &o)),
    }
}

async fn authenticate(state: &AppState, headers: &HeaderMap, ticket: Option<&str>) -> Result<AuthUser, ApiError> {
    let bearer = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    match (bearer, ticket) {
        (Some(token), _) => state.auth.authenticate(token.trim()).await,
        (None, Some(ticket)) => state.auth.redeem_ticket(ticket).await,
        (None, None) => Err(ApiError::Unauthorized("authenticate with a bearer token or ?ticket=")),
    }
}

/// `GET /v1/ws`.
pub async fn upgrade(
    State(state): State<AppState>,
    ConnectInfo(_peer): ConnectInfo<SocketAddr>,
    Query(query): Query<WsQuery>,
    headers: HeaderMap,
    ws: Result<WebSocketUpgrade, axum::extract::ws::rejection::WebSocketUpgradeRejection>,
) -> Response {
    if !origin_allowed(&headers, &state.config.allowed_origins) {
        return ApiError::Forbidden("this origin may not open a connection").into_response();
    }
    let user = match authenticate(&state, &headers, query.ticket.as_deref()).await {
        Ok(u) => u,
        Err(e) => return e.into_response(),
    };
    let ws = match ws {
        Ok(ws) => ws,
        Err(_) => return ApiError::BadRequest("this route needs a WebSocket upgrade".into()).into_response(),
    };
    let max = state.config.limits.ws_max_frame_bytes;
    // tungstenite's defaults (128 KiB read buffer, 64 MiB messages) would let one socket
    // hold megabytes; these keep an idle connection to a few KiB.
    ws.max_message_size(max)
        .max_frame_size(max)
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(max * 4)
        .on_failed_upgrade(|e| tracing::debug!(error = %e, "websocket upgrade failed"))
        .on_upgrade(move |socket| connection::run(state, user, socket))
}
