//! Rate limits (governor), one named bucket per action: auth requests per client IP,
//! messages per user (over all their connections), frames per connection, reports per user.
//! Besides them: anonymous sign-ups per source, at a cost that grows ([`SignupCosts`]), and
//! open WebSockets per user and per source ([`SocketSlots`]). Failed guesses of a password or
//! code are throttled per account and source in `auth::throttle`.
//!
//! A refusal is never silent: HTTP gets 429 with `Retry-After`, a frame gets `rate_limited`
//! with `retry_after_ms`. IPv6 clients are grouped by /64 (one household or phone gets one
//! prefix); the per-IP limit is generous because a school or council shares one address.
//!
//! The buckets refill by the service's [`Clock`], like every other deadline: tests that move a
//! `ManualClock` move the limits with it instead of waiting for a refill.

use std::collections::HashMap;
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
    recover_per_ip: Keyed<IpAddr>,
    recover_per_phrase: Keyed<String>,
    recover_everywhere: Keyed<()>,
    reports_per_user: Keyed<String>,
    signups: SignupCosts,
    sockets: Arc<SocketSlots>,
    /// Keys [`Limits::source_key`]; the same on every node (derived from the signing key).
    source_secret: Vec<u8>,
}

/// Reports one user may make: [`REPORTS_BURST`] at once, then [`REPORTS_PER_HOUR`] an hour.
/// Enough for a child reporting every message of someone bothering them in a room; not
/// enough to bury the moderation queue or harass someone with reports.
pub const REPORTS_PER_HOUR: u32 = 20;
pub const REPORTS_BURST: u32 = 10;

