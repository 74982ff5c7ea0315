//! A local APNs for the tests. Like Apple's it speaks only HTTP/2, here without TLS (h2c, with
//! prior knowledge: the server's APNs client uses it for an `http://` base URL; Apple's TLS is
//! not tested). It checks what Apple checks:
//!
//! - `POST /3/device/<hex token>`;
//! - the provider token in `authorization: bearer`: an ES256 JWT signed by the key the test made
//!   (the server reads it as its `.p8` file), `kid` the key id, `iss` the team id, `iat` within
//!   the last hour;
//! - `apns-topic` the app's bundle id, `apns-push-type: alert`, `apns-priority` 10 or 5;
//! - a JSON payload of at most 4 KB with an `aps.alert`.
//!
//! It answers as a test asks: 200, 410 `Unregistered` ("gone"), 500, 403 `ExpiredProviderToken`
//! for the provider tokens it has seen so far, or never (hangs).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::{Request, Response};
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, SigningKey, VerifyingKey};
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use serde_json::{json, Value};
use talkzone_server::config::PushConfig;

use crate::TempDir;

pub const KEY_ID: &str = "ABC123DEFG";
pub const TEAM_ID: &str = "DEF123GHIJ";
pub const TOPIC: &str = "org.example.talkzone";

/// How the service answers a well-formed, authenticated request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Ok,
    /// 410 `Unregistered`: the app was removed from the device.
    Unregistered,
    ServerError,
    /// Never answers.
    Hang,
}

/// One request as the service saw it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The device token in the path.
    pub device: String,
    /// The payload, or Apple's reason for refusing the request.
    pub payload: Result<Value, String>,
    /// The provider token it carried.
    pub provider_token: String,
    pub priority: Option<String>,
}

struct Inner {
    key: VerifyingKey,
    received: Vec<Received>,
    /// Provider tokens answered 403 ExpiredProviderToken.
    expired: Vec<String>,
    answer: Answer,
}

/// The running service; the provider key file is in `dir`.
#[derive(Clone)]
pub struct ApnsService {
    pub addr: SocketAddr,
    pub key_file: std::path::PathBuf,
    _dir: Arc<TempDir>,
    inner: Arc<Mutex<Inner>>,
}

impl ApnsService {
    pub async fn start() -> ApnsService {
        let key = SigningKey::random(&mut rand::rngs::OsRng);
        let dir = Arc::new(TempDir::new());
        let key_file = dir.0.join(format!("AuthKey_{KEY_ID}.p8"));
        std::fs::write(&key_file, key.to_pkcs8_pem(LineEnding::LF).expect("PKCS#8").as_bytes()).expect("the key");
        let inner = Arc::new(Mutex::new(Inner {
            key: *key.verifying_key(),
            received: Vec::new(),
            expired: Vec::new(),
            answer: Answer::Ok,
        }));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port for APNs");
        let addr = listener.local_addr().expect("its address");
        let state = inner.clone();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let state = state.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req| handle(state.clone(), req));
                    // HTTP/2 only: an HTTP/1.1 request is not understood, as at Apple.
                    let _ = hyper::server::conn::http2::Builder::new(hyper_util::rt::TokioExecutor::new())
                        .serve_connection(hyper_util::rt::TokioIo::new(tcp), service)
                        .await;
                });
            }
        });
        ApnsService { addr, key_file, _dir: dir, inner }
    }

    /// Points a server's APNs settings at this service.
    pub fn configure(&self, push: &mut PushConfig) {
        push.apns_key_file = Some(self.key_file.clone());
        push.apns_key_id = Some(KEY_ID.into());
        push.apns_team_id = Some(TEAM_ID.into());
        push.apns_topic = Some(TOPIC.into());
        push.apns_base_url = format!("http://{}", self.addr);
    }

    pub fn answer(&self, a: Answer) {
        self.inner.lock().expect("lock").answer = a;
    }

    /// Every provider token seen so far is answered 403 ExpiredProviderToken from now on.
    pub fn expire_provider_tokens(&self) {
        let mut g = self.inner.lock().expect("lock");
        let seen: Vec<String> = g.received.iter().map(|r| r.provider_token.clone()).collect();
        g.expired.extend(seen);
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().expect("lock").received.clone()
    }
}

fn now_s() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

/// Apple's check of a provider token: ES256 by the team's key, `kid` and `iss`, `iat` within the
/// last hour (and not ahead of Apple's clock by more than a minute).
pub fn verify_provider_token(token: &str, key: &VerifyingKey, now: i64) -> Result<(), String> {
    let (input, sig) = token.rsplit_once('.').ok_or("not a JWT")?;
    let sig = URL_SAFE_NO_PAD.decode(sig).map_err(|e| e.to_string())?;
    let sig = Signature::from_slice(&sig).map_err(|e| e.to_string())?;
    key.verify(input.as_bytes(), &sig).map_err(|_| "not signed by the team's key".to_string())?;
    let (head, claims) = input.split_once('.').ok_or("not a JWT")?;
    let decode = |s: &str| -> Result<Value, String> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(s).map_err(|e| e.to_string())?).map_err(|e| e.to_string())
    };
    let (head, claims) = (decode(head)?, decode(claims)?);
    if head["alg"] != "ES256" || head["kid"] != KEY_ID {
        return Err(format!("header {head}"));
    }
    if claims["iss"] != TEAM_ID {
        return Err(format!("iss {}", claims["iss"]));
    }
    let iat = claims["iat"].as_i64().ok_or("no iat")?;
    if iat < now - 3600 || iat > now + 60 {
        return Err(format!("iat {iat} is not within the last hour of {now}"));
    }
    Ok(())
}

