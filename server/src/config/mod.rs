//! One typed configuration, read from flags, environment and an optional TOML file (in that
//! order of precedence) and validated once at start-up with messages that say what to fix.

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Duration;

mod sso;
use sso::sso_config;
pub use sso::SsoConfig;

mod push;
mod reach;
mod settings;

pub use push::PushConfig;
pub use reach::ReturningConfig;

pub use settings::{List, Settings};

/// How queued chats reach workers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routing {
    Manual,
    Auto,
}

/// A secret setting: never shown by `Debug`, so never in a log.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The shortest on-call webhook secret accepted (bytes): 256 bits as hex is 64.
pub const MIN_WEBHOOK_SECRET: usize = 32;

/// How the duty desk runs.
#[derive(Debug, Clone)]
pub struct DeskConfig {
    pub escalation_critical: Duration,
    pub escalation_high: Duration,
    pub escalation_medium: Duration,
    pub oncall_webhook_url: Option<String>,
    /// The key on-call alerts are signed with (HMAC-SHA-256; docs/operations.md).
    pub oncall_webhook_secret: Option<Secret>,
    pub close_outcomes: Vec<String>,
    pub assignment_timeout: Duration,
    pub no_one_available_text: String,
    pub routing: Routing,
    pub disconnect_grace: Duration,
    pub chats_per_day: u32,
    pub max_duty_per_day: Duration,
    pub max_duty_per_week: Duration,
}

pub const DEFAULT_NO_ONE_AVAILABLE_TEXT: &str = "Thanks for getting in touch. All our workers are busy or off duty \
right now, so you're in the queue and someone will reply as soon as they can. You can leave a message here and \
they'll read it. If you're in danger now, call 999. You can also talk to Childline on 0800 1111 (free, any time), \
call Samaritans on 116 123, or text SHOUT to 85258.";

impl Default for DeskConfig {
    fn default() -> Self {
        Self {
            escalation_critical: Duration::from_secs(120),
            escalation_high: Duration::from_secs(600),
            escalation_medium: Duration::from_secs(3600),
            oncall_webhook_url: None,
            oncall_webhook_secret: None,
            close_outcomes: [
                "resolved",
                "signposted",
                "referred_to_service",
                "safeguarding_referral",
                "young_person_left",
                "no_response",
            ]
            .map(String::from)
            .to_vec(),
            assignment_timeout: Duration::from_secs(90),
            no_one_available_text: DEFAULT_NO_ONE_AVAILABLE_TEXT.to_owned(),
            routing: Routing::Manual,
            disconnect_grace: Duration::from_secs(60),
            chats_per_day: 10,
            max_duty_per_day: Duration::from_secs(10 * 3600),
            max_duty_per_week: Duration::from_secs(40 * 3600),
        }
    }
}

/// Feedback surveys (docs/surveys.md).
#[derive(Debug, Clone)]
pub struct SurveysConfig {
    /// Small-number suppression threshold `k`: every count under it is hidden wherever a
    /// number leaves the server (API, CSV, SVG), and the differencing rules use it too.
    pub suppression_threshold: i64,
    /// Survey answers (and their assignments) are deleted this many days after they were last
    /// saved, unless chat feedback about a conversation under a safeguarding hold.
    pub retention_days: u32,
}

/// Below 3, a suppressed cell would mean "0, 1 or 2" at most and the secondary rules
/// (complements, differences) would let too many single answers through; see docs/surveys.md.
pub const MIN_SUPPRESSION_THRESHOLD: i64 = 3;
pub const MAX_SUPPRESSION_THRESHOLD: i64 = 100;