/// Recovery phrase attempts per client IP (IPv6: per /64): [`RECOVER_PER_IP_PER_HOUR`] an
/// hour, all of them at once at most. A young person who mistypes tries a few times; a guesser
/// needs about 2^79 tries for an 80-bit phrase.
pub const RECOVER_PER_IP_PER_HOUR: u32 = 10;
/// Recovery attempts per phrase, from any number of addresses, counted by the phrase's first
/// [`RECOVER_PHRASE_KEY_WORDS`] words: someone who saw part of a phrase cannot try the rest
/// from many addresses.
pub const RECOVER_PER_PHRASE_PER_HOUR: u32 = 5;
pub const RECOVER_PHRASE_KEY_WORDS: usize = 3;
/// Recovery attempts an hour on the whole service, from anywhere: a guesser with many
/// addresses is held to this too (a few legitimate comebacks an hour at most, in practice).
/// While it is spent, a young person can still come back with a device credential.
pub const RECOVER_EVERYWHERE_PER_HOUR: u32 = 600;

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
            recover_per_ip: keyed(per_hour(RECOVER_PER_IP_PER_HOUR), &clock),
            recover_per_phrase: keyed(per_hour(RECOVER_PER_PHRASE_PER_HOUR), &clock),
            recover_everywhere: keyed(per_hour(RECOVER_EVERYWHERE_PER_HOUR), &clock),
            reports_per_user: keyed(
                Quota::with_period(Duration::from_secs(3600) / REPORTS_PER_HOUR)
                    .unwrap_or_else(|| Quota::per_hour(nz(REPORTS_PER_HOUR)))
                    .allow_burst(nz(REPORTS_BURST)),
                &clock,
            ),
            signups: SignupCosts { free: f64::from(config.signups_free_per_source), sources: Mutex::default() },
            sockets: Arc::new(SocketSlots {
                per_user: config.ws_per_user,
                per_source: config.ws_per_source,
                counts: Mutex::default(),
            }),
            clock,
            config,
            source_secret: crate::ids::random_id().into_bytes(),
        }
    }

    /// Keys the sources as every node does: from the tokens' signing key, so that a source
    /// hashes alike on every node and after a restart.
    pub fn with_source_secret(mut self, signing_key: &[u8]) -> Self {
        self.source_secret = hmac_sha256(signing_key, b"talkzone source key v1").to_vec();
        self
    }

    /// A source (an address; IPv6 its /64) as the database may keep it: 128 bits of a keyed
    /// hash, hex. The address itself cannot be read back from it, nor tried against it
    /// without the key.
    pub fn source_key(&self, ip: IpAddr) -> String {
        let mac = hmac_sha256(&self.source_secret, ip_bucket(ip).to_string().as_bytes());
        mac[..16].iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn check_auth_ip(&self, ip: IpAddr) -> Result<(), ApiError> {
        self.auth_per_ip.check_key(&ip_bucket(ip)).map_err(|n| refusal(&self.clock, n))
    }

    /// One recovery attempt from `ip` with a phrase starting with `phrase_key`: the source's,
    /// the phrase's and the whole service's buckets are charged, so neither many addresses nor
    /// many phrases get round the others.
    pub fn check_recovery(&self, ip: IpAddr, phrase_key: &str) -> Result<(), ApiError> {
        self.recover_per_ip.check_key(&ip_bucket(ip)).map_err(|n| refusal(&self.clock, n))?;
        self.recover_per_phrase.check_key(&phrase_key.to_owned()).map_err(|n| refusal(&self.clock, n))?;
        self.recover_everywhere.check_key(&()).map_err(|n| refusal(&self.clock, n))
    }

    pub fn check_user_message(&self, user_id: &str) -> Result<(), ApiError> {
        self.messages_per_user.check_key(&user_id.to_owned()).map_err(|n| refusal(&self.clock, n))
    }

    pub fn check_report(&self, user_id: &str) -> Result<(), ApiError> {
        self.reports_per_user.check_key(&user_id.to_owned()).map_err(|n| refusal(&self.clock, n))
    }

    /// Charges an anonymous sign-up to its source (see [`SignupCosts`]), or says how long the
    /// source must wait first.
    pub fn check_signup(&self, ip: IpAddr) -> Result<(), ApiError> {
        let now = self.clock.clock.now_ms();
        self.signups.charge(ip_bucket(ip), now).map_err(|wait| {
            metrics::counter!(crate::telemetry::RATE_LIMITED).increment(1);
            ApiError::RateLimited { retry_after: wait }
        })
    }

    /// A place for one more WebSocket of this user from this source, kept until the returned
    /// slot is dropped; refused past `ws_per_user` or `ws_per_source` open on this node.
    pub fn take_socket(&self, user_id: &str, ip: IpAddr) -> Result<SocketSlot, ApiError> {
        SocketSlots::take(&self.sockets, user_id, ip_bucket(ip))
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
        self.recover_per_ip.retain_recent();
        self.recover_per_phrase.retain_recent();
        self.recover_per_ip.shrink_to_fit();
        self.recover_per_phrase.shrink_to_fit();
        self.reports_per_user.retain_recent();
        self.auth_per_ip.shrink_to_fit();
        self.messages_per_user.shrink_to_fit();
        self.reports_per_user.shrink_to_fit();
        self.signups.forget_paid_up(self.clock.clock.now_ms());
    }
}

/// Anonymous sign-ups per source, with a cost that grows: a growing wait rather than a
/// proof-of-work. Up to `free` sign-ups a source makes cost nothing (a school or a family
/// shares an address); past that, each makes the source wait before the next, twice as long
/// as the last time: 1 s, 2 s, 4 s, … up to [`SIGNUP_MAX_WAIT`]. What a source has used halves
/// every [`SIGNUP_HALF_LIFE_MS`], so a quiet source is soon free again. A wait needs nothing
/// new from any client (every client already honours `Retry-After`), costs a real child
/// nothing, and costs a script time it cannot buy with hardware, where a proof-of-work would
/// drain a cheap phone's battery in a crisis and cost a GPU or a botnet next to nothing.
struct SignupCosts {
    free: f64,
    sources: Mutex<HashMap<IpAddr, SignupCost>>,
}

#[derive(Clone, Copy)]
struct SignupCost {
    /// Sign-ups made, decayed by [`SIGNUP_HALF_LIFE_MS`] since `at`.
    used: f64,
    at: i64,
    /// No sign-up from this source before this time (milliseconds, the service clock).
    next_at: i64,
}

pub const SIGNUP_HALF_LIFE_MS: i64 = 10 * 60 * 1000;
pub const SIGNUP_MAX_WAIT: Duration = Duration::from_secs(15 * 60);

