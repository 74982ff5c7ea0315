//! Service reports (docs/reports.md): `/v1/admin/service-report` for supervisors and the YOT admin.

use axum::extract::State;
use axum::response::Response;
use talkzone_mobile_api::{ErrorBody, ServiceReport, ServiceReportQuery};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiQuery};
use crate::auth::AuthUser;
use crate::error::ApiResult;
use crate::model::{AuditAction, AuditTarget};
use crate::service_reports;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(service_report))
        .routes(routes!(service_report_csv))
        .routes(routes!(service_summary))
}

/// `GET /v1/admin/service-report`: contacts, queue waits, abandoned chats and escalations over
/// whole UTC days `from`..=`to` (at most 366), by hour and weekday, small numbers withheld.
/// Roles: supervisor, yot_admin.
#[utoipa::path(get, path = "/v1/admin/service-report", tag = "reports", security(("bearer" = [])),
    params(ServiceReportQuery),
    responses((status = 200, body = ServiceReport), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn service_report(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<ServiceReportQuery>,
) -> ApiResult<ApiJson<ServiceReport>> {
    let report = service_reports::report(&state, &user, &q).await?;
    audit(&state, &user, AuditAction::ServiceReportViewed, &report).await;
    Ok(ApiJson(report))
}

/// Records who looked at which period, and whether it carried numbers (as survey reports do).
async fn audit(state: &AppState, user: &AuthUser, action: AuditAction, r: &ServiceReport) {
    let details = format!("{} to {}; {}", r.from, r.to, if r.suppressed { "withheld" } else { "released" });
    crate::audit::record(
        state.store.as_ref(),
        state.clock.now_ms(),
        Some(user.id.as_str()),
        action,
        AuditTarget::Report,
        "service",
        Some(details),
    )
    .await;
}

/// `GET /v1/admin/service-report.csv`: the same report as CSV (same period, same withholding:
/// a withheld number is empty, marked `withheld`). Roles: supervisor, yot_admin.
#[utoipa::path(get, path = "/v1/admin/service-report.csv", tag = "reports", security(("bearer" = [])),
    params(ServiceReportQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn service_report_csv(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<ServiceReportQuery>,
) -> ApiResult<Response> {
    let report = service_reports::report(&state, &user, &q).await?;
    audit(&state, &user, AuditAction::ServiceReportExported, &report).await;
    let name = format!("service-report-{}-{}.csv", report.from, report.to);
    Ok(super::download(super::CSV, &name, service_reports::csv::report_csv(&report)))
}

/// `GET /v1/admin/service-summary`: the summary document of a period (a day, a week …) for a
/// scrutiny committee or a partnership board: the service report and the surveys' distance
/// travelled together, as one self-contained printable HTML page, with everything withheld
/// that the two reports withhold. Roles: yot_admin.
#[utoipa::path(get, path = "/v1/admin/service-summary", tag = "reports", security(("bearer" = [])),
    params(ServiceReportQuery),
    responses((status = 200, content_type = "text/html", body = String), (status = 401, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn service_summary(
    State(state): State<AppState>,
    user: AuthUser,
    ApiQuery(q): ApiQuery<ServiceReportQuery>,
) -> ApiResult<Response> {
    let summary = service_reports::summary::summary(&state, &user, &q).await?;
    let name = format!("talk-zone-summary-{}-{}.html", summary.service.from, summary.service.to);
    Ok(super::download("text/html; charset=utf-8", &name, service_reports::summary::html(&summary)))
}
