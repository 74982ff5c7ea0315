//! Push notifications: `/v1/push/web-push-key`, `/v1/me/push-subscriptions`.

use reqwest::Method;

use super::{Client, Result};
use crate::{NewPushSubscription, PushSubscriptionCreated, PushSubscriptionList, WebPushKey};

impl Client {
    /// `GET /v1/push/web-push-key`: the VAPID public key (503 when Web Push is not configured).
    pub async fn web_push_key(&self) -> Result<WebPushKey> {
        self.call::<(), _>(Method::GET, "/v1/push/web-push-key", None, None).await
    }

    /// `POST /v1/me/push-subscriptions`: registers this device (the same one again gives the
    /// existing subscription).
    pub async fn create_push_subscription(
        &self,
        token: &str,
        subscription: &NewPushSubscription,
    ) -> Result<PushSubscriptionCreated> {
        self.call(Method::POST, "/v1/me/push-subscriptions", Some(token), Some(subscription)).await
    }

    /// `GET /v1/me/push-subscriptions`: the caller's devices (never an endpoint or a key).
    pub async fn push_subscriptions(&self, token: &str) -> Result<PushSubscriptionList> {
        self.get("/v1/me/push-subscriptions", token).await
    }

    /// `DELETE /v1/me/push-subscriptions/{id}`: stops notifying that device.
    pub async fn delete_push_subscription(&self, token: &str, id: &str) -> Result<()> {
        self.call_empty::<()>(Method::DELETE, &format!("/v1/me/push-subscriptions/{id}"), Some(token), None).await
    }
}
