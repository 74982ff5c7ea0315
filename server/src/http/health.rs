//! `/healthz` (the process is up), `/readyz` (database and broker answer; whether on-call
//! alerts can reach anyone), `/metrics`.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use talkzone_mobile_api::ReadyView;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::ApiJson;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(healthz)).routes(routes!(readyz)).routes(routes!(metrics))
}

/// `GET /healthz`: the process is up. Roles: anyone.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "ok")))]
async fn healthz() -> &'static str {
    "ok"
}

/// `GET /readyz`: 200 when the database and the broker answer, else 503; `on_call` and
/// `warnings` say whether an escalation can reach the on-call contact (a node without one
/// still serves chats, so it stays ready). Roles: anyone.
#[utoipa::path(get, path = "/readyz", tag = "operations",
    responses((status = 200, body = ReadyView), (status = 503, body = ReadyView)))]
async fn readyz(State(state): State<AppState>) -> (StatusCode, ApiJson<ReadyView>) {
    let db = tokio::time::timeout(std::time::Duration::from_secs(2), state.store.ping()).await;
    let db_ok = matches!(db, Ok(Ok(())));
    let broker_ok = state.broker.healthy().await;
    let ready = db_ok && broker_ok && !state.shutdown.is_cancelled();
    let (on_call, warnings) = crate::on_call::status(&state).await;
    let view = ReadyView {
        status: if ready { "ready" } else { "not_ready" }.into(),
        database: if db_ok { "ok" } else { "unreachable" }.into(),
        broker: if broker_ok { "ok" } else { "unreachable" }.into(),
        on_call: on_call.into(),
        warnings,
    };
    (if ready { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE }, ApiJson(view))
}

/// `GET /metrics`: Prometheus text. Roles: anyone who can reach it (keep it off the public
/// internet at the proxy).
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format")))]
async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    metrics::gauge!("talkzone_hub_connections").set(state.hub.connection_count() as f64);
    let mut text = crate::telemetry::metrics_handle().render();
    // The service levels come from the database; a scrape without them still has the rest.
    match crate::service_levels::render(&state).await {
        Ok(levels) => text.push_str(&levels),
        Err(e) => tracing::warn!(error = %e, "service-level gauges not read"),
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