impl SignupCosts {
    fn charge(&self, source: IpAddr, now: i64) -> Result<(), Duration> {
        let mut sources = self.sources.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let cost = sources.entry(source).or_insert(SignupCost { used: 0.0, at: now, next_at: now });
        if now < cost.next_at {
            return Err(Duration::from_millis(u64::try_from(cost.next_at - now).unwrap_or(1).max(1)));
        }
        cost.used = decayed(cost.used, now - cost.at) + 1.0;
        cost.at = now;
        let over = cost.used - self.free;
        if over > 0.0 {
            let wait = Duration::from_secs_f64(2f64.powf(over.ceil() - 1.0).min(SIGNUP_MAX_WAIT.as_secs_f64()));
            cost.next_at = now + i64::try_from(wait.as_millis()).unwrap_or(i64::MAX / 2);
        }
        Ok(())
    }

    /// Forgets sources that owe nothing (and so their addresses).
    fn forget_paid_up(&self, now: i64) {
        let mut sources = self.sources.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        sources.retain(|_, c| now < c.next_at || decayed(c.used, now - c.at) >= 0.5);
        sources.shrink_to_fit();
    }
}

fn decayed(used: f64, elapsed_ms: i64) -> f64 {
    used * 0.5f64.powf(elapsed_ms.max(0) as f64 / SIGNUP_HALF_LIFE_MS as f64)
}

/// Open WebSockets on this node, per user and per source: one token or one address cannot
/// hold hundreds of sockets (each a task, buffers and a subscription set).
pub struct SocketSlots {
    per_user: usize,
    per_source: usize,
    counts: Mutex<(HashMap<String, usize>, HashMap<IpAddr, usize>)>,
}

/// One WebSocket's place in [`SocketSlots`], given back when dropped (however the
/// connection ends).
pub struct SocketSlot {
    slots: Arc<SocketSlots>,
    user_id: String,
    source: IpAddr,
}

impl SocketSlots {
    fn take(slots: &Arc<SocketSlots>, user_id: &str, source: IpAddr) -> Result<SocketSlot, ApiError> {
        let mut counts = slots.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (users, sources) = &mut *counts;
        let (u, s) = (users.get(user_id).copied().unwrap_or(0), sources.get(&source).copied().unwrap_or(0));
        if u >= slots.per_user || s >= slots.per_source {
            metrics::counter!(crate::telemetry::RATE_LIMITED).increment(1);
            return Err(ApiError::RateLimited { retry_after: Duration::from_secs(5) });
        }
        *users.entry(user_id.to_owned()).or_insert(0) += 1;
        *sources.entry(source).or_insert(0) += 1;
        Ok(SocketSlot { slots: slots.clone(), user_id: user_id.to_owned(), source })
    }
}

