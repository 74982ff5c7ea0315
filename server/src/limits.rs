//! Rate limits (governor), one named bucket per action: auth requests per client IP,
//! messages per user (over all their connections), frames per connection.
//!
//! A refusal is never silent: HTTP gets 429 with `Retry-After`, a frame gets `rate_limited`
//! with `retry_after_ms`. IPv6 clients are grouped by /64 (one household or phone gets one
//! prefix); the per-IP limit is generous because a school or council shares one address.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::http::HeaderMap;
use governor::clock::{Clock as _, DefaultClock};
use governor::state::keyed::DefaultKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use crate::config::LimitsConfig;
use crate::error::ApiError;

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, DefaultClock>;
pub type ConnectionLimiter = RateLimiter<NotKeyed, InMemoryState, DefaultClock>;

pub struct Limits {
    pub config: LimitsConfig,
    auth_per_ip: Keyed<IpAddr>,
    messages_per_user: Keyed<String>,
    login_per_account: Keyed<String>,
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

fn refusal(not_until: governor::NotUntil<governor::clock::QuantaInstant>) -> ApiError {
    let wait = not_until.wait_time_from(DefaultClock::default().now());
    metrics::counter!(crate::telemetry::RATE_LIMITED).increment(1);
    ApiError::RateLimited { retry_after: wait.max(Duration::from_millis(1)) }
}

impl Limits {
    pub fn new(config: LimitsConfig) -> Self {
        Self {
            auth_per_ip: RateLimiter::keyed(
                Quota::per_minute(nz(config.auth_per_ip_per_min)).allow_burst(nz(config.auth_burst)),
            ),
            messages_per_user: RateLimiter::keyed(
                Quota::per_second(nz(config.user_messages_per_sec)).allow_burst(nz(config.user_messages_burst)),
            ),
            // Password guessing against one account, from any number of addresses.
            login_per_account: RateLimiter::keyed(Quota::per_minute(nz(10)).allow_burst(nz(10))),
            config,
        }
    }

    pub fn check_auth_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.auth_per_ip.check_key(&ip_bucket(ip)).map_err(refusal)
    }

    pub fn check_login_account(&self, username: &str) -> Result<(), ApiError> {
        self.login_per_account.check_key(&username.to_lowercase()).map_err(refusal)
    }

    pub fn check_user_message(&self, user_id: &str) -> Result<(), ApiError> {
        self.messages_per_user.check_key(&user_id.to_owned()).map_err(refusal)
    }

    pub fn connection_limiter(&self) -> ConnectionLimiter {
        RateLimiter::direct(
            Quota::per_second(nz(self.config.ws_frames_per_sec)).allow_burst(nz(self.config.ws_frames_burst)),
        )
    }

    pub fn check_connection(limiter: &ConnectionLimiter) -> Result<(), ApiError> {
        limiter.check().map_err(refusal)
    }

    /// Forgets idle keys so that memory stays bounded (and IP addresses are kept only as
    /// long as rate limiting needs them).
    pub fn forget_idle(&self) {
        self.auth_per_ip.retain_recent();
        self.messages_per_user.retain_recent();
        self.login_per_account.retain_recent();
        self.auth_per_ip.shrink_to_fit();
        self.messages_per_user.shrink_to_fit();
        self.login_per_account.shrink_to_fit();
    }
}

/// The bucket an address counts against: IPv4 as is, IPv6 by /64.
pub fn ip_bucket(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// The client's address: the peer, unless the peer is a trusted proxy, in which case the
/// right-most untrusted address of `X-Forwarded-For`.
pub fn client_ip(peer: SocketAddr, headers: &HeaderMap, trusted: &[IpAddr]) -> IpAddr {
    let peer_ip = peer.ip();
    if !trusted.contains(&peer_ip) {
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

    #[test]
    fn ipv6_is_grouped_by_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::2".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(ip_bucket(a), ip_bucket(b));
        assert_ne!(ip_bucket(a), ip_bucket(c));
    }

    #[test]
    fn refuses_past_the_burst_with_a_wait() {
        let cfg = LimitsConfig { user_messages_per_sec: 1, user_messages_burst: 2, ..LimitsConfig::default() };
        let l = Limits::new(cfg);
        assert!(l.check_user_message("u").is_ok());
        assert!(l.check_user_message("u").is_ok());
        match l.check_user_message("u") {
            Err(ApiError::RateLimited { retry_after }) => assert!(retry_after <= Duration::from_secs(1)),
            other => panic!("expected rate limit, got {other:?}"),
        }
        assert!(l.check_user_message("someone-else").is_ok(), "buckets are per user");
    }
}
