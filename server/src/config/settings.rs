//! Every setting, declared once: its flag and `TALKZONE_*` variable (clap), its key in the TOML
//! file (serde) and its help (the doc comment). Which value is in force is decided here; whether
//! it can be used, and its default, in `Config::validate` (config/mod.rs).

use std::path::{Path, PathBuf};

use clap::Args;
use serde::Deserialize;

use super::{bad, ConfigError};

/// Declares the settings struct as written inside it, plus `or`, which fills every field unset in
/// `self` from another: the overlay, without naming a setting a second time.
macro_rules! settings {
    ($(#[$meta:meta])* pub struct $name:ident { $($(#[$field_meta:meta])* pub $field:ident: Option<$ty:ty>,)* }) => {
        $(#[$meta])*
        pub struct $name {
            $($(#[$field_meta])* pub $field: Option<$ty>,)*
        }

        impl $name {
            /// Each setting from `self` where it is set, else from `under`.
            pub fn or(self, under: $name) -> $name {
                $name { $($field: self.$field.or(under.$field)),* }
            }
        }
    };
}

settings! {
    /// Every setting, as flags and `TALKZONE_*` variables, and as the keys of the TOML file (the
    /// same names as the flags, with `_` instead of `-`). All optional here so that a value
    /// missing from all of them comes from the default.
    #[derive(Debug, Clone, Default, Args, Deserialize)]
    #[serde(deny_unknown_fields)]
    pub struct Settings {
        /// TOML file with any of the settings below (flags and environment win over it).
        #[arg(long, env = "TALKZONE_CONFIG", global = true)]
        #[serde(skip)]
        pub config: Option<PathBuf>,
        /// Address to listen on.
        #[arg(long, env = "TALKZONE_LISTEN", global = true)]
        pub listen: Option<String>,
        /// Directory for the SQLite database and the generated signing key.
        #[arg(long, env = "TALKZONE_DATA_DIR", global = true)]
        pub data_dir: Option<PathBuf>,
        /// `sqlite://…` or `postgres://…`. Its value is never printed in `--help` (it may hold a
        /// password); nor are the Redis URL's or the on-call webhook's.
        #[arg(long, env = "TALKZONE_DATABASE_URL", global = true, hide_env_values = true)]
        pub database_url: Option<String>,
        /// `redis://…`; unset means the in-process broker (a single node).
        #[arg(long, env = "TALKZONE_REDIS_URL", global = true, hide_env_values = true)]
        pub redis_url: Option<String>,
        /// HS256 signing key for access tokens (at least 32 bytes).
        #[arg(long, env = "TALKZONE_JWT_SECRET", global = true, hide_env_values = true)]
        pub jwt_secret: Option<String>,
        /// Comma-separated origins allowed to open browser WebSockets.
        #[arg(long, env = "TALKZONE_ALLOWED_ORIGINS", global = true)]
        pub allowed_origins: Option<List>,
        /// Log filter (tracing syntax), e.g. `info` or `talkzone_server=debug`.
        #[arg(long, env = "TALKZONE_LOG", global = true)]
        pub log: Option<String>,
        /// `text` or `json`.
        #[arg(long, env = "TALKZONE_LOG_FORMAT", global = true)]
        pub log_format: Option<String>,
        /// Comma-separated proxy addresses whose `X-Forwarded-For` is trusted.
        #[arg(long, env = "TALKZONE_TRUSTED_PROXIES", global = true)]
        pub trusted_proxies: Option<List>,
        /// Largest WebSocket frame in bytes (larger closes the socket with 1009).
        #[arg(long, env = "TALKZONE_WS_MAX_FRAME_BYTES", global = true)]
        pub ws_max_frame_bytes: Option<usize>,
        /// Largest HTTP request body in bytes.
        #[arg(long, env = "TALKZONE_HTTP_MAX_BODY_BYTES", global = true)]
        pub http_max_body_bytes: Option<usize>,
        /// Frames per second each WebSocket connection may send (sustained).
        #[arg(long, env = "TALKZONE_WS_FRAMES_PER_SEC", global = true)]
        pub ws_frames_per_sec: Option<u32>,
        /// Burst of frames above the sustained rate.
        #[arg(long, env = "TALKZONE_WS_FRAMES_BURST", global = true)]
        pub ws_frames_burst: Option<u32>,
        /// Messages per second each user may send over all their connections (sustained).
        #[arg(long, env = "TALKZONE_USER_MESSAGES_PER_SEC", global = true)]
        pub user_messages_per_sec: Option<u32>,
        /// Burst of messages above the sustained rate.
        #[arg(long, env = "TALKZONE_USER_MESSAGES_BURST", global = true)]
        pub user_messages_burst: Option<u32>,
        /// Requests per minute each client IP (IPv6: each /64) may make to the auth routes.
        #[arg(long, env = "TALKZONE_AUTH_PER_IP_PER_MIN", global = true)]
        pub auth_per_ip_per_min: Option<u32>,
        /// Burst of auth requests above the sustained rate.
        #[arg(long, env = "TALKZONE_AUTH_BURST", global = true)]
        pub auth_burst: Option<u32>,
        /// Frames queued for one connection before it counts as a slow consumer and is closed.
        #[arg(long, env = "TALKZONE_WS_OUTBOUND_BUFFER", global = true)]
        pub ws_outbound_buffer: Option<usize>,
        /// Open WebSockets one user may hold on one node (more are refused with 429).
        #[arg(long, env = "TALKZONE_WS_PER_USER", global = true)]
        pub ws_per_user: Option<usize>,
        /// Open WebSockets one client IP (IPv6: each /64) may hold on one node.
        #[arg(long, env = "TALKZONE_WS_PER_SOURCE", global = true)]
        pub ws_per_source: Option<usize>,
        /// Who must sign in with a second factor: `required` (every staff role) or
        /// `optional-for-moderators`.
        #[arg(long, env = "TALKZONE_SECOND_FACTOR", global = true)]
        pub second_factor: Option<String>,
        /// Single sign-on for staff (OpenID Connect): the identity provider's issuer URL (its
        /// discovery document is at `<issuer>/.well-known/openid-configuration`). Unset: no SSO.
        #[arg(long, env = "TALKZONE_OIDC_ISSUER", global = true)]
        pub oidc_issuer: Option<String>,
        /// The client id Talk Zone is registered under at the identity provider.
        #[arg(long, env = "TALKZONE_OIDC_CLIENT_ID", global = true)]
        pub oidc_client_id: Option<String>,
        /// The client secret of that registration.
        #[arg(long, env = "TALKZONE_OIDC_CLIENT_SECRET", global = true, hide_env_values = true)]
        pub oidc_client_secret: Option<String>,
        /// Where the identity provider sends staff back: `https://<this server>/v1/auth/sso/callback`.
        #[arg(long, env = "TALKZONE_OIDC_REDIRECT_URL", global = true)]
        pub oidc_redirect_url: Option<String>,
        /// The ID token claim that carries the role: `groups` (default) or `roles`.
        #[arg(long, env = "TALKZONE_OIDC_ROLE_CLAIM", global = true)]
        pub oidc_role_claim: Option<String>,
        /// Comma-separated `value=role` pairs (role: duty_worker, supervisor, moderator, yot_admin);
        /// the first pair whose value the claim holds gives the role. No pair: refused.
        #[arg(long, env = "TALKZONE_OIDC_ROLES", global = true)]
        pub oidc_roles: Option<List>,
        /// Anonymous sign-ups one client IP may make at no cost; past them each waits twice as long.
        #[arg(long, env = "TALKZONE_SIGNUPS_FREE_PER_SOURCE", global = true)]
        pub signups_free_per_source: Option<u32>,
        /// Support chats one client IP may have waiting in the queue at once (0: sources not kept).
        #[arg(long, env = "TALKZONE_OPEN_CHATS_PER_SOURCE", global = true)]
        pub open_chats_per_source: Option<u32>,
        /// Seconds a client has to send a request's head (and an idle kept-alive connection stays).
        #[arg(long, env = "TALKZONE_HTTP_HEADER_TIMEOUT_S", global = true)]
        pub http_header_timeout_s: Option<u64>,
        /// Seconds a client has to send a request's body.
        #[arg(long, env = "TALKZONE_HTTP_BODY_TIMEOUT_S", global = true)]
        pub http_body_timeout_s: Option<u64>,
        /// PostgreSQL: milliseconds a statement may wait for a lock (lock_timeout).
        #[arg(long, env = "TALKZONE_DB_LOCK_TIMEOUT_MS", global = true)]
        pub db_lock_timeout_ms: Option<u64>,
        /// PostgreSQL: milliseconds a session may sit idle inside a transaction before it is ended.
        #[arg(long, env = "TALKZONE_DB_IDLE_IN_TRANSACTION_TIMEOUT_MS", global = true)]
        pub db_idle_in_transaction_timeout_ms: Option<u64>,
        /// Access token lifetime in seconds.
        #[arg(long, env = "TALKZONE_ACCESS_TOKEN_TTL_S", global = true)]
        pub access_token_ttl_s: Option<u64>,
        /// Service level for the moderation queue: items older than this show as overdue.
        #[arg(long, env = "TALKZONE_MODERATION_SLA_S", global = true)]
        pub moderation_sla_s: Option<u64>,
        /// A moderation model file (the learned stage) to use instead of the built-in one.
        #[arg(long, env = "TALKZONE_MODERATION_MODEL", global = true)]
        pub moderation_model: Option<PathBuf>,
        /// Seconds a critical escalation may wait for a supervisor before it re-escalates.
        #[arg(long, env = "TALKZONE_ESCALATION_CRITICAL_S", global = true)]
        pub escalation_critical_s: Option<u64>,
        /// … a high one.
        #[arg(long, env = "TALKZONE_ESCALATION_HIGH_S", global = true)]
        pub escalation_high_s: Option<u64>,
        /// … a medium one.
        #[arg(long, env = "TALKZONE_ESCALATION_MEDIUM_S", global = true)]
        pub escalation_medium_s: Option<u64>,
        /// Where re-escalations are POSTed for the on-call contact (JSON), with retries.
        #[arg(long, env = "TALKZONE_ONCALL_WEBHOOK_URL", global = true, hide_env_values = true)]
        pub oncall_webhook_url: Option<String>,
        /// The key on-call alerts are signed with (HMAC-SHA-256 over the timestamp and the body;
        /// at least 32 bytes; required with the URL).
        #[arg(long, env = "TALKZONE_ONCALL_WEBHOOK_SECRET", global = true, hide_env_values = true)]
        pub oncall_webhook_secret: Option<String>,
        /// Comma-separated outcomes a support chat can be closed with.
        #[arg(long, env = "TALKZONE_CLOSE_OUTCOMES", global = true)]
        pub close_outcomes: Option<List>,
        /// Seconds an assigned worker has to send a first reply before the chat returns to the queue.
        #[arg(long, env = "TALKZONE_ASSIGNMENT_TIMEOUT_S", global = true)]
        pub assignment_timeout_s: Option<u64>,
        /// The message a young person gets at once when no worker is free.
        #[arg(long, env = "TALKZONE_NO_ONE_AVAILABLE_TEXT", global = true)]
        pub no_one_available_text: Option<String>,
        /// `manual` (workers pick chats up) or `auto` (the most free on-duty worker gets the next).
        #[arg(long, env = "TALKZONE_ROUTING", global = true)]
        pub routing: Option<String>,
        /// Seconds a worker may be disconnected (or off duty) before their chats return to the queue.
        #[arg(long, env = "TALKZONE_DISCONNECT_GRACE_S", global = true)]
        pub disconnect_grace_s: Option<u64>,
        /// Open support chats a young person may start per day (a kind message says when more are possible).
        #[arg(long, env = "TALKZONE_CHATS_PER_DAY", global = true)]
        pub chats_per_day: Option<u32>,
        /// Most hours a worker may be on duty in any 24 hours (wellbeing; warned, then enforced).
        #[arg(long, env = "TALKZONE_MAX_DUTY_HOURS_PER_DAY", global = true)]
        pub max_duty_hours_per_day: Option<f64>,
        /// Most hours a worker may be on duty in any 7 days.
        #[arg(long, env = "TALKZONE_MAX_DUTY_HOURS_PER_WEEK", global = true)]
        pub max_duty_hours_per_week: Option<f64>,
        /// Survey reports: any count under this is suppressed (at least 3; default 5).
        #[arg(long, env = "TALKZONE_SURVEY_SUPPRESSION_THRESHOLD", global = true)]
        pub survey_suppression_threshold: Option<i64>,
        /// Days survey answers are kept after they were last saved (default 1095, three years).
        #[arg(long, env = "TALKZONE_SURVEY_RETENTION_DAYS", global = true)]
        pub survey_retention_days: Option<u32>,
        /// Days a device credential lasts unused (every sign-in with it starts the count again).
        #[arg(long, env = "TALKZONE_DEVICE_CREDENTIAL_DAYS", global = true)]
        pub device_credential_days: Option<u32>,
        /// Minutes a young person may leave a worker's message unanswered before the worker is told.
        #[arg(long, env = "TALKZONE_INACTIVE_PROMPT_MINUTES", global = true)]
        pub inactive_prompt_minutes: Option<u32>,
        /// Minutes unanswered (from the worker's last message) before the chat closes `no_response`.
        #[arg(long, env = "TALKZONE_INACTIVE_CLOSE_MINUTES", global = true)]
        pub inactive_close_minutes: Option<u32>,
        /// Web Push: the VAPID contact (`mailto:…` or `https://…`, RFC 8292); Web Push is on when set.
        #[arg(long, env = "TALKZONE_PUSH_VAPID_SUBJECT", global = true)]
        pub push_vapid_subject: Option<String>,
        /// Web Push: the VAPID private key, a PKCS#8 PEM file (`talkzone push-keys` writes one);
        /// unset: `vapid-private-key.pem` in the data directory, created at first start.
        #[arg(long, env = "TALKZONE_PUSH_VAPID_KEY_FILE", global = true)]
        pub push_vapid_key_file: Option<PathBuf>,
        /// At most one push notification per chat in this many seconds (default 120).
        #[arg(long, env = "TALKZONE_PUSH_WINDOW_SECONDS", global = true)]
        pub push_window_seconds: Option<u32>,
        /// Comma-separated hosts a Web Push endpoint may name (`*.` for a domain's subdomains);
        /// default: the browsers' push services.
        #[arg(long, env = "TALKZONE_PUSH_WEB_PUSH_HOSTS", global = true)]
        pub push_web_push_hosts: Option<List>,
        /// Tests only: accept push endpoints on http://127.0.0.1 and http://localhost.
        #[arg(long, env = "TALKZONE_PUSH_ALLOW_PLAIN_HTTP", global = true)]
        pub push_allow_plain_http: Option<bool>,
        /// FCM HTTP v1: the service account JSON file; FCM is on when set.
        #[arg(long, env = "TALKZONE_PUSH_FCM_SERVICE_ACCOUNT", global = true)]
        pub push_fcm_service_account: Option<PathBuf>,
        /// FCM's base URL (default https://fcm.googleapis.com).
        #[arg(long, env = "TALKZONE_PUSH_FCM_BASE_URL", global = true)]
        pub push_fcm_base_url: Option<String>,
        /// FCM: Google's OAuth2 token endpoint, where the service account's signed grant is
        /// exchanged for an access token, and the grant's `aud` (default https://oauth2.googleapis.com/token).
        #[arg(long, env = "TALKZONE_PUSH_FCM_TOKEN_URI", global = true)]
        pub push_fcm_token_uri: Option<String>,
        /// APNs: the token-auth key (`.p8` file); APNs is on when it and the three below are set.
        #[arg(long, env = "TALKZONE_PUSH_APNS_KEY_FILE", global = true)]
        pub push_apns_key_file: Option<PathBuf>,
        /// APNs: the key's id (`kid`).
        #[arg(long, env = "TALKZONE_PUSH_APNS_KEY_ID", global = true)]
        pub push_apns_key_id: Option<String>,
        /// APNs: the team id (`iss`).
        #[arg(long, env = "TALKZONE_PUSH_APNS_TEAM_ID", global = true)]
        pub push_apns_team_id: Option<String>,
        /// APNs: the app's bundle id (`apns-topic`).
        #[arg(long, env = "TALKZONE_PUSH_APNS_TOPIC", global = true)]
        pub push_apns_topic: Option<String>,
        /// APNs' base URL (default https://api.push.apple.com).
        #[arg(long, env = "TALKZONE_PUSH_APNS_BASE_URL", global = true)]
        pub push_apns_base_url: Option<String>,
    }
}

impl Settings {
    /// The settings in force: flags, then environment, then the file, then (in `validate`) the
    /// defaults. clap has already merged the first two into `self` (its `env` attribute: a flag
    /// wins over its variable); the file named by `config` fills in what both leave unset.
    pub fn resolve(&self) -> Result<Settings, ConfigError> {
        match &self.config {
            Some(path) => Ok(self.clone().or(Settings::read_file(path)?)),
            None => Ok(self.clone()),
        }
    }

    /// The TOML file; a key that is not a setting (a typo) stops the start.
    fn read_file(path: &Path) -> Result<Settings, ConfigError> {
        let text =
            std::fs::read_to_string(path).map_err(|e| bad("config", format!("cannot read {}: {e}", path.display())))?;
        toml::from_str::<Settings>(&text).map_err(|e| bad("config", format!("{} is not valid: {e}", path.display())))
    }
}

/// A list setting: comma-separated as a flag or variable (`a, b`: spaces trimmed, empty items
/// dropped), an array of strings in the file (taken as written).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct List(pub Vec<String>);

impl From<&str> for List {
    fn from(s: &str) -> List {
        List(s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{CommandFactory, Parser};

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        settings: Settings,
    }

    #[test]
    fn flags_parse_as_declared() {
        Cli::command().debug_assert();
        let cli = Cli::parse_from([
            "talkzone",
            "--allowed-origins",
            " https://a.example, ,https://b.example",
            "--routing",
            "auto",
        ]);
        assert_eq!(
            cli.settings.allowed_origins,
            Some(List(vec!["https://a.example".into(), "https://b.example".into()]))
        );
        assert_eq!(cli.settings.routing.as_deref(), Some("auto"));
    }

    #[test]
    fn the_file_takes_lists_as_arrays_and_no_config_key() {
        let s: Settings = toml::from_str("close_outcomes = [\"resolved\", \" other \"]\n").unwrap();
        assert_eq!(s.close_outcomes, Some(List(vec!["resolved".into(), " other ".into()])));
        assert!(toml::from_str::<Settings>("close_outcomes = \"resolved\"\n").is_err());
        let e = toml::from_str::<Settings>("config = \"other.toml\"\n").unwrap_err();
        assert!(e.to_string().contains("unknown field `config`"), "{e}");
    }

    #[test]
    fn set_values_win_over_the_ones_under_them() {
        let over = Settings { listen: Some("127.0.0.1:1".into()), ..Default::default() };
        let under = Settings { listen: Some("127.0.0.1:2".into()), log: Some("debug".into()), ..Default::default() };
        let s = over.or(under);
        assert_eq!((s.listen.as_deref(), s.log.as_deref()), (Some("127.0.0.1:1"), Some("debug")));
    }
}