impl Drop for SocketSlot {
    fn drop(&mut self) {
        let mut counts = self.slots.counts.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (users, sources) = &mut *counts;
        if let Some(n) = users.get_mut(&self.user_id) {
            *n -= 1;
            if *n == 0 {
                users.remove(&self.user_id);
            }
        }
        if let Some(n) = sources.get_mut(&self.source) {
            *n -= 1;
            if *n == 0 {
                sources.remove(&self.source);
            }
        }
    }
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use hmac::Mac as _;
    // HMAC takes a key of any length: `new_from_slice` cannot fail for it.
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).unwrap_or_else(|_| unreachable!());
    mac.update(data);
    mac.finalize().into_bytes().into()
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
    fn sign_ups_past_the_free_ones_wait_twice_as_long_each_time() {
        let clock = Arc::new(crate::clock::ManualClock::new(1_700_000_000_000));
        let cfg = LimitsConfig { signups_free_per_source: 3, ..LimitsConfig::default() };
        let l = Limits::new(cfg, clock.clone());
        let ip: IpAddr = "203.0.113.7".parse().unwrap();
        for _ in 0..3 {
            assert!(l.check_signup(ip).is_ok(), "free ones");
        }
        let mut waits = Vec::new();
        for _ in 0..6 {
            // The first past the free ones goes through and sets the wait for the next.
            assert!(l.check_signup(ip).is_ok());
            match l.check_signup(ip) {
                Err(ApiError::RateLimited { retry_after }) => waits.push(retry_after.as_millis() as i64),
                other => panic!("expected a wait, got {other:?}"),
            }
            clock.advance_ms(*waits.last().unwrap());
        }
        // Decay over the waits keeps the doubling a little under 2x; it still grows.
        assert_eq!(waits[0], 1_000);
        assert!(waits.windows(2).all(|w| w[1] > w[0]), "{waits:?}");
        assert!(*waits.last().unwrap() >= 16_000, "{waits:?}");
        assert!(l.check_signup("203.0.113.8".parse().unwrap()).is_ok(), "another source is not charged");
        // A quiet source is free again.
        clock.advance_ms(6 * SIGNUP_HALF_LIFE_MS);
        for _ in 0..3 {
            assert!(l.check_signup(ip).is_ok());
        }
        l.forget_idle();
    }

    #[test]
    fn source_keys_hide_the_address_and_agree_across_nodes() {
        let make = || Limits::new(LimitsConfig::default(), Arc::new(crate::clock::SystemClock));
        let (a, b) = (make().with_source_secret(b"one key"), make().with_source_secret(b"one key"));
        let ip: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let same_64: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        assert_eq!(a.source_key(ip), b.source_key(ip), "every node keys a source alike");
        assert_eq!(a.source_key(ip), a.source_key(same_64), "by /64");
        assert_ne!(a.source_key(ip), make().with_source_secret(b"another").source_key(ip));
        assert_eq!(a.source_key(ip).len(), 32);
        assert!(!a.source_key(ip).contains("2001"));
    }

    #[test]
    fn socket_slots_are_counted_per_user_and_source_and_given_back() {
        let cfg = LimitsConfig { ws_per_user: 2, ws_per_source: 3, ..LimitsConfig::default() };
        let l = Limits::new(cfg, Arc::new(crate::clock::SystemClock));
        let (a, b): (IpAddr, IpAddr) = ("198.51.100.1".parse().unwrap(), "198.51.100.2".parse().unwrap());
        let s1 = l.take_socket("u", a).unwrap();
        let _s2 = l.take_socket("u", a).unwrap();
        assert!(l.take_socket("u", b).is_err(), "per user, from any source");
        let _s3 = l.take_socket("v", a).unwrap();
        assert!(l.take_socket("w", a).is_err(), "per source, for any user");
        assert!(l.take_socket("w", b).is_ok());
        drop(s1);
        assert!(l.take_socket("u", a).is_ok(), "a closed socket gives its place back");
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

    #[test]
    fn recovery_is_limited_per_source_per_phrase_and_everywhere() {
        let clock = Arc::new(crate::clock::ManualClock::new(1_700_000_000_000));
        let l = Limits::new(LimitsConfig::default(), clock.clone());
        let ip = |n: u32| IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n));
        // One source, many phrases.
        for n in 0..RECOVER_PER_IP_PER_HOUR {
            assert!(l.check_recovery(ip(0), &format!("p{n}")).is_ok());
        }
        assert!(l.check_recovery(ip(0), "another").is_err(), "the source's hour is spent");
        // One phrase, many sources.
        for n in 0..RECOVER_PER_PHRASE_PER_HOUR {
            assert!(l.check_recovery(ip(100 + n), "the same start").is_ok());
        }
        assert!(l.check_recovery(ip(200), "the same start").is_err(), "the phrase's hour is spent");
        // Many sources, many phrases: the service's hour runs out too.
        let spent = RECOVER_PER_IP_PER_HOUR + RECOVER_PER_PHRASE_PER_HOUR;
        for n in spent..RECOVER_EVERYWHERE_PER_HOUR {
            assert!(l.check_recovery(ip(1000 + n), &format!("q{n}")).is_ok(), "attempt {n}");
        }
        assert!(l.check_recovery(ip(99_999), "fresh").is_err(), "the service's hour is spent");
        clock.advance_ms(3_600_000);
        assert!(l.check_recovery(ip(0), "later").is_ok(), "an hour later");
    }
}