impl Default for SurveysConfig {
    fn default() -> Self {
        // Three years: the longest youth rehabilitation order, so that start and end answers of
        // one intervention can still be paired for distance travelled.
        Self { suppression_threshold: 5, retention_days: 3 * 365 }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

/// Who signs in with a second factor (TOTP) besides the password.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactorPolicy {
    /// Every staff role (the default): staff read children's disclosures.
    Required,
    /// Every staff role but moderators (who see room messages, never support chats); a
    /// moderator who has set one up is still asked for it.
    OptionalForModerators,
    /// Nobody is asked. No setting selects it: only the test harness, for servers whose tests
    /// are not about signing in.
    NotAsked,
}

/// Rate and size limits.
#[derive(Debug, Clone)]
pub struct LimitsConfig {
    pub ws_max_frame_bytes: usize,
    pub http_max_body_bytes: usize,
    pub ws_frames_per_sec: u32,
    pub ws_frames_burst: u32,
    pub user_messages_per_sec: u32,
    pub user_messages_burst: u32,
    pub auth_per_ip_per_min: u32,
    pub auth_burst: u32,
    pub ws_outbound_buffer: usize,
    /// Open WebSockets one user may hold on one node, and one source (IPv6: a /64).
    pub ws_per_user: usize,
    pub ws_per_source: usize,
    /// Anonymous sign-ups a source may make before each costs a growing wait (limits.rs).
    pub signups_free_per_source: u32,
    /// Support chats one source may have waiting in the queue at once; 0 keeps no sources
    /// (no cap, no fair share between sources, no blocks): for a deployment whose proxy cannot
    /// pass on client addresses, where every client would be one source.
    pub open_chats_per_source: u32,
    /// HTTP: the whole request head must arrive within this (and an idle kept-alive
    /// connection is closed after it); a request body within `http_body_timeout`.
    pub http_header_timeout: Duration,
    pub http_body_timeout: Duration,
    /// PostgreSQL sessions: a statement waits at most this long for a lock, and a session
    /// left idle inside a transaction (a node paused or frozen mid-write) is ended after
    /// this, releasing its locks. Milliseconds.
    pub db_lock_timeout_ms: u64,
    pub db_idle_in_transaction_timeout_ms: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        Self {
            ws_max_frame_bytes: talkzone_mobile_api::limits::DEFAULT_MAX_FRAME_BYTES,
            http_max_body_bytes: 64 * 1024,
            ws_frames_per_sec: 20,
            ws_frames_burst: 40,
            user_messages_per_sec: 5,
            user_messages_burst: 20,
            // A school or youth centre shares one IP: generous per-IP limits, refused
            // visibly with Retry-After, never silently.
            auth_per_ip_per_min: 60,
            auth_burst: 120,
            ws_outbound_buffer: 512,
            // A person has a phone, a tablet and a laptop, and may reload a page or two.
            ws_per_user: 10,
            // A school, a youth centre or a mobile network's shared address.
            ws_per_source: 200,
            signups_free_per_source: 10,
            open_chats_per_source: 3,
            http_header_timeout: Duration::from_secs(15),
            http_body_timeout: Duration::from_secs(30),
            // A frozen node's locks last at most the idle timeout; a waiter outlasts it.
            db_lock_timeout_ms: 10_000,
            db_idle_in_transaction_timeout_ms: 5_000,
        }
    }
}

/// The validated configuration.
#[derive(Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    pub database_url: String,
    pub redis_url: Option<String>,
    /// `None`: use (or create) the key file in the data directory.
    pub jwt_secret: Option<String>,
    pub allowed_origins: Vec<String>,
    pub log: String,
    pub log_format: LogFormat,
    pub trusted_proxies: Vec<IpAddr>,
    pub second_factor: SecondFactorPolicy,
    pub limits: LimitsConfig,
    pub access_token_ttl: Duration,
    pub moderation_sla: Duration,
    /// `None`: the model built into the binary.
    pub moderation_model: Option<PathBuf>,
    pub desk: DeskConfig,
    pub surveys: SurveysConfig,
    /// Coming back to an anonymous account.
    pub returning: ReturningConfig,
    /// Single sign-on for staff; `None` when no issuer is set.
    pub sso: Option<SsoConfig>,
    /// Push notifications.
    pub push: PushConfig,
}

impl std::fmt::Debug for Config {
    // Secrets never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("listen", &self.listen)
            .field("data_dir", &self.data_dir)
            .field("database_url", &mask_url(&self.database_url))
            .field("redis_url", &self.redis_url.as_deref().map(mask_url))
            .field("jwt_secret", &self.jwt_secret.as_ref().map(|_| "***"))
            .field("allowed_origins", &self.allowed_origins)
            .field("log", &self.log)
            .field("trusted_proxies", &self.trusted_proxies)
            .field("limits", &self.limits)
            .finish()
    }
}

