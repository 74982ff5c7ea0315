//! Passkeys (WebAuthn) for staff, as a second factor: a signed-in staff member registers one;
//! at sign-in, after the right password, an account with a passkey may answer the second step
//! with it instead of a code. The checks (attestation, assertion, signature, origin, RP id,
//! user verification, counters) are `webauthn-rs`'s; what is here is where its state is kept.
//!
//! Each ceremony's state is stored (`passkey_ceremonies`) and taken once: a registration under
//! a random token of its own; the passkey step of a sign-in under that sign-in's challenge, so
//! it is bound to the pending sign-in and expires with it. Failed assertions count as wrong
//! codes (the same throttle and tries), and a signature counter that goes backwards refuses the
//! sign-in and is audited (a copied authenticator).

use base64::Engine;
use talkzone_mobile_api::{PasskeyOptions, PasskeyRegistrationStarted, PasskeyView, TokenResponse};
use webauthn_rs::prelude::{
    Passkey, PasskeyAuthentication, PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential, Url, Uuid,
    Webauthn, WebauthnBuilder, WebauthnError,
};

use super::second_factor::{CHALLENGE_TRIES, CHALLENGE_TTL_MS};
use super::throttle::{source_of, Guess};
use super::{hash_secret, random_token, Auth, AuthUser, SignInContext};
use crate::error::ApiError;
use crate::model::{AuditAction, AuditTarget};
use crate::store::{CeremonyKind, PasskeyRecord};

/// How long a registration may take.
const REGISTRATION_TTL_MS: i64 = 5 * 60 * 1000;
const MAX_NAME_CHARS: usize = 60;
const EXPIRED: ApiError = ApiError::Unauthorized("this sign-in has expired or had too many tries: sign in again");

/// The relying party: the origin the staff pages are served on (the first allowed origin); its
/// host is the RP id, so a passkey works only on that site.
pub fn relying_party(origin: &str) -> Result<Webauthn, String> {
    let url = Url::parse(origin).map_err(|e| format!("'{origin}' is not an origin: {e}"))?;
    let rp_id = url.host_str().ok_or_else(|| format!("'{origin}' has no host"))?.to_owned();
    WebauthnBuilder::new(&rp_id, &url)
        .and_then(|b| b.rp_name("Talk Zone").build())
        .map_err(|e| format!("passkeys cannot use '{origin}': {e}"))
}

