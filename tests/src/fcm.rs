//! A local FCM HTTP v1 service for the tests, acting as both Google's OAuth2 token endpoint and
//! `POST /v1/projects/{project}/messages:send`, and checking what Google checks:
//!
//! - the token request is a service-account JWT grant (`grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer`)
//!   whose assertion is RS256-signed by the service account's key (made here: the test writes
//!   the account file the server reads), with `iss` the account's email, `scope` FCM's, `aud`
//!   the token endpoint and an `iat`/`exp` at most an hour apart around now;
//! - a send carries `Authorization: Bearer` with a token this service issued, for the account's
//!   project, and a message in FCM's format (only known fields, one target, string data).
//!
//! It answers as a test asks: 200, 404 `UNREGISTERED` ("gone"), 500, 503, 401 once its issued
//! tokens are revoked, or never (a service that hangs).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::{Form, Json, Router};
use rsa::pkcs8::{EncodePrivateKey, EncodePublicKey, LineEnding};
use serde_json::{json, Value};
use talkzone_server::config::PushConfig;

use crate::TempDir;

pub const PROJECT: &str = "talkzone-test";
pub const CLIENT_EMAIL: &str = "push@talkzone-test.iam.gserviceaccount.com";
pub const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

/// How the send endpoint answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Ok,
    /// 404 with `UNREGISTERED`: the app no longer holds the token.
    Unregistered,
    ServerError,
    Unavailable,
    /// Never answers.
    Hang,
}

/// One send request as the service saw it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request body, or why it was refused (authentication or format).
    pub message: Result<Value, String>,
}

impl Received {
    /// `message.token`, when the request was accepted.
    pub fn token(&self) -> Option<String> {
        self.message.as_ref().ok()?["message"]["token"].as_str().map(str::to_owned)
    }
}

struct Inner {
    public_pem: String,
    token_uri: String,
    issued: Vec<String>,
    /// Token requests: (accepted or why refused).
    grants: Vec<Result<(), String>>,
    received: Vec<Received>,
    answer: Answer,
}

/// The running service; its service account file is in `dir`.
#[derive(Clone)]
pub struct FcmService {
    pub addr: SocketAddr,
    pub account_file: PathBuf,
    _dir: Arc<TempDir>,
    inner: Arc<Mutex<Inner>>,
}

/// The service account's key pair (PKCS#8 private, SPKI public), made once per test process:
/// RSA key generation takes a moment.
fn key_pair() -> &'static (String, String) {
    static KEYS: OnceLock<(String, String)> = OnceLock::new();
    KEYS.get_or_init(|| rsa_pem_pair(2048))
}

/// A new RSA key pair as (PKCS#8 private PEM, SPKI public PEM).
pub fn rsa_pem_pair(bits: usize) -> (String, String) {
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, bits).expect("an RSA key");
    let private = key.to_pkcs8_pem(LineEnding::LF).expect("PKCS#8").to_string();
    let public = key.to_public_key().to_public_key_pem(LineEnding::LF).expect("SPKI");
    (private, public)
}

impl FcmService {
    pub async fn start() -> FcmService {
        let (private, public) = key_pair().clone();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port for FCM");
        let addr = listener.local_addr().expect("its address");
        let dir = Arc::new(TempDir::new());
        let account_file = dir.0.join("service-account.json");
        // As Google's console writes it; its token_uri is Google's (the server's setting points
        // it here instead).
        let account = json!({
            "type": "service_account",
            "project_id": PROJECT,
            "private_key_id": "0123456789abcdef",
            "private_key": private,
            "client_email": CLIENT_EMAIL,
            "client_id": "100000000000000000000",
            "auth_uri": "https://accounts.google.com/o/oauth2/auth",
            "token_uri": "https://oauth2.googleapis.com/token",
        });
        std::fs::write(&account_file, account.to_string()).expect("the service account file");
        let inner = Arc::new(Mutex::new(Inner {
            public_pem: public,
            token_uri: format!("http://{addr}/token"),
            issued: Vec::new(),
            grants: Vec::new(),
            received: Vec::new(),
            answer: Answer::Ok,
        }));
        let app = Router::new()
            .route("/token", post(token))
            .route("/v1/projects/{project}/messages:send", post(send))
            .with_state(inner.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FcmService { addr, account_file, _dir: dir, inner }
    }

    /// Points a server's FCM settings at this service.
    pub fn configure(&self, push: &mut PushConfig) {
        push.fcm_service_account = Some(self.account_file.clone());
        push.fcm_base_url = format!("http://{}", self.addr);
        push.fcm_token_uri = format!("http://{}/token", self.addr);
    }

    pub fn answer(&self, a: Answer) {
        self.inner.lock().expect("lock").answer = a;
    }

    /// Forgets every access token it issued: the next send with one gets 401.
    pub fn revoke_tokens(&self) {
        self.inner.lock().expect("lock").issued.clear();
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().expect("lock").received.clone()
    }

    pub fn grants(&self) -> Vec<Result<(), String>> {
        self.inner.lock().expect("lock").grants.clone()
    }
}

fn now_s() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0)
}