/// Hides the password of a URL.
pub fn mask_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) if u.password().is_some() => {
            let _ = u.set_password(Some("***"));
            u.to_string()
        }
        _ => url.to_owned(),
    }
}

/// A setting that cannot be used, with what to do about it.
#[derive(Debug, thiserror::Error)]
#[error("configuration: {setting}: {problem}")]
pub struct ConfigError {
    pub setting: &'static str,
    pub problem: String,
}

fn bad(setting: &'static str, problem: impl Into<String>) -> ConfigError {
    ConfigError { setting, problem: problem.into() }
}

impl Config {
    /// Merges flags/environment over the file over defaults, and validates the result.
    /// Creates the data directory if needed (it must be writable for SQLite and the key).
    pub fn load(args: &Settings) -> Result<Config, ConfigError> {
        Config::validate(args.resolve()?)
    }

    /// Fills what `s` leaves unset with the defaults and checks every setting, naming the first
    /// that cannot be used and what to do about it. Creates the data directory if needed.
    pub fn validate(mut s: Settings) -> Result<Config, ConfigError> {
        let sso = sso_config(&mut s)?;
        let d = LimitsConfig::default();
        let push = PushConfig::from_settings(&s)?;

        let listen_s = s.listen.unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_s
            .parse()
            .map_err(|_| bad("listen", format!("'{listen_s}' is not an address like 127.0.0.1:8080 or [::]:8080")))?;

        let data_dir = s.data_dir.unwrap_or_else(|| PathBuf::from("./talkzone-data"));
        let database_url =
            s.database_url.unwrap_or_else(|| format!("sqlite://{}", data_dir.join("talkzone.db").display()));
        let is_postgres = database_url.starts_with("postgres://") || database_url.starts_with("postgresql://");
        if is_postgres {
            url::Url::parse(&database_url)
                .map_err(|e| bad("database-url", format!("not a valid PostgreSQL URL: {e}")))?;
        } else if !database_url.starts_with("sqlite:") {
            return Err(bad(
                "database-url",
                format!("'{}' must start with sqlite:// or postgres://", mask_url(&database_url)),
            ));
        }
        // The data dir is needed for SQLite and for the generated key.
        let jwt_secret = s.jwt_secret;
        if !is_postgres || jwt_secret.is_none() {
            ensure_writable_dir(&data_dir)?;
        }
        if let Some(secret) = &jwt_secret {
            if secret.len() < 32 {
                return Err(bad("jwt-secret", "must be at least 32 bytes (use a long random string)"));
            }
        } else if is_postgres {
            return Err(bad(
                "jwt-secret",
                "required with PostgreSQL, so that every node signs and checks tokens with the same key",
            ));
        }

        let redis_url = s.redis_url;
        if let Some(r) = &redis_url {
            let u = url::Url::parse(r).map_err(|e| bad("redis-url", format!("not a valid URL: {e}")))?;
            if u.scheme() != "redis" && u.scheme() != "rediss" {
                return Err(bad("redis-url", "must start with redis:// or rediss://"));
            }
        }

        let allowed_origins = s.allowed_origins.map_or_else(|| default_origins(listen), |l| l.0);
        let allowed_origins = allowed_origins
            .iter()
            .map(|o| {
                normalise_origin(o).ok_or_else(|| {
                    bad("allowed-origins", format!("'{o}' is not an origin like https://chat.example.org"))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;

        let log = s.log.unwrap_or_else(|| "info".into());
        tracing_subscriber::EnvFilter::try_new(&log)
            .map_err(|e| bad("log", format!("'{log}' is not a valid filter: {e}")))?;
        let log_format = match s.log_format.as_deref() {
            None | Some("text") => LogFormat::Text,
            Some("json") => LogFormat::Json,
            Some(other) => return Err(bad("log-format", format!("'{other}' must be text or json"))),
        };

        let second_factor = match s.second_factor.as_deref() {
            None | Some("required") => SecondFactorPolicy::Required,
            Some("optional-for-moderators") => SecondFactorPolicy::OptionalForModerators,
            Some(other) => {
                return Err(bad("second-factor", format!("'{other}' must be required or optional-for-moderators")))
            }
        };

        let trusted_proxies = s
            .trusted_proxies
            .map_or_else(Vec::new, |l| l.0)
            .iter()
            .map(|p| p.parse::<IpAddr>().map_err(|_| bad("trusted-proxies", format!("'{p}' is not an IP address"))))
            .collect::<Result<Vec<_>, _>>()?;

        let limits = LimitsConfig {
            ws_max_frame_bytes: s.ws_max_frame_bytes.unwrap_or(d.ws_max_frame_bytes),
            http_max_body_bytes: s.http_max_body_bytes.unwrap_or(d.http_max_body_bytes),
            ws_frames_per_sec: s.ws_frames_per_sec.unwrap_or(d.ws_frames_per_sec),
            ws_frames_burst: s.ws_frames_burst.unwrap_or(d.ws_frames_burst),
            user_messages_per_sec: s.user_messages_per_sec.unwrap_or(d.user_messages_per_sec),
            user_messages_burst: s.user_messages_burst.unwrap_or(d.user_messages_burst),
            auth_per_ip_per_min: s.auth_per_ip_per_min.unwrap_or(d.auth_per_ip_per_min),
            auth_burst: s.auth_burst.unwrap_or(d.auth_burst),
            ws_outbound_buffer: s.ws_outbound_buffer.unwrap_or(d.ws_outbound_buffer),
            ws_per_user: s.ws_per_user.unwrap_or(d.ws_per_user),
            ws_per_source: s.ws_per_source.unwrap_or(d.ws_per_source),
            signups_free_per_source: s.signups_free_per_source.unwrap_or(d.signups_free_per_source),
            open_chats_per_source: s.open_chats_per_source.unwrap_or(d.open_chats_per_source),
            http_header_timeout: s.http_header_timeout_s.map_or(d.http_header_timeout, Duration::from_secs),
            http_body_timeout: s.http_body_timeout_s.map_or(d.http_body_timeout, Duration::from_secs),
            db_lock_timeout_ms: s.db_lock_timeout_ms.unwrap_or(d.db_lock_timeout_ms),
            db_idle_in_transaction_timeout_ms: s
                .db_idle_in_transaction_timeout_ms
                .unwrap_or(d.db_idle_in_transaction_timeout_ms),
        };
        limits.validate()?;
        let ttl = s.access_token_ttl_s.unwrap_or(900);
        if !(30..=86_400).contains(&ttl) {
            return Err(bad("access-token-ttl-s", "must be between 30 and 86400 seconds"));
        }

        let sla = s.moderation_sla_s.unwrap_or(900);
        if !(60..=7 * 86_400).contains(&sla) {
            return Err(bad("moderation-sla-s", "must be between 60 and 604800 seconds"));
        }

        let dd = DeskConfig::default();
        let secs = |v: Option<u64>, d: Duration, name: &'static str| -> Result<Duration, ConfigError> {
            let v = v.unwrap_or(d.as_secs());
            if !(10..=7 * 86_400).contains(&v) {
                return Err(bad(name, "must be between 10 and 604800 seconds"));
            }
            Ok(Duration::from_secs(v))
        };
        let oncall_webhook_url = s.oncall_webhook_url;
        if let Some(u) = &oncall_webhook_url {
            let parsed = url::Url::parse(u).map_err(|e| bad("oncall-webhook-url", format!("not a valid URL: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(bad("oncall-webhook-url", "must be an http:// or https:// URL"));
            }
        }
        let oncall_webhook_secret = s.oncall_webhook_secret.map(Secret);
        if oncall_webhook_url.is_some() && oncall_webhook_secret.is_none() {
            // An unsigned alert is one its receiver cannot tell from a forgery.
            return Err(bad("oncall-webhook-secret", "set it with the on-call webhook URL: alerts are signed with it"));
        }
        if oncall_webhook_secret.as_ref().is_some_and(|k| k.0.len() < MIN_WEBHOOK_SECRET) {
            return Err(bad("oncall-webhook-secret", format!("must be at least {MIN_WEBHOOK_SECRET} bytes")));
        }
        let close_outcomes = s.close_outcomes.map_or_else(|| dd.close_outcomes.clone(), |l| l.0);
        if close_outcomes.is_empty() {
            return Err(bad("close-outcomes", "list at least one outcome"));
        }
        let desk = DeskConfig {
            escalation_critical: secs(s.escalation_critical_s, dd.escalation_critical, "escalation-critical-s")?,
            escalation_high: secs(s.escalation_high_s, dd.escalation_high, "escalation-high-s")?,
            escalation_medium: secs(s.escalation_medium_s, dd.escalation_medium, "escalation-medium-s")?,
            oncall_webhook_url,
            oncall_webhook_secret,
            close_outcomes,
            assignment_timeout: secs(s.assignment_timeout_s, dd.assignment_timeout, "assignment-timeout-s")?,
            no_one_available_text: s.no_one_available_text.unwrap_or(dd.no_one_available_text),
            routing: match s.routing.as_deref() {
                None | Some("manual") => Routing::Manual,
                Some("auto") => Routing::Auto,
                Some(other) => return Err(bad("routing", format!("'{other}' must be manual or auto"))),
            },
            disconnect_grace: secs(s.disconnect_grace_s, dd.disconnect_grace, "disconnect-grace-s")?,
            chats_per_day: match s.chats_per_day.unwrap_or(dd.chats_per_day) {
                0 => return Err(bad("chats-per-day", "must be at least 1")),
                n => n,
            },
            max_duty_per_day: hours(s.max_duty_hours_per_day, dd.max_duty_per_day, 24.0, "max-duty-hours-per-day")?,
            max_duty_per_week: hours(
                s.max_duty_hours_per_week,
                dd.max_duty_per_week,
                168.0,
                "max-duty-hours-per-week",
            )?,
        };

        let sd = SurveysConfig::default();
        let suppression_threshold = s.survey_suppression_threshold.unwrap_or(sd.suppression_threshold);
        if !(MIN_SUPPRESSION_THRESHOLD..=MAX_SUPPRESSION_THRESHOLD).contains(&suppression_threshold) {
            return Err(bad(
                "survey-suppression-threshold",
                format!(
                    "must be between {MIN_SUPPRESSION_THRESHOLD} and {MAX_SUPPRESSION_THRESHOLD} (below 3 a hidden count \
                     could only be 0, 1 or 2, which gives single answers away)"
                ),
            ));
        }
        let retention_days = s.survey_retention_days.unwrap_or(sd.retention_days);
        if !(30..=3650).contains(&retention_days) {
            return Err(bad("survey-retention-days", "must be between 30 and 3650 days"));
        }
        let surveys = SurveysConfig { suppression_threshold, retention_days };
        let returning = ReturningConfig::from_settings(
            s.device_credential_days,
            s.inactive_prompt_minutes,
            s.inactive_close_minutes,
        )?;

        Ok(Config {
            listen,
            data_dir,
            database_url,
            redis_url,
            jwt_secret,
            allowed_origins,
            log,
            log_format,
            trusted_proxies,
            second_factor,
            limits,
            access_token_ttl: Duration::from_secs(ttl),
            moderation_sla: Duration::from_secs(sla),
            moderation_model: s.moderation_model,
            desk,
            surveys,
            returning,
            sso,
            push,
        })
    }

    /// A configuration for tests: SQLite in `data_dir`, port 0, a fixed key.
    pub fn for_tests(data_dir: &Path, database_url: Option<String>) -> Config {
        Config {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data_dir: data_dir.to_owned(),
            database_url: database_url
                .unwrap_or_else(|| format!("sqlite://{}", data_dir.join("talkzone.db").display())),
            redis_url: None,
            jwt_secret: Some("test-secret-test-secret-test-secret-0123456789".into()),
            allowed_origins: vec!["http://localhost:3000".into()],
            log: "warn".into(),
            log_format: LogFormat::Text,
            trusted_proxies: vec![],
            // The tests of signing in ask for `Required`; the rest sign staff in with a password.
            second_factor: SecondFactorPolicy::NotAsked,
            limits: LimitsConfig::default(),
            access_token_ttl: Duration::from_secs(900),
            moderation_sla: Duration::from_secs(900),
            moderation_model: None,
            desk: DeskConfig::default(),
            surveys: SurveysConfig::default(),
            returning: ReturningConfig::default(),
            sso: None,
            push: PushConfig::default(),
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }
}

impl LimitsConfig {
    fn validate(&self) -> Result<(), ConfigError> {
        if !(1024..=1024 * 1024).contains(&self.ws_max_frame_bytes) {
            return Err(bad("ws-max-frame-bytes", "must be between 1024 and 1048576"));
        }
        if !(1024..=16 * 1024 * 1024).contains(&self.http_max_body_bytes) {
            return Err(bad("http-max-body-bytes", "must be between 1024 and 16777216"));
        }
        for (name, v) in [
            ("ws-frames-per-sec", self.ws_frames_per_sec),
            ("ws-frames-burst", self.ws_frames_burst),
            ("user-messages-per-sec", self.user_messages_per_sec),
            ("user-messages-burst", self.user_messages_burst),
            ("auth-per-ip-per-min", self.auth_per_ip_per_min),
            ("auth-burst", self.auth_burst),
        ] {
            if v == 0 {
                return Err(bad(name, "must be at least 1"));
            }
        }
        if !(16..=65_536).contains(&self.ws_outbound_buffer) {
            return Err(bad("ws-outbound-buffer", "must be between 16 and 65536"));
        }
        for (name, v) in [
            ("ws-per-user", self.ws_per_user as u64),
            ("ws-per-source", self.ws_per_source as u64),
            ("signups-free-per-source", u64::from(self.signups_free_per_source)),
        ] {
            if v == 0 {
                return Err(bad(name, "must be at least 1"));
            }
        }
        for (name, t) in
            [("http-header-timeout-s", self.http_header_timeout), ("http-body-timeout-s", self.http_body_timeout)]
        {
            if !(Duration::from_secs(1)..=Duration::from_secs(600)).contains(&t) {
                return Err(bad(name, "must be between 1 and 600 seconds"));
            }
        }
        if !(100..=600_000).contains(&self.db_idle_in_transaction_timeout_ms) {
            return Err(bad("db-idle-in-transaction-timeout-ms", "must be between 100 and 600000"));
        }
        if self.db_lock_timeout_ms < self.db_idle_in_transaction_timeout_ms || self.db_lock_timeout_ms > 600_000 {
            return Err(bad(
                "db-lock-timeout-ms",
                "must be at least db-idle-in-transaction-timeout-ms (so that a write waiting on a frozen node's \
                 lock outlasts it) and at most 600000",
            ));
        }
        Ok(())
    }
}

fn hours(v: Option<f64>, default: Duration, max: f64, name: &'static str) -> Result<Duration, ConfigError> {
    match v {
        None => Ok(default),
        Some(h) if h.is_finite() && h >= 0.5 && h <= max => Ok(Duration::from_secs_f64(h * 3600.0)),
        Some(_) => Err(bad(name, format!("must be between 0.5 and {max} hours"))),
    }
}

fn ensure_writable_dir(dir: &Path) -> Result<(), ConfigError> {
    let new = !dir.exists();
    std::fs::create_dir_all(dir).map_err(|e| bad("data-dir", format!("cannot create {}: {e}", dir.display())))?;
    // A directory made here is this user's only: it holds the database and the signing key.
    #[cfg(unix)]
    if new {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700));
    }
    let probe = dir.join(".write-test");
    std::fs::write(&probe, b"ok").map_err(|e| bad("data-dir", format!("{} is not writable: {e}", dir.display())))?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}

fn default_origins(listen: SocketAddr) -> Vec<String> {
    let port = listen.port();
    if listen.ip().is_loopback() || listen.ip().is_unspecified() {
        vec![format!("http://localhost:{port}"), format!("http://127.0.0.1:{port}")]
    } else {
        vec![format!("http://{listen}")]
    }
}

/// `scheme://host[:port]`, lower-case, without a path; `None` if it is not an origin.
pub fn normalise_origin(s: &str) -> Option<String> {
    let u = url::Url::parse(s).ok()?;
    if !matches!(u.scheme(), "http" | "https") || u.host_str().is_none() {
        return None;
    }
    if u.path() != "/" && !u.path().is_empty() {
        return None;
    }
    Some(u.origin().ascii_serialization())
}

/// How long to wait for in-flight work at shutdown.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> Settings {
        let dir = std::env::temp_dir().join(format!("tz-config-{}", ulid::Ulid::new()));
        Settings { data_dir: Some(dir), ..Default::default() }
    }

    #[test]
    fn defaults_are_valid() {
        let c = Config::load(&args()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert!(c.database_url.starts_with("sqlite://"));
        assert!(c.allowed_origins.contains(&"http://localhost:8080".to_owned()));
    }

    #[test]
    fn bad_values_say_what_to_fix() {
        let mut a = args();
        a.listen = Some("nonsense".into());
        assert_eq!(Config::load(&a).unwrap_err().setting, "listen");
        let mut a = args();
        a.database_url = Some("mysql://x".into());
        assert_eq!(Config::load(&a).unwrap_err().setting, "database-url");
        let mut a = args();
        a.database_url = Some("postgres://u@localhost/db".into());
        assert_eq!(Config::load(&a).unwrap_err().setting, "jwt-secret");
        let mut a = args();
        a.allowed_origins = Some("not an origin".into());
        assert_eq!(Config::load(&a).unwrap_err().setting, "allowed-origins");
        let mut a = args();
        a.ws_frames_per_sec = Some(0);
        assert_eq!(Config::load(&a).unwrap_err().setting, "ws-frames-per-sec");
        let mut a = args();
        a.data_dir = Some(PathBuf::from("/proc/nope/talkzone"));
        assert_eq!(Config::load(&a).unwrap_err().setting, "data-dir");
    }

    /// Staff are asked for a second factor unless the setting relaxes it for moderators; no
    /// setting turns it off.
    #[test]
    fn the_second_factor_is_required_unless_relaxed_for_moderators() {
        assert_eq!(Config::load(&args()).unwrap().second_factor, SecondFactorPolicy::Required);
        let mut a = args();
        a.second_factor = Some("optional-for-moderators".into());
        assert_eq!(Config::load(&a).unwrap().second_factor, SecondFactorPolicy::OptionalForModerators);
        for off in ["off", "none", "not-asked", "optional"] {
            let mut a = args();
            a.second_factor = Some(off.into());
            assert_eq!(Config::load(&a).unwrap_err().setting, "second-factor", "{off}");
        }
    }

    #[test]
    fn single_sign_on_needs_its_client_and_a_role_mapping() {
        assert!(Config::load(&args()).unwrap().sso.is_none(), "off unless an issuer is set");
        let sso = || {
            let mut a = args();
            a.oidc_issuer = Some("https://login.example/tenant/v2.0".into());
            a.oidc_client_id = Some("client".into());
            a.oidc_client_secret = Some("secret".into());
            a.oidc_redirect_url = Some("https://talkzone.example/v1/auth/sso/callback".into());
            a.oidc_roles = Some(List::from("g-workers=duty_worker, g-admins = yot_admin"));
            a
        };
        let c = Config::load(&sso()).unwrap().sso.unwrap();
        assert_eq!(c.role_claim, "groups");
        assert_eq!(
            c.roles,
            vec![
                ("g-workers".into(), talkzone_mobile_api::Role::DutyWorker),
                ("g-admins".into(), talkzone_mobile_api::Role::YotAdmin)
            ]
        );
        let bad = |f: fn(&mut Settings)| {
            let mut a = sso();
            f(&mut a);
            Config::load(&a).unwrap_err().setting
        };
        assert_eq!(bad(|a| a.oidc_client_secret = None), "oidc-client-secret");
        assert_eq!(bad(|a| a.oidc_redirect_url = Some("not a url".into())), "oidc-redirect-url");
        assert_eq!(bad(|a| a.oidc_roles = None), "oidc-roles", "nobody could sign in");
        assert_eq!(bad(|a| a.oidc_roles = Some(List::from("g=young_person"))), "oidc-roles", "staff roles only");
        assert_eq!(bad(|a| a.oidc_roles = Some(List::from("no-role-given"))), "oidc-roles");
    }

    #[test]
    fn connection_and_database_limits_are_validated() {
        let c = Config::load(&args()).unwrap();
        assert_eq!((c.limits.ws_per_user, c.limits.ws_per_source, c.limits.open_chats_per_source), (10, 200, 3));
        let bad = |f: fn(&mut Settings)| {
            let mut a = args();
            f(&mut a);
            Config::load(&a).unwrap_err().setting
        };
        assert_eq!(bad(|a| a.ws_per_user = Some(0)), "ws-per-user");
        assert_eq!(bad(|a| a.signups_free_per_source = Some(0)), "signups-free-per-source");
        assert_eq!(bad(|a| a.http_header_timeout_s = Some(0)), "http-header-timeout-s");
        assert_eq!(bad(|a| a.http_body_timeout_s = Some(601)), "http-body-timeout-s");
        assert_eq!(bad(|a| a.db_idle_in_transaction_timeout_ms = Some(50)), "db-idle-in-transaction-timeout-ms");
        // A write waiting on a frozen node's lock must outlast the frozen node's transaction.
        assert_eq!(bad(|a| a.db_lock_timeout_ms = Some(1_000)), "db-lock-timeout-ms");
        let mut a = args();
        a.open_chats_per_source = Some(0);
        assert_eq!(Config::load(&a).unwrap().limits.open_chats_per_source, 0, "0 keeps no sources");
    }

    #[test]
    fn survey_settings_are_validated() {
        let c = Config::load(&args()).unwrap();
        assert_eq!((c.surveys.suppression_threshold, c.surveys.retention_days), (5, 1095));
        for bad_k in [0, 1, 2, 101] {
            let mut a = args();
            a.survey_suppression_threshold = Some(bad_k);
            assert_eq!(Config::load(&a).unwrap_err().setting, "survey-suppression-threshold", "{bad_k}");
        }
        let mut a = args();
        a.survey_suppression_threshold = Some(3);
        assert_eq!(Config::load(&a).unwrap().surveys.suppression_threshold, 3);
        let mut a = args();
        a.survey_retention_days = Some(7);
        assert_eq!(Config::load(&a).unwrap_err().setting, "survey-retention-days");
        // From the file too.
        let dir = std::env::temp_dir().join(format!("tz-config-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("talkzone.toml");
        std::fs::write(&file, "survey_suppression_threshold = 10\nsurvey_retention_days = 400\n").unwrap();
        let c = Config::load(&Settings { config: Some(file), data_dir: Some(dir), ..Default::default() }).unwrap();
        assert_eq!((c.surveys.suppression_threshold, c.surveys.retention_days), (10, 400));
    }

    #[test]
    fn flags_win_over_the_file() {
        let dir = std::env::temp_dir().join(format!("tz-config-{}", ulid::Ulid::new()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("talkzone.toml");
        std::fs::write(&file, "listen = \"127.0.0.1:9000\"\nlog = \"debug\"\n").unwrap();
        let mut a = Settings { config: Some(file.clone()), data_dir: Some(dir.clone()), ..Default::default() };
        let c = Config::load(&a).unwrap();
        assert_eq!(c.listen.port(), 9000);
        assert_eq!(c.log, "debug");
        a.listen = Some("127.0.0.1:9001".into());
        assert_eq!(Config::load(&a).unwrap().listen.port(), 9001);
        std::fs::write(&file, "lisen = \"x\"\n").unwrap();
        assert_eq!(Config::load(&a).unwrap_err().setting, "config");
    }

    #[test]
    fn the_on_call_webhook_needs_its_signing_secret() {
        let mut a = args();
        a.oncall_webhook_url = Some("https://oncall.example/hook".into());
        assert_eq!(Config::load(&a).unwrap_err().setting, "oncall-webhook-secret");
        a.oncall_webhook_secret = Some("short".into());
        assert_eq!(Config::load(&a).unwrap_err().setting, "oncall-webhook-secret");
        a.oncall_webhook_secret = Some("k".repeat(MIN_WEBHOOK_SECRET));
        let c = Config::load(&a).unwrap();
        assert_eq!(format!("{:?}", c.desk.oncall_webhook_secret), "Some(***)", "never in a log");
    }

    #[test]
    fn secrets_are_masked_in_debug_output() {
        let mut c = Config::for_tests(Path::new("/tmp"), Some("postgres://u:hunter2@h/db".into()));
        c.jwt_secret = Some("supersecretsupersecretsupersecret".into());
        let s = format!("{c:?}");
        assert!(!s.contains("hunter2") && !s.contains("supersecret"), "{s}");
    }
}
