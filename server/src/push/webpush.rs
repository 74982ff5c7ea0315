//! Web Push: VAPID (RFC 8292) and the aes128gcm payload encryption (RFC 8291, RFC 8188).

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes128Gcm, Nonce};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hkdf::Hkdf;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;
use p256::pkcs8::{DecodePrivateKey, EncodePrivateKey, LineEnding};
use p256::{PublicKey, SecretKey};
use rand::RngCore;
use sha2::Sha256;

/// The record size written in the header: one record holds any payload we send.
const RECORD_SIZE: u32 = 4096;

/// The server's VAPID key pair.
#[derive(Clone)]
pub struct Vapid {
    key: SigningKey,
    /// base64url of the uncompressed public key (65 bytes): the application server key.
    pub public_key: String,
}

impl Vapid {
    pub fn from_secret(secret: &SecretKey) -> Vapid {
        let public = secret.public_key().to_encoded_point(false);
        Vapid { key: SigningKey::from(secret), public_key: URL_SAFE_NO_PAD.encode(public.as_bytes()) }
    }

    /// A new random key pair as PKCS#8 PEM (`talkzone push-keys`, and the first start).
    pub fn generate_pem() -> anyhow::Result<String> {
        let secret = SecretKey::random(&mut rand::rngs::OsRng);
        Ok(secret.to_pkcs8_pem(LineEnding::LF).map_err(|e| anyhow::anyhow!("cannot encode the key: {e}"))?.to_string())
    }

    pub fn from_pem(pem: &str) -> anyhow::Result<Vapid> {
        let secret = SecretKey::from_pkcs8_pem(pem).map_err(|e| anyhow::anyhow!("not a P-256 PKCS#8 key: {e}"))?;
        Ok(Vapid::from_secret(&secret))
    }

    /// Reads the key from `file`, or from `vapid-private-key.pem` in the data directory,
    /// creating that one (owner-only) if it does not exist.
    pub fn load_or_create(file: Option<&Path>, data_dir: &Path) -> anyhow::Result<Vapid> {
        if let Some(file) = file {
            return Vapid::from_pem(&std::fs::read_to_string(file)?);
        }
        let path = data_dir.join("vapid-private-key.pem");
        match std::fs::read_to_string(&path) {
            Ok(pem) => Vapid::from_pem(&pem),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let pem = Vapid::generate_pem()?;
                write_private(&path, &pem)?;
                Vapid::from_pem(&pem)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The `Authorization` header for a push to `endpoint` (RFC 8292 section 3): a JWT for the
    /// endpoint's origin, valid 12 hours, with the public key.
    pub fn authorization(&self, endpoint: &url::Url, subject: &str, now_s: i64) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({
            "aud": endpoint.origin().ascii_serialization(),
            "exp": now_s + 12 * 3600,
            "sub": subject,
        });
        let claims = URL_SAFE_NO_PAD.encode(claims.to_string());
        let input = format!("{header}.{claims}");
        let signature: Signature = self.key.sign(input.as_bytes());
        format!("vapid t={input}.{}, k={}", URL_SAFE_NO_PAD.encode(signature.to_bytes()), self.public_key)
    }
}

#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    f.write_all(contents.as_bytes())
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    std::fs::write(path, contents)
}

/// A subscription's keys could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct KeyError(pub &'static str);

/// Decodes base64url with or without padding (browsers give it without).
pub fn b64url(s: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(s.trim_end_matches('=')).ok()
}

/// The browser's public key (p256dh): a valid uncompressed P-256 point.
pub fn parse_p256dh(s: &str) -> Result<PublicKey, KeyError> {
    let bytes = b64url(s).ok_or(KeyError("keys.p256dh is not base64url"))?;
    if bytes.len() != 65 || bytes[0] != 4 {
        return Err(KeyError("keys.p256dh must be an uncompressed P-256 public key (65 bytes)"));
    }
    PublicKey::from_sec1_bytes(&bytes).map_err(|_| KeyError("keys.p256dh is not a point on P-256"))
}

/// The browser's 16-byte auth secret.
pub fn parse_auth(s: &str) -> Result<[u8; 16], KeyError> {
    let bytes = b64url(s).ok_or(KeyError("keys.auth is not base64url"))?;
    bytes.try_into().map_err(|_| KeyError("keys.auth must be 16 bytes"))
}

