//! The second factor for staff: TOTP (RFC 6238: SHA-1, 6 digits, 30 s steps) with recovery
//! codes. A right password answers a short-lived challenge instead of tokens; the code (or a
//! recovery code) for it starts the session. An account with none sets one up at that step
//! (enrolment at first sign-in): the secret is offered with the challenge and kept only once a
//! code from it comes back, with ten recovery codes shown that once and stored hashed.
//!
//! A code works once (the account's last used step is kept; a code of that step or an earlier
//! one is refused), tries are counted per challenge and throttled per account and source like
//! passwords, and a recovery code works once.

use rand::{Rng, RngCore};
use subtle::ConstantTimeEq;
use talkzone_mobile_api::{
    LoginAnswer, Role, SecondFactorChallenge, SecondFactorKind, SecondFactorRequired, TokenResponse, TotpEnrolment,
};
use totp_rs::{Algorithm, Secret, TOTP};

use super::throttle::{source_of, Guess};
use super::{hash_secret, random_token, Auth, SignInContext};
use crate::config::SecondFactorPolicy;
use crate::error::ApiError;
use crate::model::{AuditAction, AuditTarget};
use crate::store::UserRecord;

/// How long the second step may take.
pub const CHALLENGE_TTL_MS: i64 = 5 * 60 * 1000;
/// Tries at one challenge before it must start again with the password.
pub const CHALLENGE_TRIES: i64 = 5;
/// Recovery codes made at enrolment.
pub const RECOVERY_CODES: usize = 10;
const STEP_SECONDS: u64 = 30;
const ISSUER: &str = "Talk Zone";

const PURPOSE_TOTP: &str = "totp";
const PURPOSE_ENROL: &str = "enrol";

fn totp(secret: &[u8], account: &str) -> TOTP {
    // `new_unchecked`: the secret is ours (160 random bits) and any username is a fine label.
    TOTP::new_unchecked(Algorithm::SHA1, 6, 1, STEP_SECONDS, secret.to_vec(), Some(ISSUER.into()), account.into())
}

/// The time step of `code` under `secret` at `now_ms`, within one step either way (clocks
/// drift); `None` if it is not a code of those steps.
pub fn matching_step(secret: &[u8], code: &str, now_ms: i64) -> Option<i64> {
    let t = totp(secret, "");
    let now = (now_ms.max(0) / 1000) as u64 / STEP_SECONDS;
    [now.saturating_sub(1), now, now + 1]
        .into_iter()
        .find(|step| bool::from(t.generate(step * STEP_SECONDS).as_bytes().ct_eq(code.as_bytes())))
        .map(|step| step as i64)
}

/// A recovery code as typed: case, spaces and dashes do not matter.
fn normalise_recovery(code: &str) -> String {
    code.chars().filter(char::is_ascii_alphanumeric).collect::<String>().to_ascii_lowercase()
}

/// Ten codes of ten letters and digits (about 50 bits each), shown as `xxxxx-xxxxx`.
fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::thread_rng();
    (0..RECOVERY_CODES)
        .map(|_| {
            let c: String = (0..10).map(|_| ALPHABET[rng.gen_range(0..ALPHABET.len())] as char).collect();
            format!("{}-{}", &c[..5], &c[5..])
        })
        .collect()
}

impl Auth {
    /// Whether this account signs in with a second factor under the policy in force.
    pub fn second_factor_needed(&self, user: &UserRecord) -> bool {
        match (self.second_factor, user.role) {
            // Staff only: young people and parents or carers are never asked.
            (_, role) if !role.is_staff() => false,
            (SecondFactorPolicy::NotAsked, _) => false,
            // A moderator who set one up is asked for it all the same.
            (SecondFactorPolicy::OptionalForModerators, Role::Moderator) => user.totp_secret.is_some(),
            _ => true,
        }
    }

    /// After the right password: the tokens, or the challenge of the second step.
    pub(super) async fn after_password(
        &self,
        user: &UserRecord,
        from: &SignInContext,
    ) -> Result<LoginAnswer, ApiError> {
        if !self.second_factor_needed(user) {
            return Ok(LoginAnswer::Tokens(self.start_session(user, "password", from).await?));
        }
        let token = random_token();
        let now = self.clock.now_ms();
        let (kind, enrolment, pending) = match user.totp_secret {
            Some(_) => (SecondFactorKind::Totp, None, None),
            None => {
                let mut raw = [0u8; 20];
                rand::thread_rng().fill_bytes(&mut raw);
                let t = totp(&raw, user.username.as_deref().unwrap_or("staff"));
                let secret = t.get_secret_base32();
                (
                    SecondFactorKind::Enrol,
                    Some(TotpEnrolment { secret: secret.clone(), otpauth_url: t.get_url() }),
                    Some(secret),
                )
            }
        };
        let purpose = if pending.is_some() { PURPOSE_ENROL } else { PURPOSE_TOTP };
        self.store
            .create_challenge(&hash_secret(&token), &user.id, purpose, pending.as_deref(), now, now + CHALLENGE_TTL_MS)
            .await?;
        Ok(LoginAnswer::SecondFactor(SecondFactorRequired {
            second_factor: SecondFactorChallenge {
                challenge: token,
                kind,
                expires_in: (CHALLENGE_TTL_MS / 1000) as u64,
                enrolment,
                passkey: self.has_passkey(&user.id).await?,
            },
        }))
    }

