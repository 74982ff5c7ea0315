//! Access tokens: HS256 JWTs with an explicit algorithm list and every registered claim
//! required, so `alg: none`, algorithm confusion, a token for another audience or issuer,
//! and expired or tampered tokens are all refused.

use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

/// Who issues and who may accept our access tokens.
pub const ISSUER: &str = "talkzone";
pub const AUDIENCE: &str = "talkzone-api";

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub role: String,
    pub exp: u64,
    pub iat: u64,
    pub jti: String,
    pub aud: String,
    pub iss: String,
    /// Issue time in milliseconds (`iat` has whole seconds), so that a sign-out refuses exactly
    /// the tokens issued before it.
    #[serde(default)]
    pub iat_ms: i64,
    /// The session (sign-in) the token belongs to: refused once it ends. Tokens without one
    /// (from before sessions were records) are refused.
    #[serde(default)]
    pub sid: String,
}

pub struct JwtKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl JwtKeys {
    pub fn hs256(secret: &[u8]) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "aud", "iss", "sub"]);
        validation.leeway = 5;
        validation.validate_exp = true;
        Self { encoding: EncodingKey::from_secret(secret), decoding: DecodingKey::from_secret(secret), validation }
    }

    pub fn sign(&self, claims: &Claims) -> Result<String, jsonwebtoken::errors::Error> {
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), claims, &self.encoding)
    }

    pub fn verify(&self, token: &str) -> Result<Claims, jsonwebtoken::errors::Error> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation).map(|d| d.claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;

    fn now() -> u64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
    }

    fn claims() -> Claims {
        Claims {
            sub: "u1".into(),
            role: "young_person".into(),
            exp: now() + 600,
            iat: now(),
            jti: "j".into(),
            aud: AUDIENCE.into(),
            iss: ISSUER.into(),
            iat_ms: 0,
            sid: "s1".into(),
        }
    }

    #[test]
    fn accepts_its_own_tokens() {
        let k = JwtKeys::hs256(b"0123456789abcdef0123456789abcdef");
        let t = k.sign(&claims()).unwrap();
        assert_eq!(k.verify(&t).unwrap().sub, "u1");
    }

    #[test]
    fn refuses_forged_none_wrong_audience_issuer_expired_and_tampered() {
        let k = JwtKeys::hs256(b"0123456789abcdef0123456789abcdef");
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let payload = b64.encode(serde_json::to_vec(&claims()).unwrap());
        let none = format!("{}.{}.", b64.encode(br#"{"alg":"none","typ":"JWT"}"#), payload);
        assert!(k.verify(&none).is_err(), "alg none");
        let other = JwtKeys::hs256(b"another-key-another-key-another-key!");
        assert!(k.verify(&other.sign(&claims()).unwrap()).is_err(), "other key");
        let mut c = claims();
        c.aud = "someone-else".into();
        assert!(k.verify(&k.sign(&c).unwrap()).is_err(), "audience");
        let mut c = claims();
        c.iss = "evil".into();
        assert!(k.verify(&k.sign(&c).unwrap()).is_err(), "issuer");
        let mut c = claims();
        c.exp = now() - 120;
        assert!(k.verify(&k.sign(&c).unwrap()).is_err(), "expired");
        let t = k.sign(&claims()).unwrap();
        let mut parts: Vec<String> = t.split('.').map(str::to_owned).collect();
        let mut c = claims();
        c.role = "yot_admin".into();
        parts[1] = b64.encode(serde_json::to_vec(&c).unwrap());
        assert!(k.verify(&parts.join(".")).is_err(), "tampered");
        let hs512 = jsonwebtoken::encode(
            &Header::new(Algorithm::HS512),
            &claims(),
            &EncodingKey::from_secret(b"0123456789abcdef0123456789abcdef"),
        )
        .unwrap();
        assert!(k.verify(&hs512).is_err(), "algorithm not on the list");
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

        /// The token parser answers anything with an error, never a panic or an acceptance.
        #[test]
        fn arbitrary_tokens_are_refused(token in "\\PC{0,300}", dots in "[A-Za-z0-9_=-]{0,40}\\.[A-Za-z0-9_=-]{0,80}\\.[A-Za-z0-9_=-]{0,40}") {
            let k = JwtKeys::hs256(b"0123456789abcdef0123456789abcdef");
            proptest::prop_assert!(k.verify(&token).is_err());
            proptest::prop_assert!(k.verify(&dots).is_err());
        }
    }
}
