//! Rate limits (governor), one named bucket per action: auth requests per client IP,
//! messages per user (over all their connections), frames per connection.
//!
//! A refusal is never silent: HTTP gets 429 with `Retry-After`, a frame gets `rate_limited`
//! with `retry_after_ms`. IPv6 clients are grouped by /64 (one household or phone gets one
//! prefix); the per-IP limit is generous because a school or council shares one address.
//!
//! The buckets refill by the service's [`Clock`], like every other deadline: tests that move a
//! `ManualClock` move the limits with it instead of waiting for a refill.

use std::net::{IpAddr, Ipv6Addr};
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use governor::clock::Clock as _;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};

use crate::clock::Clock;
use crate::config::LimitsConfig;
use crate::error::ApiError;

/// The service's clock as governor's time source, in nanoseconds (governor's unit) since the
/// limiter was made, at the service clock's millisecond resolution (quotas here are per second
/// or per minute). It follows the clock's forward moves only: with the system clock, a wall
/// clock stepped back (NTP, a VM resumed) neither stalls refills nor lets them run twice, as
/// with the monotonic clock governor uses by default.
#[derive(Clone)]
pub struct LimiterClock {
    clock: Arc<dyn Clock>,
    /// (the service clock's last reading, milliseconds counted so far).
    ticks: Arc<Mutex<(i64, u64)>>,
}

impl LimiterClock {
    fn new(clock: Arc<dyn Clock>) -> Self {
        let start = clock.now_ms();
        Self { clock, ticks: Arc::new(Mutex::new((start, 0))) }
    }
}

impl governor::clock::Clock for LimiterClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        let mut ticks = self.ticks.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // Read under the lock, so that readings are counted in the order they were taken.
        let now = self.clock.now_ms();
        let (last, elapsed) = *ticks;
        let elapsed = elapsed.saturating_add(u64::try_from(now - last).unwrap_or(0));
        *ticks = (now, elapsed);
        Nanos::new(elapsed.saturating_mul(1_000_000))
    }
}

type Keyed<K> = RateLimiter<K, DefaultKeyedStateStore<K>, LimiterClock, NoOpMiddleware<Nanos>>;
pub type ConnectionLimiter = RateLimiter<NotKeyed, InMemoryState, LimiterClock, NoOpMiddleware<Nanos>>;

pub struct Limits {
    pub config: LimitsConfig,
    clock: LimiterClock,
    auth_per_ip: Keyed<IpAddr>,
    messages_per_user: Keyed<String>,
    login_per_account: Keyed<String>,
    recover_per_ip: Keyed<IpAddr>,
    recover_per_phrase: Keyed<String>,
}

/// Recovery phrase attempts per client IP (IPv6: per /64): [`RECOVER_PER_IP_PER_HOUR`] an
/// hour, all of them at once at most. A young person who mistypes tries a few times; a guesser
/// needs about 2^79 tries for an 80-bit phrase.
pub const RECOVER_PER_IP_PER_HOUR: u32 = 10;
/// Recovery attempts per phrase, from any number of addresses, counted by the phrase's first
/// [`RECOVER_PHRASE_KEY_WORDS`] words: someone who saw part of a phrase cannot try the rest
/// from many addresses.
pub const RECOVER_PER_PHRASE_PER_HOUR: u32 = 5;
pub const RECOVER_PHRASE_KEY_WORDS: usize = 3;

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

/// `n` an hour, all of them at once at most.
fn per_hour(n: u32) -> Quota {
    Quota::with_period(Duration::from_secs(3600) / n.max(1)).map_or(Quota::per_hour(nz(n)), |q| q.allow_burst(nz(n)))
}

fn refusal(clock: &LimiterClock, not_until: governor::NotUntil<Nanos>) -> ApiError {
    let wait = not_until.wait_time_from(clock.now());
    metrics::counter!(crate::telemetry::RATE_LIMITED).increment(1);
    ApiError::RateLimited { retry_after: wait.max(Duration::from_millis(1)) }
}

impl Limits {
    /// The limits of `config`, refilling by `clock` (the service's).
    pub fn new(config: LimitsConfig, clock: Arc<dyn Clock>) -> Self {
        fn keyed<K: Clone + Eq + std::hash::Hash>(quota: Quota, clock: &LimiterClock) -> Keyed<K> {
            RateLimiter::new(quota, DefaultKeyedStateStore::default(), clock.clone())
        }
        let clock = LimiterClock::new(clock);
        Self {
            auth_per_ip: keyed(
                Quota::per_minute(nz(config.auth_per_ip_per_min)).allow_burst(nz(config.auth_burst)),
                &clock,
            ),
            messages_per_user: keyed(
                Quota::per_second(nz(config.user_messages_per_sec)).allow_burst(nz(config.user_messages_burst)),
                &clock,
            ),
            // Password guessing against one account, from any number of addresses.
            login_per_account: keyed(Quota::per_minute(nz(10)).allow_burst(nz(10)), &clock),
            recover_per_ip: keyed(per_hour(RECOVER_PER_IP_PER_HOUR), &clock),
            recover_per_phrase: keyed(per_hour(RECOVER_PER_PHRASE_PER_HOUR), &clock),
            clock,
            config,
        }
    }