/// Encrypts `plaintext` for a browser (RFC 8291) with a fresh key and salt.
pub fn encrypt(ua_public: &PublicKey, auth: &[u8; 16], plaintext: &[u8]) -> Result<Vec<u8>, KeyError> {
    let as_secret = SecretKey::random(&mut rand::rngs::OsRng);
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    encrypt_with(&as_secret, &salt, ua_public, auth, plaintext)
}

/// RFC 8291 section 3 with a given sender key and salt (the RFC's test vector uses fixed ones).
pub fn encrypt_with(
    as_secret: &SecretKey,
    salt: &[u8; 16],
    ua_public: &PublicKey,
    auth: &[u8; 16],
    plaintext: &[u8],
) -> Result<Vec<u8>, KeyError> {
    let as_public = as_secret.public_key().to_encoded_point(false);
    let ua_bytes = ua_public.to_encoded_point(false);
    let shared = p256::ecdh::diffie_hellman(as_secret.to_nonzero_scalar(), ua_public.as_affine());
    // IKM = HKDF(auth_secret, ecdh_secret, "WebPush: info" || 0 || ua_public || as_public, 32)
    let mut key_info = b"WebPush: info\0".to_vec();
    key_info.extend_from_slice(ua_bytes.as_bytes());
    key_info.extend_from_slice(as_public.as_bytes());
    let mut ikm = [0u8; 32];
    Hkdf::<Sha256>::new(Some(auth), shared.raw_secret_bytes())
        .expand(&key_info, &mut ikm)
        .map_err(|_| KeyError("hkdf"))?;
    let prk = Hkdf::<Sha256>::new(Some(salt), &ikm);
    let mut cek = [0u8; 16];
    let mut nonce = [0u8; 12];
    prk.expand(b"Content-Encoding: aes128gcm\0", &mut cek).map_err(|_| KeyError("hkdf"))?;
    prk.expand(b"Content-Encoding: nonce\0", &mut nonce).map_err(|_| KeyError("hkdf"))?;
    // One record, the last: the padding delimiter 0x02 and no padding.
    let mut record = plaintext.to_vec();
    record.push(2);
    let cipher = Aes128Gcm::new_from_slice(&cek).map_err(|_| KeyError("aes"))?;
    let sealed = cipher.encrypt(Nonce::from_slice(&nonce), record.as_slice()).map_err(|_| KeyError("aes"))?;
    let mut body = Vec::with_capacity(16 + 4 + 1 + 65 + sealed.len());
    body.extend_from_slice(salt);
    body.extend_from_slice(&RECORD_SIZE.to_be_bytes());
    body.push(as_public.as_bytes().len() as u8);
    body.extend_from_slice(as_public.as_bytes());
    body.extend_from_slice(&sealed);
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 8291 section 5: the sender's key, salt, receiver's key and secret give exactly the
    /// message in the RFC.
    #[test]
    fn rfc8291_test_vector() {
        let as_private = b64url("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw").unwrap();
        let as_secret = SecretKey::from_slice(&as_private).unwrap();
        let ua_public =
            parse_p256dh("BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4")
                .unwrap();
        let auth = parse_auth("BTBZMqHH6r4Tts7J_aSIgg").unwrap();
        let salt: [u8; 16] = b64url("DGv6ra1nlYgDCS1FRnbzlw").unwrap().try_into().unwrap();
        let body =
            encrypt_with(&as_secret, &salt, &ua_public, &auth, b"When I grow up, I want to be a watermelon").unwrap();
        assert_eq!(
            URL_SAFE_NO_PAD.encode(body),
            "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
        );
    }

    #[test]
    fn bad_keys_are_named() {
        assert!(parse_p256dh("not base64!").is_err());
        assert!(parse_p256dh(&URL_SAFE_NO_PAD.encode([4u8; 65])).is_err(), "not on the curve");
        assert!(parse_auth(&URL_SAFE_NO_PAD.encode([0u8; 15])).is_err());
    }

    #[test]
    fn the_vapid_header_names_the_origin_and_the_key() {
        let v = Vapid::from_pem(&Vapid::generate_pem().unwrap()).unwrap();
        let h = v.authorization(&url::Url::parse("https://push.example:8443/p/abc").unwrap(), "mailto:a@b", 1000);
        assert!(h.starts_with("vapid t="));
        assert!(h.ends_with(&format!(", k={}", v.public_key)));
        let claims = h.trim_start_matches("vapid t=").split('.').nth(1).unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&b64url(claims).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example:8443");
        assert_eq!(claims["exp"], 1000 + 12 * 3600);
    }
}
