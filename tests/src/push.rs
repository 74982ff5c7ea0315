//! A local Web Push service for the tests: it checks each request as a real push service and a
//! browser together would. The VAPID JWT (RFC 8292) must be signed with the key it advertises,
//! for the endpoint's origin, unexpired and with a `sub`; the body is DECRYPTED (RFC 8291,
//! aes128gcm) with the subscriber's private key and auth secret, as the browser does, and what
//! came out is kept for the test to read. It answers as a test asks: 201, 410 ("gone"), 500, or
//! never (a push service that hangs).

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use axum::Router;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hkdf::Hkdf;
use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::{PublicKey, SecretKey};
use sha2::Sha256;
use talkzone_mobile_api::{NewPushSubscription, WebPushKeys};

/// How the service answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Created,
    Gone,
    ServerError,
    /// Never answers (the request hangs until the sender gives up).
    Hang,
}

/// One request as the service saw it.
#[derive(Debug, Clone)]
pub struct Received {
    /// The subscription id in the endpoint's path.
    pub id: String,
    /// The decrypted payload, or why it could not be decrypted or the request was refused.
    pub payload: Result<String, String>,
    /// The VAPID public key (`k=`) it was signed with.
    pub vapid_key: String,
    pub ttl: Option<String>,
    pub urgency: Option<String>,
}

/// A browser's side of a subscription: its key pair and auth secret.
#[derive(Clone)]
pub struct Browser {
    secret: SecretKey,
    auth: [u8; 16],
}

impl Default for Browser {
    fn default() -> Self {
        let mut auth = [0u8; 16];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut auth);
        Browser { secret: SecretKey::random(&mut rand::rngs::OsRng), auth }
    }
}

impl Browser {
    pub fn p256dh(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.secret.public_key().to_encoded_point(false).as_bytes())
    }

    pub fn auth(&self) -> String {
        URL_SAFE_NO_PAD.encode(self.auth)
    }
}

#[derive(Default)]
struct Inner {
    browsers: std::collections::HashMap<String, Browser>,
    received: Vec<Received>,
    answer: Option<Answer>,
}

/// The running service.
#[derive(Clone)]
pub struct PushService {
    pub addr: SocketAddr,
    inner: Arc<Mutex<Inner>>,
}

impl PushService {
    pub async fn start() -> PushService {
        let inner = Arc::new(Mutex::new(Inner::default()));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("a port for the push service");
        let addr = listener.local_addr().expect("its address");
        let app = Router::new().route("/push/{id}", post(receive)).with_state((inner.clone(), addr));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        PushService { addr, inner }
    }

    pub fn answer(&self, a: Answer) {
        self.inner.lock().expect("lock").answer = Some(a);
    }

    /// A new browser subscription on this service: what the page would send to the server.
    pub fn subscribe(&self, name: &str) -> NewPushSubscription {
        let browser = Browser::default();
        let keys = WebPushKeys { p256dh: browser.p256dh(), auth: browser.auth() };
        self.inner.lock().expect("lock").browsers.insert(name.to_owned(), browser);
        NewPushSubscription::WebPush {
            endpoint: format!("http://{}/push/{name}", self.addr),
            keys,
            device_label: Some("test browser".into()),
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.inner.lock().expect("lock").received.clone()
    }
}

async fn receive(
    State((inner, addr)): State<(Arc<Mutex<Inner>>, SocketAddr)>,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).map(str::to_owned);
    let (browser, answer) = {
        let g = inner.lock().expect("lock");
        (g.browsers.get(&id).cloned(), g.answer.unwrap_or(Answer::Created))
    };
    let now =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs() as i64).unwrap_or(0);
    let vapid = verify_vapid(header("authorization").as_deref().unwrap_or(""), &format!("http://{addr}"), now);
    let payload = match (&vapid, browser, header("content-encoding").as_deref()) {
        (Err(e), _, _) => Err(format!("VAPID: {e}")),
        (_, None, _) => Err("no such subscription".into()),
        (_, _, enc) if enc != Some("aes128gcm") => Err(format!("content-encoding {enc:?}")),
        (Ok(_), Some(b), _) => {
            decrypt(&b.secret, &b.auth, &body).and_then(|p| String::from_utf8(p).map_err(|e| e.to_string()))
        }
    };
    inner.lock().expect("lock").received.push(Received {
        id,
        payload,
        vapid_key: vapid.unwrap_or_default(),
        ttl: header("ttl"),
        urgency: header("urgency"),
    });
    match answer {
        Answer::Created => StatusCode::CREATED,
        Answer::Gone => StatusCode::GONE,
        Answer::ServerError => StatusCode::INTERNAL_SERVER_ERROR,
        Answer::Hang => {
            std::future::pending::<()>().await;
            StatusCode::CREATED
        }
    }
}