    pub fn check_auth_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.auth_per_ip.check_key(&ip_bucket(ip)).map_err(|n| refusal(&self.clock, n))
    }

    pub fn check_login_account(&self, username: &str) -> Result<(), ApiError> {
        self.login_per_account.check_key(&username.to_lowercase()).map_err(|n| refusal(&self.clock, n))
    }

    /// One recovery attempt from `ip` with a phrase starting with `phrase_key`; both buckets
    /// are charged, so neither many addresses nor many phrases get round the other.
    pub fn check_recovery(&self, ip: IpAddr, phrase_key: &str) -> Result<(), ApiError> {
        self.recover_per_ip.check_key(&ip_bucket(ip)).map_err(|n| refusal(&self.clock, n))?;
        self.recover_per_phrase.check_key(&phrase_key.to_owned()).map_err(|n| refusal(&self.clock, n))
    }

    pub fn check_user_message(&self, user_id: &str) -> Result<(), ApiError> {
        self.messages_per_user.check_key(&user_id.to_owned()).map_err(|n| refusal(&self.clock, n))
    }

    pub fn connection_limiter(&self) -> ConnectionLimiter {
        RateLimiter::direct_with_clock(
            Quota::per_second(nz(self.config.ws_frames_per_sec)).allow_burst(nz(self.config.ws_frames_burst)),
            self.clock.clone(),
        )
    }

    pub fn check_connection(limiter: &ConnectionLimiter) -> Result<(), ApiError> {
        limiter.check().map_err(|n| refusal(limiter.clock(), n))
    }

    /// Forgets idle keys so that memory stays bounded (and IP addresses are kept only as
    /// long as rate limiting needs them).
    pub fn forget_idle(&self) {
        self.auth_per_ip.retain_recent();
        self.messages_per_user.retain_recent();
        self.login_per_account.retain_recent();
        self.recover_per_ip.retain_recent();
        self.recover_per_phrase.retain_recent();
        self.recover_per_ip.shrink_to_fit();
        self.recover_per_phrase.shrink_to_fit();
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let l = Limits::new(cfg, Arc::new(crate::clock::SystemClock));
        assert!(l.check_user_message("u").is_ok());
        assert!(l.check_user_message("u").is_ok());
        match l.check_user_message("u") {
            Err(ApiError::RateLimited { retry_after }) => assert!(retry_after <= Duration::from_secs(1)),
            other => panic!("expected rate limit, got {other:?}"),
        }
        assert!(l.check_user_message("someone-else").is_ok(), "buckets are per user");
    }

    #[test]
    fn buckets_refill_by_the_service_clock() {
        let clock = Arc::new(crate::clock::ManualClock::new(1_700_000_000_000));
        let cfg = LimitsConfig {
            user_messages_per_sec: 1,
            user_messages_burst: 1,
            ws_frames_per_sec: 2,
            ws_frames_burst: 1,
            ..LimitsConfig::default()
        };
        let l = Limits::new(cfg, clock.clone());
        let frames = l.connection_limiter();
        assert!(l.check_user_message("u").is_ok() && Limits::check_connection(&frames).is_ok());
        match l.check_user_message("u") {
            Err(ApiError::RateLimited { retry_after }) => assert_eq!(retry_after, Duration::from_secs(1)),
            other => panic!("expected rate limit, got {other:?}"),
        }
        assert!(Limits::check_connection(&frames).is_err());
        clock.advance_ms(500);
        assert!(l.check_user_message("u").is_err(), "half a refill is none");
        assert!(Limits::check_connection(&frames).is_ok(), "2 a second: refilled in 500 ms");
        clock.advance_ms(500);
        assert!(l.check_user_message("u").is_ok(), "refilled when the clock says so");
    }

    /// A clock that can be set back, as a wall clock can.
    struct SettableClock(std::sync::atomic::AtomicI64);

    impl Clock for SettableClock {
        fn now_ms(&self) -> i64 {
            self.0.load(std::sync::atomic::Ordering::SeqCst)
        }
    }

    #[test]
    fn a_clock_set_back_neither_stalls_nor_repeats_refills() {
        use governor::clock::Clock as _;
        let wall = Arc::new(SettableClock(std::sync::atomic::AtomicI64::new(1_700_000_000_000)));
        let clock = LimiterClock::new(wall.clone());
        let set = |ms: i64| wall.0.store(ms, std::sync::atomic::Ordering::SeqCst);
        set(1_700_000_001_000);
        assert_eq!(clock.now(), Nanos::from(Duration::from_secs(1)));
        set(1_699_999_000_000);
        assert_eq!(clock.now(), Nanos::from(Duration::from_secs(1)), "set back: time stands still");
        set(1_699_999_000_250);
        assert_eq!(clock.now(), Nanos::from(Duration::from_millis(1_250)), "and goes on from there");
    }
}
