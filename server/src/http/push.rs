//! Push notifications: `/v1/push/web-push-key`, `/v1/me/push-subscriptions` (see `crate::push`).

use axum::extract::State;
use axum::http::StatusCode;
use talkzone_mobile_api::{ErrorBody, NewPushSubscription, PushSubscriptionCreated, PushSubscriptionList, WebPushKey};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::extract::{ApiJson, ApiPath};
use crate::auth::Authenticated;
use crate::error::ApiResult;
use crate::push;
use crate::state::AppState;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(web_push_key))
        .routes(routes!(list_push_subscriptions, create_push_subscription))
        .routes(routes!(delete_push_subscription))
}

/// `GET /v1/push/web-push-key`: the VAPID application server key for
/// `PushManager.subscribe`. Roles: anyone (no sign-in needed). 503 when Web Push is off.
#[utoipa::path(get, path = "/v1/push/web-push-key", tag = "push",
    responses((status = 200, body = WebPushKey), (status = 503, body = ErrorBody)))]
async fn web_push_key(State(state): State<AppState>) -> ApiResult<ApiJson<WebPushKey>> {
    Ok(ApiJson(push::web_push_key(&state.push)?))
}

/// `POST /v1/me/push-subscriptions`: registers this device for content-free notifications. 201
/// when new; 200 with the existing one when this endpoint or token is registered already.
/// Roles: anyone signed in (young people above all). 422 for a malformed, non-https or
/// oversized subscription; 409 beyond 10 devices.
#[utoipa::path(post, path = "/v1/me/push-subscriptions", tag = "push", security(("bearer" = [])),
    request_body = NewPushSubscription,
    responses((status = 201, body = PushSubscriptionCreated), (status = 200, body = PushSubscriptionCreated),
        (status = 401, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_push_subscription(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiJson(req): ApiJson<NewPushSubscription>,
) -> ApiResult<(StatusCode, ApiJson<PushSubscriptionCreated>)> {
    let (created, new) =
        push::create(state.store.as_ref(), state.clock.as_ref(), &state.config.push, &caller, req).await?;
    Ok((if new { StatusCode::CREATED } else { StatusCode::OK }, ApiJson(created)))
}

/// `GET /v1/me/push-subscriptions`: the caller's registered devices (never an endpoint, token
/// or key). Roles: anyone signed in.
#[utoipa::path(get, path = "/v1/me/push-subscriptions", tag = "push", security(("bearer" = [])),
    responses((status = 200, body = PushSubscriptionList), (status = 401, body = ErrorBody)))]
async fn list_push_subscriptions(
    State(state): State<AppState>,
    caller: Authenticated,
) -> ApiResult<ApiJson<PushSubscriptionList>> {
    Ok(ApiJson(push::list(state.store.as_ref(), &caller).await?))
}

/// `DELETE /v1/me/push-subscriptions/{id}`: stops notifying a device. Roles: anyone signed in,
/// their own only (another user's id is 404, as a made-up one).
#[utoipa::path(delete, path = "/v1/me/push-subscriptions/{id}", tag = "push", security(("bearer" = [])),
    params(("id" = String, Path, description = "push subscription id")),
    responses((status = 204), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn delete_push_subscription(
    State(state): State<AppState>,
    caller: Authenticated,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    push::delete(state.store.as_ref(), &caller, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
