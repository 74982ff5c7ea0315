//! Extractors: the caller's identity ([`AuthUser`] from a bearer token), the client's address,
//! and JSON, query and path extractors that turn axum's rejections into the protocol's error
//! shape.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{ConnectInfo, FromRequest, FromRequestParts};
use axum::http::request::Parts;
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};

use crate::auth::{AuthUser, Authenticated, SignInContext};
use crate::error::ApiError;
use crate::state::AppState;

/// JSON body; bad JSON is a 400, wrong or missing fields a 422, too large a 413. The body
/// must be a JSON object: serde would otherwise read an array positionally into a struct.
pub struct ApiJson<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> Result<Self, Self::Rejection> {
        let axum::Json(value) = axum::Json::<serde_json::Value>::from_request(req, state).await?;
        if !value.is_object() {
            return Err(ApiError::Validation("the body must be a JSON object".into()));
        }
        crate::input::check_json(&value)?;
        serde_json::from_value(value).map(ApiJson).map_err(|e| ApiError::Validation(e.to_string()))
    }
}

impl<T: serde::Serialize> IntoResponse for ApiJson<T> {
    fn into_response(self) -> Response {
        axum::Json(self.0).into_response()
    }
}

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(ApiError))]
pub struct ApiQuery<T>(pub T);

#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(ApiError))]
pub struct ApiPath<T>(pub T);

/// The client's address (see [`client_ip`] for when `X-Forwarded-For` is believed).
pub struct ClientIp(pub IpAddr);

impl FromRequestParts<AppState> for ClientIp {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0)
            .ok_or_else(|| ApiError::Internal("server started without connection info".into()))?;
        Ok(ClientIp(client_ip(peer, &parts.headers, &state.config.trusted_proxies)))
    }
}

/// The bearer token of a request, if any.
pub fn bearer(parts: &Parts) -> Option<&str> {
    parts.headers.get(axum::http::header::AUTHORIZATION)?.to_str().ok()?.strip_prefix("Bearer ").map(str::trim)
}

impl FromRequestParts<AppState> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Authenticated::from_request_parts(parts, state).await?.user)
    }
}

/// The caller with their session, for routes about sessions.
impl FromRequestParts<AppState> for Authenticated {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let token = bearer(parts).ok_or(ApiError::Unauthorized("sign in first (Authorization: Bearer …)"))?;
        state.auth.authenticate_session(token).await
    }
}

/// Where a sign-in comes from (the client's address and user agent), kept with its session.
pub struct SignInFrom {
    pub ip: IpAddr,
    pub context: SignInContext,
}

impl FromRequestParts<AppState> for SignInFrom {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ClientIp(ip) = ClientIp::from_request_parts(parts, state).await?;
        let user_agent =
            parts.headers.get(axum::http::header::USER_AGENT).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Ok(SignInFrom { ip, context: SignInContext { ip: Some(ip), user_agent } })
    }
}

/// The client's address: the peer, unless the peer is a trusted proxy, in which case the
/// right-most untrusted address of `X-Forwarded-For`.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let peer_ip = peer.ip();
    if !trusted.contains(&peer_ip) {
        if headers.contains_key("x-forwarded-for") && is_local(peer_ip) {
            warn_untrusted_proxy(peer_ip);
        }
        return peer_ip;
    }
    let forwarded = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|s| s.trim().parse::<IpAddr>().ok())
        .collect::<Vec<_>>();
    forwarded.into_iter().rev().find(|ip| !trusted.contains(ip)).unwrap_or(peer_ip)
}

/// A loopback or private address: where a proxy in front of the node would be.
fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4.is_private() || v4.is_link_local(),
        IpAddr::V6(v6) => v6.is_loopback() || (v6.segments()[0] & 0xfe00) == 0xfc00,
    }
}

/// Said once per process: a proxy that is not in `trusted_proxies` makes every client behind it
/// one source, so the per-source limits (sign-ups, waiting chats, sockets, the queue's fair
/// share) would fall on everyone together.
fn warn_untrusted_proxy(peer: IpAddr) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            %peer,
            "requests with X-Forwarded-For come from {peer}, which is not in TALKZONE_TRUSTED_PROXIES: every client \
             behind it counts as one source for the per-source limits; list the proxy there"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_for_is_trusted_only_from_configured_proxies() {
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", "203.0.113.9, 10.0.0.2".parse().unwrap());
        let proxy: IpAddr = "10.0.0.2".parse().unwrap();
        let peer = SocketAddr::new(proxy, 1234);
        assert_eq!(client_ip(peer, &h, &[]), proxy, "untrusted peer: header ignored");
        assert_eq!(client_ip(peer, &h, &[proxy]), "203.0.113.9".parse::<IpAddr>().unwrap());
        let stranger = SocketAddr::new("198.51.100.1".parse().unwrap(), 1);
        assert_eq!(client_ip(stranger, &h, &[proxy]), stranger.ip(), "spoofed header from a stranger");
    }
}