    /// The second step: a code from the authenticator (or, once enrolled, a recovery code) for
    /// a live challenge. Wrong codes are throttled per account and source; a challenge takes
    /// [`CHALLENGE_TRIES`] tries.
    pub async fn second_factor(
        &self,
        challenge: &str,
        code: &str,
        from: &SignInContext,
    ) -> Result<TokenResponse, ApiError> {
        const EXPIRED: ApiError =
            ApiError::Unauthorized("this sign-in has expired or had too many tries: sign in again");
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
        let user = self.active_user(&record.user_id).await.map_err(|_| EXPIRED)?;
        let code = code.trim().replace(' ', "");
        let method = match (record.purpose.as_str(), record.pending_secret.as_deref(), user.totp_secret.as_deref()) {
            (PURPOSE_ENROL, Some(pending), _) => self.enrol(&user, pending, &code, now).await?,
            (PURPOSE_TOTP, _, Some(secret)) => self.check_code(&user, secret, &code, now).await?,
            // The factor was reset (or set up elsewhere) since the password step.
            _ => {
                self.store.delete_challenge(&hash).await?;
                return Err(EXPIRED);
            }
        };
        let Some((method, recovery_codes)) = method else {
            self.guessed_wrong(Guess::SecondFactor, &record.user_id, &source).await?;
            self.guessed_wrong(Guess::SecondFactorAnySource, &record.user_id, "*").await?;
            return Err(ApiError::Unauthorized("that code is not right (or was used already)"));
        };
        // Only a right code forgets the account-wide count, and a guesser has none.
        self.guessed_right(Guess::SecondFactor, &record.user_id, &source).await?;
        self.guessed_right(Guess::SecondFactorAnySource, &record.user_id, "*").await?;
        self.store.delete_challenge(&hash).await?;
        let mut tokens = self.start_session(&user, method, from).await?;
        tokens.recovery_codes = recovery_codes;
        Ok(tokens)
    }

    /// Enrolment: a right code from the offered secret keeps it, with new recovery codes.
    async fn enrol(
        &self,
        user: &UserRecord,
        pending: &str,
        code: &str,
        now: i64,
    ) -> Result<Option<(&'static str, Option<Vec<String>>)>, ApiError> {
        let raw = Secret::Encoded(pending.to_owned())
            .to_bytes()
            .map_err(|_| ApiError::Internal("a stored second-factor secret is not base32".into()))?;
        let Some(step) = matching_step(&raw, code, now) else { return Ok(None) };
        let codes = new_recovery_codes();
        let hashes: Vec<String> = codes.iter().map(|c| hash_secret(&normalise_recovery(c))).collect();
        let audit = crate::audit::event(
            now,
            Some(&user.id),
            AuditAction::SecondFactorEnrolled,
            AuditTarget::User,
            &user.id,
            Some("an authenticator app, with recovery codes".into()),
        );
        self.store.enrol_totp(&user.id, pending, step, &hashes, now, audit).await?;
        Ok(Some(("password+totp", Some(codes))))
    }

    /// A code of the account's authenticator, each step once; or one of its recovery codes,
    /// each once.
    async fn check_code(
        &self,
        user: &UserRecord,
        secret: &str,
        code: &str,
        now: i64,
    ) -> Result<Option<(&'static str, Option<Vec<String>>)>, ApiError> {
        if code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit()) {
            let raw = Secret::Encoded(secret.to_owned())
                .to_bytes()
                .map_err(|_| ApiError::Internal("a stored second-factor secret is not base32".into()))?;
            return Ok(match matching_step(&raw, code, now) {
                Some(step) if self.store.spend_totp_step(&user.id, step).await? => Some(("password+totp", None)),
                _ => None,
            });
        }
        let hash = hash_secret(&normalise_recovery(code));
        if !self.store.spend_recovery_code(&user.id, &hash, now).await? {
            return Ok(None);
        }
        let left = self.store.recovery_codes_left(&user.id).await?;
        let audit = crate::audit::event(
            now,
            Some(&user.id),
            AuditAction::RecoveryCodeUsed,
            AuditTarget::User,
            &user.id,
            Some(format!("{left} left")),
        );
        self.store.append_audit(audit).await?;
        Ok(Some(("recovery_code", None)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 secret "12345678901234567890" at T = 59 s gives
    /// 94287082 (8 digits); its last 6 digits are the 6-digit code.
    #[test]
    fn codes_are_rfc_6238() {
        let secret = b"12345678901234567890";
        assert_eq!(matching_step(secret, "287082", 59_000), Some(1));
        assert_eq!(matching_step(secret, "287082", 89_000), Some(1), "one step late is accepted");
        assert_eq!(matching_step(secret, "287082", 150_000), None, "three steps late is not");
        assert_eq!(matching_step(secret, "000000", 59_000), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_typed_loosely() {
        let codes = new_recovery_codes();
        assert_eq!(codes.iter().collect::<std::collections::HashSet<_>>().len(), RECOVERY_CODES);
        assert_eq!(normalise_recovery(" ABCDE-fghjk "), "abcdefghjk");
    }
}
