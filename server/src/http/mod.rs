//! The HTTP edge: every REST route (each resource module owns its routes), the WebSocket
//! upgrade, the OpenAPI document generated from the same route list (so it cannot drift),
//! and the middleware every request passes: request ids, tracing, body limit, security
//! headers, and the protocol's error shape for unknown routes and methods.

mod admin;
mod auth;
mod canned_replies;
mod conversations;
mod deadline;
mod desk;
mod directory;
pub mod error;
mod escalations;
pub mod extract;
mod health;
mod me;
mod moderation;
pub(crate) mod notice;
mod policies;
mod privacy;
mod push;
mod returning;
mod rooms;
mod service_reports;
mod surveys;
mod verdict_marks;
pub mod web;

use std::sync::Arc;

use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderName, HeaderValue, Request};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use tower_http::request_id::{MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(title = "Talk Zone API", version = "1", description = "REST half of the Talk Zone client protocol v1. \
        The WebSocket half (GET /v1/ws) is described in docs/protocol.md. Every error has the shape \
        {\"error\": {\"code\", \"message\"}}. Each route's description names the roles allowed."),
    modifiers(&BearerAuth),
    components(schemas(talkzone_mobile_api::ClientFrame, talkzone_mobile_api::ServerFrame, talkzone_mobile_api::ErrorCode))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build()),
        );
    }
}

/// Documents the errors that the shared extractors and middleware give any route, so that a
/// route's own list can keep to what its handler decides: a signed-in route answers 401 to a
/// missing, forged or expired token (`AuthUser`); a route that reads a body answers 400 to bad
/// JSON or the wrong content type, 413 to a body over the limit and 422 to one that does not
/// fit its schema (`ApiJson`); a route with parameters answers 400 to one that cannot be read
/// (`ApiQuery`, `ApiPath`, a NUL in the URL) and 422 to a value out of range.
struct SharedErrors;

impl utoipa::Modify for SharedErrors {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
        let error = |description: &str| -> RefOr<utoipa::openapi::Response> {
            let body = ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build();
            RefOr::T(ResponseBuilder::new().description(description).content("application/json", body).build())
        };
        for item in openapi.paths.paths.values_mut() {
            let operations = [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in operations.into_iter().flatten() {
                let mut add = |status: &str, description: &str| {
                    op.responses.responses.entry(status.to_owned()).or_insert_with(|| error(description));
                };
                let signed_in = op.security.as_ref().is_some_and(|s| !s.is_empty());
                let has_body = op.request_body.is_some();
                let has_params = op.parameters.as_ref().is_some_and(|p| !p.is_empty());
                if signed_in {
                    add("401", "no access token, or one that is forged, expired or revoked");
                }
                if has_body || has_params {
                    add("400", "a body or parameter that cannot be read (not JSON, wrong content type, bad encoding)");
                    add("422", "a body or parameter that does not pass validation");
                }
                if has_body {
                    add("413", "the body is over the server's limit");
                }
            }
        }
    }
}

/// The content type of every CSV export.
const CSV: &str = "text/csv; charset=utf-8";

/// A file offered as a download named `filename` (the reports' CSV and HTML exports).
fn download(content_type: &'static str, filename: &str, body: String) -> axum::response::Response {
    let disposition = format!("attachment; filename=\"{filename}\"");
    ([(header::CONTENT_TYPE, content_type.to_owned()), (header::CONTENT_DISPOSITION, disposition)], body)
        .into_response()
}

/// The REST routes and their OpenAPI document, from one list.
fn api() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(auth::router())
        .merge(returning::router())
        .merge(push::router())
        .merge(me::router())
        .merge(notice::router())
        .merge(policies::router())
        .merge(verdict_marks::router())
        .merge(admin::router())
        .merge(conversations::router())
        .merge(escalations::router())
        .merge(desk::router())
        .merge(directory::router())
        .merge(canned_replies::router())
        .merge(privacy::router())
        .merge(rooms::router())
        .merge(surveys::router())
        .merge(service_reports::router())
        .merge(moderation::router())
        .merge(health::router())
        .split_for_parts();
    utoipa::Modify::modify(&SharedErrors, &mut doc);
    (router, doc)
}

/// The OpenAPI document (also used by tests and `docs/`).
pub fn openapi() -> utoipa::openapi::OpenApi {
    api().1
}

#[derive(Clone, Default)]
struct MakeUlid;

impl MakeRequestId for MakeUlid {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        HeaderValue::from_str(&crate::ids::random_id()).ok().map(RequestId::new)
    }
}

async fn not_found() -> ApiError {
    ApiError::NotFound
}

/// Refuses URLs carrying NUL characters before any handler sees them.
async fn refuse_nul_urls(req: axum::extract::Request, next: axum::middleware::Next) -> axum::response::Response {
    match crate::input::check_url(req.uri().path_and_query().map_or("", |p| p.as_str())) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

/// The whole application.
pub fn router(state: AppState) -> Router {
    let (api, doc) = api();
    let doc = Arc::new(doc.to_pretty_json().unwrap_or_default());
    // The WebSocket protocol's document, from the frame types (mobile-api `asyncapi`).
    let asyncapi = Arc::new(serde_json::to_string_pretty(&talkzone_mobile_api::asyncapi()).unwrap_or_default());
    let request_id = HeaderName::from_static("x-request-id");
    let max_body = state.config.limits.http_max_body_bytes;
    let body_within = state.config.limits.http_body_timeout;
    api.route(
        "/v1/openapi.json",
        get(
            move || async move { ([(header::CONTENT_TYPE, "application/json")], doc.as_ref().clone()).into_response() },
        ),
    )
    .route(
        "/v1/asyncapi.json",
        get(move || async move {
            ([(header::CONTENT_TYPE, "application/json")], asyncapi.as_ref().clone()).into_response()
        }),
    )
    .route("/v1/ws", get(crate::ws::upgrade))
    .merge(web::router())
    .fallback(not_found)
    .method_not_allowed_fallback(|| async { ApiError::MethodNotAllowed })
    .layer(DefaultBodyLimit::max(max_body))
    // A body sent slowly, or never finished, fails the request (400) instead of holding it open.
    .layer(axum::middleware::from_fn(move |req, next| deadline::body_deadline(body_within, req, next)))
    .layer(axum::middleware::from_fn(refuse_nul_urls))
    .layer(SetResponseHeaderLayer::if_not_present(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff")))
    .layer(SetResponseHeaderLayer::if_not_present(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'; frame-ancestors 'none'"),
    ))
    .layer(SetResponseHeaderLayer::if_not_present(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
    .layer(SetResponseHeaderLayer::if_not_present(header::REFERRER_POLICY, HeaderValue::from_static("no-referrer")))
    .layer(SetResponseHeaderLayer::if_not_present(header::CACHE_CONTROL, HeaderValue::from_static("no-store")))
    .layer(PropagateRequestIdLayer::new(request_id.clone()))
    .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
        let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
        tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
    }))
    .layer(SetRequestIdLayer::new(request_id, MakeUlid))
    .with_state(state)
}
