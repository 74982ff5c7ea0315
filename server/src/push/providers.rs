//! The push services behind one interface: Web Push (RFC 8030), FCM HTTP v1 and APNs.

use std::sync::Mutex;

use async_trait::async_trait;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::pkcs8::DecodePrivateKey;
use talkzone_mobile_api::{PushKind, PushPayload};

use super::webpush::{self, Vapid};
use crate::config::PushConfig;
use crate::store::PushSubscriptionRecord;

/// What a push service answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// The device is gone (404/410, FCM's UNREGISTERED, APNs' Unregistered): forget it.
    Gone,
    /// Worth trying again later (timeouts, 429, 5xx).
    Retry(String),
    /// Refused for good (a bad request): logged, not retried.
    Rejected(String),
    /// This kind of push is not configured on this server.
    NotConfigured,
}

/// One push service.
#[async_trait]
pub trait Provider: Send + Sync {
    async fn send(&self, sub: &PushSubscriptionRecord, payload: &PushPayload, now_s: i64) -> Outcome;
}

/// Every configured provider, by kind.
pub struct Providers {
    pub web_push: Option<WebPush>,
    pub fcm: Option<Fcm>,
    pub apns: Option<Apns>,
}

impl Providers {
    pub fn from_config(config: &PushConfig, data_dir: &std::path::Path) -> anyhow::Result<Providers> {
        // HTTP/2 where the service offers it (APNs requires it); https only, except a test's
        // local server.
        let http = reqwest::Client::builder().timeout(config.timeout).build()?;
        let web_push = match &config.vapid_subject {
            None => None,
            Some(subject) => Some(WebPush {
                vapid: Vapid::load_or_create(config.vapid_key_file.as_deref(), data_dir)?,
                subject: subject.clone(),
                http: http.clone(),
            }),
        };
        let fcm = match &config.fcm_service_account {
            None => None,
            Some(path) => Some(Fcm::new(
                &std::fs::read_to_string(path)?,
                &config.fcm_base_url,
                &config.fcm_token_uri,
                http.clone(),
            )?),
        };
        let apns = match (&config.apns_key_file, &config.apns_key_id, &config.apns_team_id, &config.apns_topic) {
            (Some(file), Some(kid), Some(team), Some(topic)) => {
                let key = SigningKey::from_pkcs8_pem(&std::fs::read_to_string(file)?)
                    .map_err(|e| anyhow::anyhow!("push-apns-key-file: not a P-256 PKCS#8 key: {e}"))?;
                // APNs speaks only HTTP/2; a local test server speaks it without TLS (h2c), so
                // an http:// base URL asks for HTTP/2 from the first byte.
                let mut b = reqwest::Client::builder().timeout(config.timeout);
                if config.apns_base_url.starts_with("http://") {
                    b = b.http2_prior_knowledge();
                }
                Some(Apns {
                    key,
                    key_id: kid.clone(),
                    team_id: team.clone(),
                    topic: topic.clone(),
                    base_url: config.apns_base_url.clone(),
                    http: b.build()?,
                    token: Mutex::new(None),
                })
            }
            _ => None,
        };
        Ok(Providers { web_push, fcm, apns })
    }

    pub async fn send(
        &self,
        kind: PushKind,
        sub: &PushSubscriptionRecord,
        payload: &PushPayload,
        now_s: i64,
    ) -> Outcome {
        let provider: Option<&dyn Provider> = match kind {
            PushKind::WebPush => self.web_push.as_ref().map(|p| p as &dyn Provider),
            PushKind::Fcm => self.fcm.as_ref().map(|p| p as &dyn Provider),
            PushKind::Apns => self.apns.as_ref().map(|p| p as &dyn Provider),
        };
        match provider {
            Some(p) => p.send(sub, payload, now_s).await,
            None => Outcome::NotConfigured,
        }
    }
}

/// The usual reading of an HTTP answer.
fn by_status(status: reqwest::StatusCode, body: String) -> Outcome {
    match status.as_u16() {
        200..=299 => Outcome::Sent,
        404 | 410 => Outcome::Gone,
        408 | 429 | 500..=599 => Outcome::Retry(format!("{status}")),
        _ => Outcome::Rejected(format!("{status}: {}", body.chars().take(200).collect::<String>())),
    }
}