#[derive(serde::Deserialize)]
struct TokenRequest {
    grant_type: String,
    assertion: String,
}

async fn token(State(inner): State<Arc<Mutex<Inner>>>, Form(req): Form<TokenRequest>) -> (StatusCode, Json<Value>) {
    let (public, token_uri) = {
        let g = inner.lock().expect("lock");
        (g.public_pem.clone(), g.token_uri.clone())
    };
    let checked = if req.grant_type != GRANT_TYPE {
        Err(format!("grant_type {}", req.grant_type))
    } else {
        verify_grant(&req.assertion, &public, &token_uri, now_s())
    };
    let mut g = inner.lock().expect("lock");
    g.grants.push(checked.clone());
    match checked {
        Ok(()) => {
            let access = format!("ya29.test-{}", ulid::Ulid::new());
            g.issued.push(access.clone());
            (StatusCode::OK, Json(json!({"access_token": access, "expires_in": 3599, "token_type": "Bearer"})))
        }
        Err(why) => (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant", "error_description": why}))),
    }
}

/// Google's checks of a service account's JWT grant (RFC 7523): RS256 by the account's key,
/// `iss` the account, `aud` the token endpoint, FCM's scope, issued now and for at most an hour.
pub fn verify_grant(assertion: &str, public_pem: &str, token_uri: &str, now: i64) -> Result<(), String> {
    let key = jsonwebtoken::DecodingKey::from_rsa_pem(public_pem.as_bytes()).map_err(|e| e.to_string())?;
    let mut v = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    v.set_audience(&[token_uri]);
    v.set_issuer(&[CLIENT_EMAIL]);
    v.set_required_spec_claims(&["iss", "aud", "iat", "exp"]);
    v.leeway = 0;
    let data = jsonwebtoken::decode::<Value>(assertion, &key, &v).map_err(|e| format!("assertion: {e}"))?;
    let c = data.claims;
    if !c["scope"].as_str().unwrap_or("").split(' ').any(|s| s == SCOPE) {
        return Err(format!("scope {} is not FCM's", c["scope"]));
    }
    let (iat, exp) = (c["iat"].as_i64().ok_or("no iat")?, c["exp"].as_i64().ok_or("no exp")?);
    if iat > now + 60 || iat < now - 3600 || exp <= iat || exp - iat > 3600 {
        return Err(format!("iat {iat} / exp {exp} are not an hour at most around {now}"));
    }
    Ok(())
}

/// FCM's own check of a send's body: only the API's fields, one target, data values strings,
/// Android priority and TTL in their formats (Google answers 400 INVALID_ARGUMENT otherwise).
pub fn check_message(body: &Value) -> Result<(), String> {
    let only = |v: &Value, what: &str, allowed: &[&str]| -> Result<(), String> {
        let o = v.as_object().ok_or(format!("{what} is not an object"))?;
        match o.keys().find(|k| !allowed.contains(&k.as_str())) {
            Some(k) => Err(format!("unknown field {what}.{k}")),
            None => Ok(()),
        }
    };
    only(body, "request", &["message", "validate_only"])?;
    let m = &body["message"];
    only(
        m,
        "message",
        &["name", "data", "notification", "android", "webpush", "apns", "fcm_options", "token", "topic", "condition"],
    )?;
    let targets = ["token", "topic", "condition"].iter().filter(|t| m.get(**t).is_some()).count();
    if targets != 1 || !m["token"].is_string() {
        return Err("a message names one target, here a token".into());
    }
    if let Some(n) = m.get("notification") {
        only(n, "message.notification", &["title", "body", "image"])?;
    }
    if let Some(d) = m.get("data") {
        if !d.as_object().is_some_and(|o| o.values().all(Value::is_string)) {
            return Err("message.data values must be strings".into());
        }
    }
    if let Some(a) = m.get("android") {
        only(
            a,
            "message.android",
            &[
                "collapse_key",
                "priority",
                "ttl",
                "restricted_package_name",
                "data",
                "notification",
                "fcm_options",
                "direct_boot_ok",
            ],
        )?;
        // The enum's names; Google's own examples write them in lower case too.
        if let Some(p) = a.get("priority") {
            if !matches!(p.as_str().map(str::to_ascii_uppercase).as_deref(), Some("NORMAL" | "HIGH")) {
                return Err(format!("message.android.priority {p}"));
            }
        }
        if let Some(t) = a.get("ttl") {
            let ok = t.as_str().and_then(|s| s.strip_suffix('s')).is_some_and(|n| n.parse::<f64>().is_ok());
            if !ok {
                return Err(format!("message.android.ttl {t} is not a duration such as \"3.5s\""));
            }
        }
    }
    Ok(())
}

fn error(status: StatusCode, name: &str, code: Option<&str>) -> (StatusCode, Json<Value>) {
    let mut e = json!({"code": status.as_u16(), "message": name, "status": name});
    if let Some(code) = code {
        e["details"] = json!([{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": code}]);
    }
    (status, Json(json!({"error": e})))
}

async fn send(
    State(inner): State<Arc<Mutex<Inner>>>,
    Path(project): Path<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> (StatusCode, Json<Value>) {
    let bearer = headers.get("authorization").and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer "));
    let (authorised, answer) = {
        let g = inner.lock().expect("lock");
        (bearer.is_some_and(|b| g.issued.iter().any(|t| t == b)), g.answer)
    };
    let json_type = headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    let message = if !authorised {
        Err(format!("not an issued access token: {bearer:?}"))
    } else if project != PROJECT {
        Err(format!("project {project}"))
    } else if !json_type.starts_with("application/json") {
        Err(format!("content-type {json_type}"))
    } else {
        serde_json::from_slice::<Value>(&body).map_err(|e| e.to_string()).and_then(|v| check_message(&v).map(|()| v))
    };
    let refused = message.clone().err();
    inner.lock().expect("lock").received.push(Received { message });
    if let Some(why) = refused {
        return match authorised {
            false => error(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", None),
            true => {
                let (s, Json(mut v)) = error(StatusCode::BAD_REQUEST, "INVALID_ARGUMENT", Some("INVALID_ARGUMENT"));
                v["error"]["message"] = json!(why);
                (s, Json(v))
            }
        };
    }
    match answer {
        Answer::Ok => {
            (StatusCode::OK, Json(json!({"name": format!("projects/{PROJECT}/messages/{}", ulid::Ulid::new())})))
        }
        Answer::Unregistered => error(StatusCode::NOT_FOUND, "NOT_FOUND", Some("UNREGISTERED")),
        Answer::ServerError => error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", Some("INTERNAL")),
        Answer::Unavailable => error(StatusCode::SERVICE_UNAVAILABLE, "UNAVAILABLE", Some("UNAVAILABLE")),
        Answer::Hang => {
            std::future::pending::<()>().await;
            unreachable!()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(private: &str, claims: Value) -> String {
        let key = jsonwebtoken::EncodingKey::from_rsa_pem(private.as_bytes()).unwrap();
        jsonwebtoken::encode(&jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256), &claims, &key).unwrap()
    }

    /// The checker refuses what Google refuses: another key, another audience, another scope, a
    /// grant for more than an hour.
    #[test]
    fn the_grant_check_refuses_what_google_refuses() {
        let (private, public) = key_pair();
        let uri = "http://127.0.0.1:1/token";
        let now = now_s();
        let good = json!({"iss": CLIENT_EMAIL, "scope": SCOPE, "aud": uri, "iat": now, "exp": now + 3600});
        assert_eq!(verify_grant(&grant(private, good.clone()), public, uri, now), Ok(()));
        let (other, _) = rsa_pem_pair(2048);
        assert!(verify_grant(&grant(&other, good.clone()), public, uri, now).is_err(), "another key");
        for (field, value) in [
            ("aud", json!("https://oauth2.googleapis.com/token")),
            ("iss", json!("someone@else.iam.gserviceaccount.com")),
            ("scope", json!("https://www.googleapis.com/auth/cloud-platform.read-only")),
            ("exp", json!(now + 7200)),
            ("iat", json!(now + 600)),
        ] {
            let mut c = good.clone();
            c[field] = value;
            assert!(verify_grant(&grant(private, c), public, uri, now).is_err(), "{field}");
        }
    }

    #[test]
    fn the_message_check_refuses_what_fcm_refuses() {
        let good = json!({"message": {"token": "t", "notification": {"title": "a", "body": "b"},
            "android": {"priority": "HIGH", "ttl": "86400s"}}});
        assert_eq!(check_message(&good), Ok(()));
        for bad in [
            json!({"message": {"notification": {"title": "a"}}}),
            json!({"message": {"token": "t", "topic": "x"}}),
            json!({"message": {"token": "t", "notification": {"title": "a", "text": "b"}}}),
            json!({"message": {"token": "t", "data": {"n": 1}}}),
            json!({"message": {"token": "t", "android": {"priority": "urgent"}}}),
            json!({"message": {"token": "t", "android": {"ttl": 86400}}}),
            json!({"message": {"token": "t"}, "to": "legacy"}),
        ] {
            assert!(check_message(&bad).is_err(), "{bad}");
        }
    }
}