/// Checks `Authorization: vapid t=<JWT>, k=<key>` (RFC 8292): ES256 signature by `k`, `aud` the
/// endpoint's origin, `exp` in the future and at most 24 hours ahead, `sub` a contact. The key.
pub fn verify_vapid(header: &str, origin: &str, now_s: i64) -> Result<String, String> {
    let rest = header.strip_prefix("vapid ").ok_or("not a vapid scheme")?;
    let (mut t, mut k) = (None, None);
    for part in rest.split(',').map(str::trim) {
        if let Some(v) = part.strip_prefix("t=") {
            t = Some(v);
        } else if let Some(v) = part.strip_prefix("k=") {
            k = Some(v);
        }
    }
    let (t, k) = (t.ok_or("no t=")?, k.ok_or("no k=")?);
    let key_bytes = URL_SAFE_NO_PAD.decode(k).map_err(|e| e.to_string())?;
    let key = VerifyingKey::from_sec1_bytes(&key_bytes).map_err(|e| e.to_string())?;
    let (input, sig) = t.rsplit_once('.').ok_or("not a JWT")?;
    let sig =
        Signature::from_slice(&URL_SAFE_NO_PAD.decode(sig).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    key.verify(input.as_bytes(), &sig).map_err(|_| "the signature is not the advertised key's".to_string())?;
    let (head, claims) = input.split_once('.').ok_or("not a JWT")?;
    let head: serde_json::Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(head).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    if head["alg"] != "ES256" {
        return Err(format!("alg {}", head["alg"]));
    }
    let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(claims).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    if claims["aud"] != origin {
        return Err(format!("aud {} is not {origin}", claims["aud"]));
    }
    let exp = claims["exp"].as_i64().ok_or("no exp")?;
    if exp <= now_s || exp > now_s + 24 * 3600 {
        return Err(format!("exp {exp} is not within 24 hours of {now_s}"));
    }
    let sub = claims["sub"].as_str().ok_or("no sub")?;
    if !(sub.starts_with("mailto:") || sub.starts_with("https:")) {
        return Err(format!("sub {sub}"));
    }
    Ok(k.to_owned())
}

/// Decrypts an aes128gcm body (RFC 8188) with a browser's key and auth secret (RFC 8291).
pub fn decrypt(ua_secret: &SecretKey, auth: &[u8; 16], body: &[u8]) -> Result<Vec<u8>, String> {
    if body.len() < 21 {
        return Err("too short for a header".into());
    }
    let salt = &body[..16];
    let rs = u32::from_be_bytes([body[16], body[17], body[18], body[19]]) as usize;
    let idlen = body[20] as usize;
    let keyid = body.get(21..21 + idlen).ok_or("short key id")?;
    let ciphertext = &body[21 + idlen..];
    if ciphertext.len() > rs {
        return Err("more than one record".into());
    }
    let as_public = PublicKey::from_sec1_bytes(keyid).map_err(|_| "the key id is not a P-256 point")?;
    let ua_public = ua_secret.public_key().to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(ua_secret.to_nonzero_scalar(), as_public.as_affine());
    let mut info = b"WebPush: info\0".to_vec();
    info.extend_from_slice(ua_public.as_bytes());
    info.extend_from_slice(keyid);
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes()).expand(&info, &mut ikm).map_err(|e| e.to_string())?;
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let (mut cek, mut nonce) = ([0u8; 16], [0u8; 12]);
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).map_err(|e| e.to_string())?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).map_err(|e| e.to_string())?;
    let cipher = Aes128Gcm::new_from_slice(&cek).map_err(|e| e.to_string())?;
    let mut plain = cipher.decrypt(Nonce::from_slice(&nonce), ciphertext).map_err(|_| "authentication failed")?;
    // Padding: zeros after the delimiter, which must be 2 (the last record).
    while plain.last() == Some(&0) {
        plain.pop();
    }
    if plain.pop() != Some(2) {
        return Err("the last record's delimiter is not 2".into());
    }
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> Vec<u8> {
        URL_SAFE_NO_PAD.decode(s).unwrap()
    }

    /// RFC 8291 section 5: the decryptor opens the RFC's message.
    #[test]
    fn the_decryptor_opens_the_rfc_8291_example() {
        let ua = SecretKey::from_slice(&b64("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94")).unwrap();
        let auth: [u8; 16] = b64("BTBZMqHH6r4Tts7J_aSIgg").try_into().unwrap();
        let body = b64("DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN");
        assert_eq!(decrypt(&ua, &auth, &body).unwrap(), b"When I grow up, I want to be a watermelon");
        let mut wrong = auth;
        wrong[0] ^= 1;
        assert!(decrypt(&ua, &wrong, &body).is_err(), "another auth secret cannot open it");
    }
}
