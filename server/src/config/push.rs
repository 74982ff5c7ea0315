//! Settings for push notifications (docs/operations.md, "Push notifications").

use std::path::PathBuf;
use std::time::Duration;

use super::{bad, ConfigError, Settings};

/// Web Push (VAPID), FCM and APNs, and how often a chat may notify.
#[derive(Debug, Clone)]
pub struct PushConfig {
    /// VAPID `sub` claim (RFC 8292: `mailto:` or `https:` contact for the push service's
    /// operator). Web Push is on when it is set.
    pub vapid_subject: Option<String>,
    /// The VAPID private key (PKCS#8 PEM file); unset: `vapid-private-key.pem` in the data
    /// directory, created at first start.
    pub vapid_key_file: Option<PathBuf>,
    /// At most one notification per chat in this long.
    pub window: Duration,
    /// The hosts a Web Push endpoint may name (an entry `*.example.com` allows its subdomains).
    /// The server POSTs to the endpoint a young person gives, so an open list would let anyone
    /// make it send requests into the council's own network (server-side request forgery).
    pub web_push_hosts: Vec<String>,
    /// Tests only: accept `http://127.0.0.1`/`http://localhost` endpoints (a local push service).
    pub allow_plain_http: bool,
    /// Each request to a push service gives up after this long (and is retried).
    pub timeout: Duration,
    /// FCM HTTP v1: the service account JSON file (project_id, client_email, private_key).
    /// FCM is on when it is set.
    pub fcm_service_account: Option<PathBuf>,
    /// FCM's base URL (tests point it at a local server).
    pub fcm_base_url: String,
    /// Google's OAuth2 token endpoint: the grant is posted here and names it as its `aud`. A
    /// setting rather than the service account file's `token_uri`, so that a file cannot send
    /// the signed grant elsewhere; tests point it at a local server.
    pub fcm_token_uri: String,
    /// APNs token auth: the `.p8` key file, its key id, the team id and the app's bundle id
    /// (`apns-topic`). APNs is on when all four are set.
    pub apns_key_file: Option<PathBuf>,
    pub apns_key_id: Option<String>,
    pub apns_team_id: Option<String>,
    pub apns_topic: Option<String>,
    /// APNs' base URL (`https://api.sandbox.push.apple.com` for development builds; tests point
    /// it at a local HTTP/2 server).
    pub apns_base_url: String,
}

/// The push services of Chrome, Edge, Firefox, Safari (macOS and iOS) and Opera.
pub const DEFAULT_WEB_PUSH_HOSTS: [&str; 5] = [
    "fcm.googleapis.com",
    "updates.push.services.mozilla.com",
    "*.notify.windows.com",
    "web.push.apple.com",
    "*.push.apple.com",
];

impl Default for PushConfig {
    fn default() -> Self {
        // Two minutes: a burst of replies makes one notification, and a young person who put the
        // phone down still hears about a reply that comes later.
        Self {
            vapid_subject: None,
            vapid_key_file: None,
            window: Duration::from_secs(120),
            web_push_hosts: DEFAULT_WEB_PUSH_HOSTS.iter().map(|h| (*h).to_owned()).collect(),
            allow_plain_http: false,
            timeout: Duration::from_secs(10),
            fcm_service_account: None,
            fcm_base_url: "https://fcm.googleapis.com".into(),
            fcm_token_uri: "https://oauth2.googleapis.com/token".into(),
            apns_key_file: None,
            apns_key_id: None,
            apns_team_id: None,
            apns_topic: None,
            apns_base_url: "https://api.push.apple.com".into(),
        }
    }
}

