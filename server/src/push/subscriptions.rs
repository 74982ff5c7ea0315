//! Registering devices for push (`/v1/me/push-subscriptions`) and the VAPID key.

use talkzone_mobile_api::{
    NewPushSubscription, PushKind, PushSubscriptionCreated, PushSubscriptionList, PushSubscriptionView, WebPushKey,
    MAX_DEVICE_LABEL_CHARS, MAX_PUSH_SUBSCRIPTIONS,
};

use super::{webpush, Pusher};
use crate::auth::Authenticated;
use crate::clock::{rfc3339, Clock};
use crate::config::PushConfig;
use crate::error::{ApiError, ApiResult};
use crate::store::{PushSubscriptionRecord, Store};

/// Longest endpoint accepted (browsers' are a few hundred characters).
const MAX_ENDPOINT_CHARS: usize = 1024;
/// Longest FCM registration token (they are about 160 today) and APNs token in hex (64 today).
const MAX_FCM_TOKEN_CHARS: usize = 4096;
const MAX_APNS_TOKEN_CHARS: usize = 200;

/// `GET /v1/push/web-push-key`: 503 when Web Push is not configured.
pub fn web_push_key(pusher: &Pusher) -> ApiResult<WebPushKey> {
    match &pusher.providers.web_push {
        Some(w) => Ok(WebPushKey { public_key: w.vapid.public_key.clone() }),
        None => Err(ApiError::Unavailable("Web Push is not configured on this server".into())),
    }
}

fn invalid(why: impl Into<String>) -> ApiError {
    ApiError::Validation(why.into())
}

/// Whether `host` is one of the push services' hosts (`*.x` allows the subdomains of `x`).
fn push_service_host(host: &str, allowed: &[String]) -> bool {
    let host = host.to_ascii_lowercase();
    allowed.iter().any(|a| match a.strip_prefix("*.") {
        Some(domain) => {
            host.len() > domain.len() + 1 && host.ends_with(domain) && host[..host.len() - domain.len()].ends_with('.')
        }
        None => host == *a,
    })
}

/// The endpoint names a browser's push service (or, in tests, a local one): the server will POST
/// to it, so any other host is refused rather than reached (server-side request forgery).
fn check_push_service(endpoint: &str, config: &PushConfig) -> ApiResult<()> {
    let url = url::Url::parse(endpoint).map_err(|_| invalid("endpoint is not a URL"))?;
    let host = url.host_str().unwrap_or("");
    let local = matches!(host, "127.0.0.1" | "localhost" | "[::1]");
    if (local && config.allow_plain_http) || (url.port().is_none() && push_service_host(host, &config.web_push_hosts)) {
        Ok(())
    } else {
        Err(invalid("endpoint must be on a browser's push service (its host is not on this server's list)"))
    }
}

/// A browser's endpoint: https (or a test's local http server when allowed), no credentials in it.
fn check_endpoint(endpoint: &str, config: &PushConfig) -> ApiResult<()> {
    if endpoint.len() > MAX_ENDPOINT_CHARS {
        return Err(invalid(format!("endpoint is longer than {MAX_ENDPOINT_CHARS} characters")));
    }
    let url = url::Url::parse(endpoint).map_err(|_| invalid("endpoint is not a URL"))?;
    let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    let scheme_ok = url.scheme() == "https" || (url.scheme() == "http" && local && config.allow_plain_http);
    if !scheme_ok {
        return Err(invalid("endpoint must be an https:// URL from the browser's push service"));
    }
    if url.host_str().is_none() || !url.username().is_empty() || url.password().is_some() {
        return Err(invalid("endpoint must name a host and carry no user name or password"));
    }
    Ok(())
}

fn check_token(kind: PushKind, token: &str) -> ApiResult<()> {
    let ok = match kind {
        PushKind::Fcm => {
            !token.is_empty()
                && token.len() <= MAX_FCM_TOKEN_CHARS
                && token.chars().all(|c| c.is_ascii_alphanumeric() || "-_:.".contains(c))
        }
        PushKind::Apns => {
            (32..=MAX_APNS_TOKEN_CHARS).contains(&token.len())
                && token.len().is_multiple_of(2)
                && token.chars().all(|c| c.is_ascii_hexdigit())
        }
        PushKind::WebPush => false,
    };
    if ok {
        Ok(())
    } else if kind == PushKind::Fcm {
        Err(invalid(format!("token must be an FCM registration token (at most {MAX_FCM_TOKEN_CHARS} characters)")))
    } else {
        Err(invalid(format!("token must be an APNs device token in hex (32 to {MAX_APNS_TOKEN_CHARS} digits)")))
    }
}

