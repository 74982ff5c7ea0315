//! A software WebAuthn authenticator (ES256, attestation `none`), for end-to-end tests of
//! passkeys without a browser: it answers the options the server gives as
//! `navigator.credentials.create` and `.get` would, and can be made to misbehave (a forged
//! signature, a counter that goes backwards). The server's checks are `webauthn-rs`'s; this
//! only has to speak the format (WebAuthn level 2, §6.1 and §6.5).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use p256::ecdsa::signature::Signer;
use p256::ecdsa::{Signature, SigningKey};
use rand::RngCore;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

/// One authenticator holding one credential, for the site at `origin`.
pub struct SoftAuthenticator {
    key: SigningKey,
    credential_id: Vec<u8>,
    /// The signature counter: the next assertion carries this plus one.
    pub counter: u32,
    origin: String,
    rp_id: String,
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// A CBOR byte string's head (major type 2).
fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    match bytes.len() {
        n if n < 24 => out.push(0x40 | n as u8),
        n if n < 256 => out.extend([0x58, n as u8]),
        n => out.extend([0x59, (n >> 8) as u8, n as u8]),
    }
    out.extend_from_slice(bytes);
}

/// A CBOR text string (major type 3), short.
fn cbor_text(out: &mut Vec<u8>, text: &str) {
    out.push(0x60 | text.len() as u8);
    out.extend_from_slice(text.as_bytes());
}

fn challenge_of(options: &Value) -> String {
    options["publicKey"]["challenge"].as_str().expect("options with a challenge").to_owned()
}

impl SoftAuthenticator {
    pub fn new(origin: &str) -> Self {
        let rp_id = url::Url::parse(origin).expect("an origin").host_str().expect("a host").to_owned();
        let mut credential_id = vec![0u8; 32];
        rand::thread_rng().fill_bytes(&mut credential_id);
        Self {
            key: SigningKey::random(&mut rand::rngs::OsRng),
            credential_id,
            counter: 0,
            origin: origin.to_owned(),
            rp_id,
        }
    }

    fn client_data(&self, kind: &str, challenge: &str) -> Vec<u8> {
        json!({"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": false})
            .to_string()
            .into_bytes()
    }

    /// The answer to creation options (`PasskeyOptions::options`): a `PublicKeyCredential` as
    /// JSON, with attestation `none`.
    pub fn create(&mut self, options: &Value) -> Value {
        let client_data = self.client_data("webauthn.create", &challenge_of(options));
        let point = self.key.verifying_key().to_encoded_point(false);
        // COSE_Key: {1: 2 (EC2), 3: -7 (ES256), -1: 1 (P-256), -2: x, -3: y}
        let mut cose = vec![0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21];
        cbor_bytes(&mut cose, point.x().expect("x"));
        cose.push(0x22);
        cbor_bytes(&mut cose, point.y().expect("y"));
        let mut auth_data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        auth_data.push(0x45); // user present, user verified, attested credential data
        auth_data.extend(self.counter.to_be_bytes());
        auth_data.extend([0u8; 16]); // AAGUID
        auth_data.extend((self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend(&self.credential_id);
        auth_data.extend(cose);
        let mut attestation = vec![0xa3];
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        attestation.push(0xa0);
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {"attestationObject": b64(&attestation), "clientDataJSON": b64(&client_data)},
            "extensions": {},
        })
    }

    /// The answer to request options: an assertion signed with this credential's key, its
    /// counter one more than the last.
    pub fn get(&mut self, options: &Value) -> Value {
        self.counter += 1;
        self.assert(&challenge_of(options), &self.key.clone())
    }

    /// An assertion for `options` signed with a key that is not the credential's (a forgery).
    pub fn forged(&mut self, options: &Value) -> Value {
        self.counter += 1;
        self.assert(&challenge_of(options), &SigningKey::random(&mut rand::rngs::OsRng))
    }

    fn assert(&self, challenge: &str, key: &SigningKey) -> Value {
        let client_data = self.client_data("webauthn.get", challenge);
        let mut auth_data = Sha256::digest(self.rp_id.as_bytes()).to_vec();
        auth_data.push(0x05); // user present, user verified
        auth_data.extend(self.counter.to_be_bytes());
        let mut signed = auth_data.clone();
        signed.extend(Sha256::digest(&client_data));
        let signature: Signature = key.sign(&signed);
        json!({
            "id": b64(&self.credential_id),
            "rawId": b64(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": b64(&auth_data),
                "clientDataJSON": b64(&client_data),
                "signature": b64(signature.to_der().as_bytes()),
                "userHandle": null,
            },
            "extensions": {},
        })
    }
}
