//! Push notifications (`/v1/push/web-push-key`, `/v1/me/push-subscriptions`): a device asks to
//! be told, content-free, when someone replies while the app or page is closed.
//!
//! A notification never carries a message's text nor the service's name: whoever holds the
//! phone can read a lock screen. It says only [`PUSH_TITLE`] / [`PUSH_BODY`]; the app opens
//! and fetches the chat as usual.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The title of every notification.
pub const PUSH_TITLE: &str = "New message";
/// The body of every notification.
pub const PUSH_BODY: &str = "Open the app to read it";
/// At most this many subscriptions per account (a phone, a tablet, a laptop, and old ones).
pub const MAX_PUSH_SUBSCRIPTIONS: usize = 10;
/// A `device_label` has at most this many characters.
pub const MAX_DEVICE_LABEL_CHARS: usize = 64;

/// Which push service a subscription goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PushKind {
    /// A browser's push service (RFC 8030), payload encrypted to the browser (RFC 8291).
    WebPush,
    /// Firebase Cloud Messaging (Android).
    Fcm,
    /// Apple Push Notification service (iOS).
    Apns,
}

impl PushKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PushKind::WebPush => "web_push",
            PushKind::Fcm => "fcm",
            PushKind::Apns => "apns",
        }
    }

    pub fn parse(s: &str) -> Option<PushKind> {
        match s {
            "web_push" => Some(PushKind::WebPush),
            "fcm" => Some(PushKind::Fcm),
            "apns" => Some(PushKind::Apns),
            _ => None,
        }
    }
}

/// `GET /v1/push/web-push-key`: the VAPID application server key (RFC 8292) to pass to
/// `PushManager.subscribe({applicationServerKey})`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct WebPushKey {
    /// base64url (no padding) of the uncompressed P-256 public key (65 bytes).
    pub public_key: String,
}

/// The keys of a browser's `PushSubscription` (`subscription.toJSON().keys`).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WebPushKeys {
    /// base64url of the browser's P-256 public key (65 bytes, uncompressed).
    pub p256dh: String,
    /// base64url of the 16-byte authentication secret.
    pub auth: String,
}

/// `POST /v1/me/push-subscriptions`: where to reach this device.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NewPushSubscription {
    /// A browser's subscription: its endpoint (https) and keys.
    WebPush {
        endpoint: String,
        keys: WebPushKeys,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device_label: Option<String>,
    },
    /// An FCM registration token.
    Fcm {
        token: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device_label: Option<String>,
    },
    /// An APNs device token, in hex.
    Apns {
        token: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        device_label: Option<String>,
    },
}

impl NewPushSubscription {
    pub fn kind(&self) -> PushKind {
        match self {
            NewPushSubscription::WebPush { .. } => PushKind::WebPush,
            NewPushSubscription::Fcm { .. } => PushKind::Fcm,
            NewPushSubscription::Apns { .. } => PushKind::Apns,
        }
    }

    pub fn device_label(&self) -> Option<&str> {
        match self {
            NewPushSubscription::WebPush { device_label, .. }
            | NewPushSubscription::Fcm { device_label, .. }
            | NewPushSubscription::Apns { device_label, .. } => device_label.as_deref(),
        }
    }
}

/// `POST /v1/me/push-subscriptions`: 201 when new, 200 when the device was registered already.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PushSubscriptionCreated {
    /// Names it for `DELETE /v1/me/push-subscriptions/{id}`.
    pub id: String,
    pub kind: PushKind,
    pub created_at: String,
}

/// A subscription as listed: never its endpoint, token or keys.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct PushSubscriptionView {
    pub id: String,
    pub kind: PushKind,
    pub device_label: Option<String>,
    pub created_at: String,
    /// When a notification last reached the push service for it.
    pub last_success_at: Option<String>,
}

/// `GET /v1/me/push-subscriptions`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
pub struct PushSubscriptionList {
    pub subscriptions: Vec<PushSubscriptionView>,
}

/// What a notification's payload is: the same fixed words every time, and nothing else (no
/// message, no chat id, no name). The web chat's service worker shows `title` and `body`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PushPayload {
    pub title: String,
    pub body: String,
}

impl Default for PushPayload {
    fn default() -> Self {
        Self { title: PUSH_TITLE.into(), body: PUSH_BODY.into() }
    }
}