/// `POST /v1/me/push-subscriptions`: `(created, true)` when new, `(existing, false)` when this
/// device was registered already. Roles: anyone signed in.
pub async fn create(
    store: &dyn Store,
    clock: &dyn Clock,
    config: &PushConfig,
    caller: &Authenticated,
    new: NewPushSubscription,
) -> ApiResult<(PushSubscriptionCreated, bool)> {
    if let Some(label) = new.device_label() {
        if label.chars().count() > MAX_DEVICE_LABEL_CHARS || label.chars().any(char::is_control) {
            return Err(invalid(format!(
                "device_label must be at most {MAX_DEVICE_LABEL_CHARS} characters, without control characters"
            )));
        }
    }
    let kind = new.kind();
    let device_label = new.device_label().map(str::to_owned);
    let (address, p256dh, auth_secret) = match new {
        NewPushSubscription::WebPush { endpoint, keys, .. } => {
            check_endpoint(&endpoint, config)?;
            webpush::parse_p256dh(&keys.p256dh).map_err(|e| invalid(e.0))?;
            webpush::parse_auth(&keys.auth).map_err(|e| invalid(e.0))?;
            check_push_service(&endpoint, config)?;
            (endpoint, Some(keys.p256dh), Some(keys.auth))
        }
        NewPushSubscription::Fcm { token, .. } | NewPushSubscription::Apns { token, .. } => {
            check_token(kind, &token)?;
            (token, None, None)
        }
    };
    let user_id = caller.user.id.as_str();
    let existing = store.push_subscriptions(user_id).await?;
    let again = existing.iter().any(|s| s.kind == kind.as_str() && s.address == address);
    if !again && existing.len() >= MAX_PUSH_SUBSCRIPTIONS {
        return Err(ApiError::Conflict(format!(
            "this account has {MAX_PUSH_SUBSCRIPTIONS} devices registered for notifications already: remove one first"
        )));
    }
    let record = PushSubscriptionRecord {
        id: crate::ids::random_id(),
        user_id: user_id.to_owned(),
        session_id: Some(caller.session_id.clone()),
        kind: kind.as_str().to_owned(),
        address,
        p256dh,
        auth_secret,
        device_label,
        created_at: clock.now_ms(),
        last_success_at: None,
    };
    let (stored, created) = store.create_push_subscription(&record).await?;
    Ok((PushSubscriptionCreated { id: stored.id, kind, created_at: rfc3339(stored.created_at) }, created))
}

/// `GET /v1/me/push-subscriptions`: never an endpoint, token or key.
pub async fn list(store: &dyn Store, caller: &Authenticated) -> ApiResult<PushSubscriptionList> {
    let subscriptions = store
        .push_subscriptions(caller.user.id.as_str())
        .await?
        .into_iter()
        .filter_map(|s| {
            Some(PushSubscriptionView {
                kind: PushKind::parse(&s.kind)?,
                id: s.id,
                device_label: s.device_label,
                created_at: rfc3339(s.created_at),
                last_success_at: s.last_success_at.map(rfc3339),
            })
        })
        .collect();
    Ok(PushSubscriptionList { subscriptions })
}

/// `DELETE /v1/me/push-subscriptions/{id}`: another user's id is as unknown as a made-up one.
pub async fn delete(store: &dyn Store, caller: &Authenticated, id: &str) -> ApiResult<()> {
    if store.delete_push_subscription(caller.user.id.as_str(), id).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_push_services_hosts_are_reached() {
        let config = PushConfig::default();
        for ok in [
            "https://fcm.googleapis.com/fcm/send/abc",
            "https://updates.push.services.mozilla.com/wpush/v2/x",
            "https://wns2-par02p.notify.windows.com/w/?token=x",
            "https://web.push.apple.com/QGx",
        ] {
            assert!(check_push_service(ok, &config).is_ok(), "{ok}");
        }
        for refused in [
            "https://10.0.0.5/p",
            "https://intranet.council.local/admin",
            "https://notify.windows.com.evil.example/p",
            "https://evilnotify.windows.com/p",
            "https://fcm.googleapis.com:8443/p",
            "https://127.0.0.1/p",
            "https://[::1]/p",
            "https://169.254.169.254/latest/meta-data",
        ] {
            assert!(check_push_service(refused, &config).is_err(), "{refused}");
        }
        let tests = PushConfig { allow_plain_http: true, ..PushConfig::default() };
        assert!(check_push_service("http://127.0.0.1:4000/p/1", &tests).is_ok());
    }
}