/// The WebAuthn user handle of an account: derived from its id (stable, not the id itself).
fn user_handle(user_id: &str) -> Uuid {
    let digest = <sha2::Sha256 as sha2::Digest>::digest(format!("talkzone passkey user {user_id}").as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::from_bytes(bytes)
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String, ApiError> {
    serde_json::to_string(v).map_err(|e| ApiError::Internal(format!("passkey state: {e}")))
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T, ApiError> {
    serde_json::from_str(s).map_err(|e| ApiError::Internal(format!("a stored passkey state does not read: {e}")))
}

fn stored_passkey(r: &PasskeyRecord) -> Result<Passkey, ApiError> {
    from_json(&r.passkey)
}

pub fn passkey_view(r: &PasskeyRecord) -> PasskeyView {
    PasskeyView {
        id: r.id.clone(),
        name: r.name.clone(),
        created_at: crate::clock::rfc3339(r.created_at),
        last_used_at: r.last_used_at.map(crate::clock::rfc3339),
    }
}

fn expires_in(ms: i64) -> u64 {
    (ms.max(0) / 1000) as u64
}

impl Auth {
    fn webauthn(&self) -> Result<&Webauthn, ApiError> {
        self.passkeys.as_ref().ok_or(ApiError::Unavailable("passkeys are not set up on this server".into()))
    }

    /// Whether the account may answer the second step with a passkey.
    pub(super) async fn has_passkey(&self, user_id: &str) -> Result<bool, ApiError> {
        Ok(self.passkeys.is_some() && !self.store.passkeys_of(user_id).await?.is_empty())
    }

    /// Passkeys are a staff second factor; nobody else signs in with two.
    fn require_staff(caller: &AuthUser) -> Result<(), ApiError> {
        match caller.role.is_staff() {
            true => Ok(()),
            false => Err(ApiError::Forbidden("passkeys are for staff accounts")),
        }
    }

    /// The caller's passkeys.
    pub async fn passkeys_of(&self, caller: &AuthUser) -> Result<Vec<PasskeyView>, ApiError> {
        Self::require_staff(caller)?;
        Ok(self.store.passkeys_of(caller.id.as_str()).await?.iter().map(passkey_view).collect())
    }

    /// Starts registering a passkey for the caller: the options for the browser, and the
    /// registration's token.
    pub async fn start_passkey_registration(&self, caller: &AuthUser) -> Result<PasskeyRegistrationStarted, ApiError> {
        Self::require_staff(caller)?;
        let webauthn = self.webauthn()?;
        let user = self.active_user(caller.id.as_str()).await?;
        let existing = self.store.passkeys_of(&user.id).await?;
        // The same authenticator is not registered twice.
        let exclude =
            existing.iter().map(|r| stored_passkey(r).map(|p| p.cred_id().clone())).collect::<Result<_, _>>()?;
        let name = user.username.clone().unwrap_or_else(|| user.display_name.clone());
        let (options, state) = webauthn
            .start_passkey_registration(user_handle(&user.id), &name, &user.display_name, Some(exclude))
            .map_err(|e| ApiError::Internal(format!("passkey registration: {e}")))?;
        let token = random_token();
        let now = self.clock.now_ms();
        self.store
            .put_passkey_ceremony(
                &hash_secret(&token),
                &user.id,
                CeremonyKind::Register,
                &to_json(&state)?,
                now,
                now + REGISTRATION_TTL_MS,
            )
            .await?;
        Ok(PasskeyRegistrationStarted {
            registration: token,
            options: PasskeyOptions {
                options: serde_json::to_value(&options).map_err(|e| ApiError::Internal(e.to_string()))?,
                expires_in: expires_in(REGISTRATION_TTL_MS),
            },
        })
    }

    /// Finishes a registration with the authenticator's answer; audited.
    pub async fn finish_passkey_registration(
        &self,
        caller: &AuthUser,
        registration: &str,
        name: &str,
        credential: serde_json::Value,
    ) -> Result<PasskeyView, ApiError> {
        Self::require_staff(caller)?;
        let webauthn = self.webauthn()?;
        let name = name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME_CHARS || name.chars().any(char::is_control) {
            return Err(ApiError::Validation(format!("a passkey's name is 1 to {MAX_NAME_CHARS} characters")));
        }
        let credential: RegisterPublicKeyCredential = serde_json::from_value(credential)
            .map_err(|e| ApiError::BadRequest(format!("that is not a WebAuthn credential: {e}")))?;
        let now = self.clock.now_ms();
        let state = self
            .store
            .take_passkey_ceremony(&hash_secret(registration), caller.id.as_str(), CeremonyKind::Register, now)
            .await?
            .ok_or_else(|| {
                ApiError::BadRequest("this passkey registration is unknown, used or expired: start again".into())
            })?;
        let state: PasskeyRegistration = from_json(&state)?;
        let passkey = webauthn
            .finish_passkey_registration(&credential, &state)
            .map_err(|e| ApiError::BadRequest(format!("that passkey could not be registered ({e}): start again")))?;
        let record = PasskeyRecord {
            id: crate::ids::random_id(),
            user_id: caller.id.0.clone(),
            credential_id: b64(passkey.cred_id().as_ref()),
            name: name.to_owned(),
            passkey: to_json(&passkey)?,
            sign_count: 0,
            created_at: now,
            last_used_at: None,
        };
        let audit = crate::audit::event(
            now,
            Some(caller.id.as_str()),
            AuditAction::PasskeyAdded,
            AuditTarget::User,
            caller.id.as_str(),
            Some(format!("passkey {} ({name})", record.id)),
        );
        if !self.store.add_passkey(&record, audit).await? {
            return Err(ApiError::Conflict("that passkey is registered already".into()));
        }
        Ok(passkey_view(&record))
    }

    /// Removes one of the caller's passkeys; audited. `NotFound` for one that is not theirs.
    pub async fn remove_passkey(&self, caller: &AuthUser, id: &str) -> Result<(), ApiError> {
        Self::require_staff(caller)?;
        let now = self.clock.now_ms();
        let audit = crate::audit::event(
            now,
            Some(caller.id.as_str()),
            AuditAction::PasskeyRemoved,
            AuditTarget::User,
            caller.id.as_str(),
            Some(format!("passkey {id}")),
        );
        if !self.store.delete_passkey(caller.id.as_str(), id, audit).await? {
            return Err(ApiError::NotFound);
        }
        Ok(())
    }

    /// The passkey step of a sign-in: options for the account's passkeys, bound to the pending
    /// sign-in `challenge` (a try at it, like a code).
    pub async fn start_passkey_sign_in(&self, challenge: &str) -> Result<PasskeyOptions, ApiError> {
        let hash = hash_secret(challenge);
        let now = self.clock.now_ms();
        let record = self.store.try_challenge(&hash, now).await?.ok_or(EXPIRED)?;
        if record.attempts > CHALLENGE_TRIES {
            self.store.delete_challenge(&hash).await?;
            return Err(EXPIRED);
        }
        let webauthn = self.webauthn()?;
        let user = self.active_user(&record.user_id).await.map_err(|_| EXPIRED)?;
        let passkeys =
            self.store.passkeys_of(&user.id).await?.iter().map(stored_passkey).collect::<Result<Vec<_>, _>>()?;
        if passkeys.is_empty() {
            return Err(ApiError::BadRequest("this account has no passkey: use a code from the app".into()));
        }
        let (options, state) = webauthn
            .start_passkey_authentication(&passkeys)
            .map_err(|e| ApiError::Internal(format!("passkey sign-in: {e}")))?;
        let expires_at = record.expires_at.min(now + CHALLENGE_TTL_MS);
        self.store
            .put_passkey_ceremony(&hash, &user.id, CeremonyKind::SignIn, &to_json(&state)?, now, expires_at)
            .await?;
        Ok(PasskeyOptions {
            options: serde_json::to_value(&options).map_err(|e| ApiError::Internal(e.to_string()))?,
            expires_in: expires_in(expires_at - now),
        })
    }

    /// The passkey's answer for a pending sign-in: the session's tokens, as after a code.
    pub async fn finish_passkey_sign_in(
        &self,
        challenge: &str,
        credential: serde_json::Value,
        from: &SignInContext,
    ) -> Result<TokenResponse, ApiError> {
        let hash = hash_secret(challenge);
        let now = self.clock.now_ms();
        let record = self.store.try_challenge(&hash, now).await?.ok_or(EXPIRED)?;
        let source = source_of(from.ip);
        self.check_throttle(Guess::SecondFactor, &record.user_id, &source).await?;
        self.check_throttle(Guess::SecondFactorAnySource, &record.user_id, "*").await?;
        if record.attempts > CHALLENGE_TRIES {
            self.store.delete_challenge(&hash).await?;
            return Err(EXPIRED);
        }
        let webauthn = self.webauthn()?;
        let user = self.active_user(&record.user_id).await.map_err(|_| EXPIRED)?;
        // Taken once: an answer replayed (or a second one to the same options) finds nothing.
        let state = self.store.take_passkey_ceremony(&hash, &user.id, CeremonyKind::SignIn, now).await?.ok_or(
            ApiError::Unauthorized("this passkey request is used or expired: ask for a new one (or sign in again)"),
        )?;
        let state: PasskeyAuthentication = from_json(&state)?;
        let wrong = ApiError::Unauthorized("that passkey did not sign in");
        let checked = serde_json::from_value::<PublicKeyCredential>(credential)
            .map_err(WebauthnError::ParseJSONFailure)
            .and_then(|c| webauthn.finish_passkey_authentication(&c, &state));
        let result = match checked {
            Ok(result) => Some(result),
            Err(WebauthnError::CredentialPossibleCompromise) => {
                self.counter_regressed(&user.id, "the signature counter did not grow").await?;
                None
            }
            Err(e) => {
                tracing::info!(error = %e, "a passkey assertion was refused");
                None
            }
        };
        let used = match result {
            Some(result) => {
                let mut matched = None;
                for r in self.store.passkeys_of(&user.id).await? {
                    let mut passkey = stored_passkey(&r)?;
                    if passkey.cred_id() == result.cred_id() {
                        passkey.update_credential(&result);
                        matched = Some((r, passkey));
                        break;
                    }
                }
                match matched {
                    Some((r, passkey)) => {
                        let counter = i64::from(result.counter());
                        let ok = self.store.use_passkey(&r.id, &to_json(&passkey)?, counter, now).await?;
                        if !ok {
                            self.counter_regressed(&user.id, &format!("passkey {}", r.id)).await?;
                        }
                        ok
                    }
                    None => false,
                }
            }
            None => false,
        };
        if !used {
            self.guessed_wrong(Guess::SecondFactor, &record.user_id, &source).await?;
            self.guessed_wrong(Guess::SecondFactorAnySource, &record.user_id, "*").await?;
            return Err(wrong);
        }
        self.guessed_right(Guess::SecondFactor, &record.user_id, &source).await?;
        self.guessed_right(Guess::SecondFactorAnySource, &record.user_id, "*").await?;
        self.store.delete_challenge(&hash).await?;
        self.start_session(&user, "password+passkey", from).await
    }

    async fn counter_regressed(&self, user_id: &str, detail: &str) -> Result<(), ApiError> {
        let audit = crate::audit::event(
            self.clock.now_ms(),
            Some(user_id),
            AuditAction::PasskeyCounterRegressed,
            AuditTarget::User,
            user_id,
            Some(format!("{detail}: a copy of the authenticator may exist; the sign-in was refused")),
        );
        self.store.append_audit(audit).await?;
        Ok(())
    }
}