impl PushConfig {
    pub(super) fn from_settings(s: &Settings) -> Result<Self, ConfigError> {
        let d = Self::default();
        if let Some(sub) = &s.push_vapid_subject {
            if !(sub.starts_with("mailto:") || sub.starts_with("https://")) || sub.len() > 200 {
                return Err(bad("push-vapid-subject", "must be a mailto: or https: address (RFC 8292)"));
            }
        }
        let window = s.push_window_seconds.unwrap_or(d.window.as_secs() as u32);
        if !(1..=3600).contains(&window) {
            return Err(bad("push-window-seconds", "must be between 1 and 3600 seconds"));
        }
        // Credentials go to these URLs: https, or plain http only to this machine (a test's
        // local server).
        let url = |name: &'static str, v: &Option<String>, default: String| -> Result<String, ConfigError> {
            let v = v.clone().unwrap_or(default);
            match url::Url::parse(&v) {
                Ok(u) if u.scheme() == "https" => Ok(v.trim_end_matches('/').to_owned()),
                Ok(u) if u.scheme() == "http" && matches!(u.host_str(), Some("127.0.0.1" | "localhost" | "[::1]")) => {
                    Ok(v.trim_end_matches('/').to_owned())
                }
                _ => Err(bad(name, "must be an https:// URL")),
            }
        };
        let apns = [&s.push_apns_key_id, &s.push_apns_team_id, &s.push_apns_topic];
        if s.push_apns_key_file.is_some() != apns.iter().all(|v| v.is_some()) {
            return Err(bad(
                "push-apns-key-file",
                "APNs needs push-apns-key-file, push-apns-key-id, push-apns-team-id and push-apns-topic together",
            ));
        }
        let web_push_hosts = match &s.push_web_push_hosts {
            None => d.web_push_hosts,
            Some(l) => {
                let hosts: Vec<String> = l.0.iter().map(|h| h.trim().to_ascii_lowercase()).collect();
                let ok = |h: &String| {
                    let bare = h.strip_prefix("*.").unwrap_or(h);
                    !bare.is_empty()
                        && bare.contains('.')
                        && bare.chars().all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
                };
                if hosts.is_empty() || !hosts.iter().all(ok) {
                    return Err(bad(
                        "push-web-push-hosts",
                        "must list host names such as fcm.googleapis.com or *.push.apple.com",
                    ));
                }
                hosts
            }
        };
        Ok(Self {
            web_push_hosts,
            vapid_subject: s.push_vapid_subject.clone(),
            vapid_key_file: s.push_vapid_key_file.clone(),
            window: Duration::from_secs(u64::from(window)),
            allow_plain_http: s.push_allow_plain_http.unwrap_or(false),
            timeout: d.timeout,
            fcm_service_account: s.push_fcm_service_account.clone(),
            fcm_base_url: url("push-fcm-base-url", &s.push_fcm_base_url, d.fcm_base_url)?,
            fcm_token_uri: url("push-fcm-token-uri", &s.push_fcm_token_uri, d.fcm_token_uri)?,
            apns_key_file: s.push_apns_key_file.clone(),
            apns_key_id: s.push_apns_key_id.clone(),
            apns_team_id: s.push_apns_team_id.clone(),
            apns_topic: s.push_apns_topic.clone(),
            apns_base_url: url("push-apns-base-url", &s.push_apns_base_url, d.apns_base_url)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The service URLs default to Google's and Apple's; https, or plain http to this machine
    /// only (credentials go to them).
    #[test]
    fn provider_urls_are_https_or_this_machine() {
        let c = PushConfig::from_settings(&Settings::default()).unwrap();
        assert_eq!(c.fcm_token_uri, "https://oauth2.googleapis.com/token");
        assert_eq!(c.fcm_base_url, "https://fcm.googleapis.com");
        assert_eq!(c.apns_base_url, "https://api.push.apple.com");
        let s = Settings { push_fcm_token_uri: Some("http://127.0.0.1:9000/token".into()), ..Default::default() };
        assert_eq!(PushConfig::from_settings(&s).unwrap().fcm_token_uri, "http://127.0.0.1:9000/token");
        for url in ["http://oauth2.googleapis.com/token", "http://10.0.0.5/token", "ftp://127.0.0.1/t", "token"] {
            let s = Settings { push_fcm_token_uri: Some(url.into()), ..Default::default() };
            assert_eq!(PushConfig::from_settings(&s).unwrap_err().setting, "push-fcm-token-uri", "{url}");
        }
        let s = Settings { push_apns_base_url: Some("http://api.push.apple.com".into()), ..Default::default() };
        assert_eq!(PushConfig::from_settings(&s).unwrap_err().setting, "push-apns-base-url");
    }
}