fn transport(e: reqwest::Error) -> Outcome {
    Outcome::Retry(if e.is_timeout() { "timed out".into() } else { "could not reach the push service".into() })
}

/// An ES256 JWT (header and claims as given) signed with `key`.
fn es256_jwt(key: &SigningKey, header: &serde_json::Value, claims: &serde_json::Value) -> String {
    let input =
        format!("{}.{}", URL_SAFE_NO_PAD.encode(header.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
    let sig: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

/// Web Push (RFC 8030): the payload encrypted to the browser (RFC 8291), VAPID (RFC 8292).
pub struct WebPush {
    pub vapid: Vapid,
    subject: String,
    http: reqwest::Client,
}

#[async_trait]
impl Provider for WebPush {
    async fn send(&self, sub: &PushSubscriptionRecord, payload: &PushPayload, now_s: i64) -> Outcome {
        let (Ok(endpoint), Some(p256dh), Some(auth)) = (url::Url::parse(&sub.address), &sub.p256dh, &sub.auth_secret)
        else {
            return Outcome::Gone;
        };
        let (Ok(ua_public), Ok(auth)) = (webpush::parse_p256dh(p256dh), webpush::parse_auth(auth)) else {
            return Outcome::Gone;
        };
        let plaintext = serde_json::to_vec(payload).unwrap_or_default();
        let body = match webpush::encrypt(&ua_public, &auth, &plaintext) {
            Ok(b) => b,
            Err(e) => return Outcome::Rejected(e.to_string()),
        };
        let res = self
            .http
            .post(endpoint.clone())
            .header("authorization", self.vapid.authorization(&endpoint, &self.subject, now_s))
            .header("content-encoding", "aes128gcm")
            .header("content-type", "application/octet-stream")
            // A day: a phone switched off overnight still gets it; "high": a person is waiting.
            .header("ttl", "86400")
            .header("urgency", "high")
            .body(body)
            .send()
            .await;
        match res {
            Ok(r) => {
                let status = r.status();
                by_status(status, r.text().await.unwrap_or_default())
            }
            Err(e) => transport(e),
        }
    }
}

/// A service account's fields FCM needs (its `token_uri` is not read: the token endpoint is the
/// setting `push-fcm-token-uri`).
#[derive(serde::Deserialize)]
struct ServiceAccount {
    project_id: String,
    client_email: String,
    private_key: String,
}

/// FCM HTTP v1: a service-account JWT (RS256) exchanged for an OAuth2 access token at Google's
/// token endpoint, then `POST /v1/projects/{project}/messages:send`.
pub struct Fcm {
    account: ServiceAccount,
    key: jsonwebtoken::EncodingKey,
    base_url: String,
    token_uri: String,
    http: reqwest::Client,
    /// The access token and when it expires (seconds).
    token: tokio::sync::Mutex<Option<(String, i64)>>,
}

impl Fcm {
    pub fn new(json: &str, base_url: &str, token_uri: &str, http: reqwest::Client) -> anyhow::Result<Fcm> {
        let account: ServiceAccount =
            serde_json::from_str(json).map_err(|e| anyhow::anyhow!("push-fcm-service-account: {e}"))?;
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(account.private_key.as_bytes())
            .map_err(|e| anyhow::anyhow!("push-fcm-service-account: private_key: {e}"))?;
        Ok(Fcm {
            account,
            key,
            base_url: base_url.to_owned(),
            token_uri: token_uri.to_owned(),
            http,
            token: Default::default(),
        })
    }

    async fn access_token(&self, now_s: i64) -> Result<String, Outcome> {
        let mut cached = self.token.lock().await;
        if let Some((token, exp)) = cached.as_ref() {
            if *exp > now_s + 60 {
                return Ok(token.clone());
            }
        }
        let claims = serde_json::json!({
            "iss": self.account.client_email,
            "scope": "https://www.googleapis.com/auth/firebase.messaging",
            "aud": self.token_uri,
            "iat": now_s,
            "exp": now_s + 3600,
        });
        let assertion =
            jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256), &claims, &self.key)
                .map_err(|e| Outcome::Rejected(format!("cannot sign the FCM assertion: {e}")))?;
        let res = self
            .http
            .post(&self.token_uri)
            .form(&[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", &assertion)])
            .send()
            .await
            .map_err(transport)?;
        if !res.status().is_success() {
            return Err(Outcome::Retry(format!("FCM token endpoint answered {}", res.status())));
        }
        #[derive(serde::Deserialize)]
        struct Token {
            access_token: String,
            expires_in: i64,
        }
        let t: Token = res.json().await.map_err(|_| Outcome::Retry("FCM token answer not understood".into()))?;
        *cached = Some((t.access_token.clone(), now_s + t.expires_in));
        Ok(t.access_token)
    }
}

#[async_trait]
impl Provider for Fcm {
    async fn send(&self, sub: &PushSubscriptionRecord, payload: &PushPayload, now_s: i64) -> Outcome {
        let token = match self.access_token(now_s).await {
            Ok(t) => t,
            Err(o) => return o,
        };
        let message = serde_json::json!({"message": {
            "token": sub.address,
            "notification": {"title": payload.title, "body": payload.body},
            "android": {"priority": "HIGH", "ttl": "86400s"},
        }});
        let url = format!("{}/v1/projects/{}/messages:send", self.base_url, self.account.project_id);
        match self.http.post(url).bearer_auth(token).json(&message).send().await {
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                // A token the app no longer holds: 404 with UNREGISTERED (or 400 with it).
                if body.contains("UNREGISTERED") {
                    return Outcome::Gone;
                }
                // The access token was revoked or expired early: the next try asks for another.
                if status.as_u16() == 401 {
                    *self.token.lock().await = None;
                    return Outcome::Retry("FCM refused the access token".into());
                }
                by_status(status, body)
            }
            Err(e) => transport(e),
        }
    }
}

/// APNs with token-based auth: an ES256 provider token (`kid`, `iss`, `iat`), renewed every 50
/// minutes (Apple refuses one older than an hour and throttles renewing more than every 20).
pub struct Apns {
    key: SigningKey,
    key_id: String,
    team_id: String,
    topic: String,
    base_url: String,
    http: reqwest::Client,
    token: Mutex<Option<(String, i64)>>,
}

impl Apns {
    fn provider_token(&self, now_s: i64) -> String {
        let mut cached = self.token.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((t, iat)) = cached.as_ref() {
            if now_s - iat < 50 * 60 {
                return t.clone();
            }
        }
        let t = es256_jwt(
            &self.key,
            &serde_json::json!({"alg": "ES256", "kid": self.key_id}),
            &serde_json::json!({"iss": self.team_id, "iat": now_s}),
        );
        *cached = Some((t.clone(), now_s));
        t
    }
}

#[async_trait]
impl Provider for Apns {
    async fn send(&self, sub: &PushSubscriptionRecord, payload: &PushPayload, now_s: i64) -> Outcome {
        let body =
            serde_json::json!({"aps": {"alert": {"title": payload.title, "body": payload.body}, "sound": "default"}});
        let res = self
            .http
            .post(format!("{}/3/device/{}", self.base_url, sub.address))
            .header("authorization", format!("bearer {}", self.provider_token(now_s)))
            .header("apns-topic", &self.topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", "10")
            .header("apns-expiration", (now_s + 86400).to_string())
            .json(&body)
            .send()
            .await;
        match res {
            Ok(r) => {
                let status = r.status();
                let body = r.text().await.unwrap_or_default();
                // 400 BadDeviceToken: this token will never work either.
                if status.as_u16() == 400 && body.contains("BadDeviceToken") {
                    return Outcome::Gone;
                }
                // Apple found the provider token too old (a clock ahead of Apple's): make another.
                if status.as_u16() == 403 && body.contains("ExpiredProviderToken") {
                    *self.token.lock().unwrap_or_else(|p| p.into_inner()) = None;
                    return Outcome::Retry("APNs found the provider token expired".into());
                }
                by_status(status, body)
            }
            Err(e) => transport(e),
        }
    }
}