async fn handle(inner: Arc<Mutex<Inner>>, req: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let (parts, body) = req.into_parts();
    let body = body.collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    let header = |n: &str| parts.headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let device = parts.uri.path().strip_prefix("/3/device/").unwrap_or("").to_owned();
    let provider_token = header("authorization").and_then(|a| a.strip_prefix("bearer ").map(str::to_owned));
    let (key, answer, expired) = {
        let g = inner.lock().expect("lock");
        let expired = provider_token.as_ref().is_some_and(|t| g.expired.contains(t));
        (g.key, g.answer, expired)
    };
    // Apple's reasons, in the order it reports them.
    let checked: Result<Value, (u16, &str, String)> = (|| {
        if parts.method != hyper::Method::POST {
            return Err((405, "MethodNotAllowed", format!("{}", parts.method)));
        }
        if device.is_empty() || !device.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err((400, "BadDeviceToken", format!("path {}", parts.uri.path())));
        }
        let token = provider_token.as_deref().ok_or((403, "MissingProviderToken", "no bearer".into()))?;
        verify_provider_token(token, &key, now_s()).map_err(|e| (403, "InvalidProviderToken", e))?;
        if expired {
            return Err((403, "ExpiredProviderToken", "expired".into()));
        }
        if header("apns-topic").as_deref() != Some(TOPIC) {
            return Err((400, "BadTopic", format!("apns-topic {:?}", header("apns-topic"))));
        }
        if header("apns-push-type").as_deref() != Some("alert") {
            return Err((400, "InvalidPushType", format!("apns-push-type {:?}", header("apns-push-type"))));
        }
        if !matches!(header("apns-priority").as_deref(), Some("10" | "5")) {
            return Err((400, "BadPriority", format!("apns-priority {:?}", header("apns-priority"))));
        }
        if let Some(e) = header("apns-expiration") {
            e.parse::<u64>().map_err(|_| (400, "BadExpirationDate", e.clone()))?;
        }
        if body.len() > 4096 {
            return Err((413, "PayloadTooLarge", format!("{} bytes", body.len())));
        }
        let payload: Value = serde_json::from_slice(&body).map_err(|e| (400, "PayloadEmpty", e.to_string()))?;
        if !payload["aps"]["alert"].is_object() && !payload["aps"]["alert"].is_string() {
            return Err((400, "PayloadEmpty", "no aps.alert".into()));
        }
        Ok(payload)
    })();
    let (status, reason) = match &checked {
        Err((status, reason, _)) => (*status, Some(*reason)),
        Ok(_) => match answer {
            Answer::Ok => (200, None),
            Answer::Unregistered => (410, Some("Unregistered")),
            Answer::ServerError => (500, Some("InternalServerError")),
            Answer::Hang => (0, None),
        },
    };
    inner.lock().expect("lock").received.push(Received {
        device,
        payload: checked.map_err(|(_, reason, why)| format!("{reason}: {why}")),
        provider_token: provider_token.unwrap_or_default(),
        priority: header("apns-priority"),
    });
    if status == 0 {
        std::future::pending::<()>().await;
    }
    let body = match reason {
        Some("Unregistered") => json!({"reason": "Unregistered", "timestamp": now_s() * 1000}).to_string(),
        Some(r) => json!({"reason": r}).to_string(),
        None => String::new(),
    };
    let res = Response::builder()
        .status(status)
        .header("apns-id", ulid::Ulid::new().to_string())
        .body(Full::new(Bytes::from(body)))
        .expect("a response");
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Signer;

    fn token(key: &SigningKey, head: Value, claims: Value) -> String {
        let input =
            format!("{}.{}", URL_SAFE_NO_PAD.encode(head.to_string()), URL_SAFE_NO_PAD.encode(claims.to_string()));
        let sig: Signature = key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
    }

    /// The checker refuses what Apple refuses: another key, another kid or team, an old iat.
    #[test]
    fn the_provider_token_check_refuses_what_apple_refuses() {
        let key = SigningKey::random(&mut rand::rngs::OsRng);
        let other = SigningKey::random(&mut rand::rngs::OsRng);
        let now = now_s();
        let head = json!({"alg": "ES256", "kid": KEY_ID});
        let claims = json!({"iss": TEAM_ID, "iat": now});
        let public = *key.verifying_key();
        assert_eq!(verify_provider_token(&token(&key, head.clone(), claims.clone()), &public, now), Ok(()));
        assert!(verify_provider_token(&token(&other, head.clone(), claims.clone()), &public, now).is_err());
        let wrong_kid = json!({"alg": "ES256", "kid": "ZZZ"});
        assert!(verify_provider_token(&token(&key, wrong_kid, claims.clone()), &public, now).is_err());
        let wrong_team = json!({"iss": "ZZZ", "iat": now});
        assert!(verify_provider_token(&token(&key, head.clone(), wrong_team), &public, now).is_err());
        let old = json!({"iss": TEAM_ID, "iat": now - 3601});
        assert!(verify_provider_token(&token(&key, head, old), &public, now).is_err());
    }
}
