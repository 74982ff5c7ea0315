//! Coming back to an anonymous account without giving any personal data: a device-bound
//! credential (kept by the app, or by the web chat on a device the young person says is their
//! own) and an optional recovery phrase to write down and use on another device. Either signs
//! in to the same account, so a message left out of hours is answered into the chat they come
//! back to (docs/privacy.md, "Coming back").

mod words;

use std::net::IpAddr;

use rand::seq::SliceRandom;
use talkzone_mobile_api::{
    DeviceCredentialCreated, DeviceCredentialList, DeviceCredentialView, RecoveryPhraseCreated, Role, TokenResponse,
    RECOVERY_PHRASE_WORDS,
};

use crate::auth::{hash_secret, passwords, random_token, AuthUser};
use crate::clock::rfc3339;
use crate::error::{ApiError, ApiResult};
use crate::limits::RECOVER_PHRASE_KEY_WORDS;
use crate::model::{AuditAction, AuditTarget};
use crate::state::AppState;
use crate::store::{DeviceCredentialRecord, StoreError};

pub use words::WORDS;

/// At most this many device credentials per account: a phone, a tablet, a laptop, with room for
/// old ones nobody forgot.
pub const MAX_DEVICE_CREDENTIALS: usize = 10;

fn days_ms(days: u32) -> i64 {
    i64::from(days) * 24 * 3600 * 1000
}

/// `POST /v1/me/device-credentials`: a new credential for the caller's device, shown once.
pub async fn create_device_credential(state: &AppState, user: &AuthUser) -> ApiResult<DeviceCredentialCreated> {
    user.require(&[Role::YoungPerson])?;
    if state.store.device_credentials(user.id.as_str()).await?.len() >= MAX_DEVICE_CREDENTIALS {
        return Err(ApiError::Conflict(format!(
            "this account is remembered on {MAX_DEVICE_CREDENTIALS} devices already: forget one first"
        )));
    }
    let secret = random_token();
    let now = state.clock.now_ms();
    let record = DeviceCredentialRecord {
        id: crate::ids::random_id(),
        user_id: user.id.to_string(),
        created_at: now,
        last_used_at: now,
    };
    state.store.create_device_credential(&record, &hash_secret(&secret)).await?;
    Ok(DeviceCredentialCreated {
        id: record.id,
        credential: secret,
        created_at: rfc3339(now),
        unused_days: state.config.returning.device_credential_days,
    })
}

/// `GET /v1/me/device-credentials`.
pub async fn device_credentials(state: &AppState, user: &AuthUser) -> ApiResult<DeviceCredentialList> {
    user.require(&[Role::YoungPerson])?;
    let credentials = state
        .store
        .device_credentials(user.id.as_str())
        .await?
        .into_iter()
        .map(|c| DeviceCredentialView {
            id: c.id,
            created_at: rfc3339(c.created_at),
            last_used_at: rfc3339(c.last_used_at),
        })
        .collect();
    let has_recovery_phrase = state.store.has_recovery_phrase(user.id.as_str()).await?;
    Ok(DeviceCredentialList { credentials, has_recovery_phrase })
}

/// `DELETE /v1/me/device-credentials/{id}`: another user's id is as unknown as a made-up one.
pub async fn forget_device_credential(state: &AppState, user: &AuthUser, id: &str) -> ApiResult<()> {
    user.require(&[Role::YoungPerson])?;
    if state.store.delete_device_credential(user.id.as_str(), id).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// `POST /v1/auth/device`: a new session for the credential's account.
pub async fn sign_in_with_device(state: &AppState, credential: &str) -> ApiResult<TokenResponse> {
    let bad = ApiError::Unauthorized("this device is not remembered any more; start again or use your recovery phrase");
    if credential.is_empty() || credential.len() > 128 {
        return Err(bad);
    }
    let now = state.clock.now_ms();
    let since = now - days_ms(state.config.returning.device_credential_days);
    let user_id = state.store.use_device_credential(&hash_secret(credential), since, now).await?.ok_or(bad)?;
    state.auth.start_session_for(&user_id, "device").await
}

/// Forgets the device credentials unused for `device_credential_days` (the retention job; a
/// sign-in with a credential does the same first).
pub async fn forget_unused(state: &AppState) -> ApiResult<u64> {
    let before = state.clock.now_ms() - days_ms(state.config.returning.device_credential_days);
    Ok(state.store.forget_unused_device_credentials(before).await?)
}

/// A new random phrase of [`RECOVERY_PHRASE_WORDS`] words.
fn new_phrase() -> String {
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_PHRASE_WORDS).filter_map(|_| WORDS.choose(&mut rng).copied()).collect::<Vec<_>>().join(" ")
}

/// The phrase as written: its words in lower case, single-spaced, each one of [`WORDS`].
/// Anything else is refused with the word that is wrong, so a young person can fix a typo (the
/// list is public: this tells a guesser nothing).
pub fn normalise_phrase(phrase: &str) -> ApiResult<String> {
    if phrase.len() > 400 {
        return Err(ApiError::Validation("that is too long for a recovery phrase".into()));
    }
    let words: Vec<String> = phrase
        .split(|c: char| c.is_whitespace() || c == ',' || c == '-' || c == '.')
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    if let Some(w) = words.iter().find(|w| !WORDS.contains(&w.as_str())) {
        let shown: String = w.chars().take(30).collect();
        return Err(ApiError::Validation(format!(
            "\"{shown}\" is not one of the words we use in recovery phrases: check how it is spelt"
        )));
    }
    if words.len() != RECOVERY_PHRASE_WORDS {
        return Err(ApiError::Validation(format!(
            "a recovery phrase has {RECOVERY_PHRASE_WORDS} words; this has {}",
            words.len()
        )));
    }
    Ok(words.join(" "))
}

/// `POST /v1/me/recovery-phrase`: a new phrase, shown once; the old one stops working.
pub async fn create_recovery_phrase(state: &AppState, user: &AuthUser) -> ApiResult<RecoveryPhraseCreated> {
    user.require(&[Role::YoungPerson])?;
    for _ in 0..3 {
        let phrase = new_phrase();
        let key = passwords::lookup_key(phrase.clone()).await?;
        match state.store.set_recovery_phrase(user.id.as_str(), &key, state.clock.now_ms()).await {
            Ok(()) => return Ok(RecoveryPhraseCreated { phrase }),
            Err(StoreError::Conflict(_)) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ApiError::Internal("could not draw a recovery phrase".into()))
}

/// `DELETE /v1/me/recovery-phrase`.
pub async fn remove_recovery_phrase(state: &AppState, user: &AuthUser) -> ApiResult<()> {
    user.require(&[Role::YoungPerson])?;
    if state.store.delete_recovery_phrase(user.id.as_str()).await? {
        Ok(())
    } else {
        Err(ApiError::NotFound)
    }
}

/// `POST /v1/auth/recover`: a new session for the phrase's account. Limited per source and per
/// phrase (`limits`), and one argon2 hash per try.
pub async fn recover(state: &AppState, ip: IpAddr, phrase: &str) -> ApiResult<TokenResponse> {
    let phrase = normalise_phrase(phrase)?;
    let key_words: Vec<&str> = phrase.split(' ').take(RECOVER_PHRASE_KEY_WORDS).collect();
    state.limits.check_recovery(ip, &key_words.join(" "))?;
    let key = passwords::lookup_key(phrase).await?;
    let now = state.clock.now_ms();
    let Some(user_id) = state.store.use_recovery_phrase(&key, now).await? else {
        return Err(ApiError::Unauthorized("that recovery phrase is not right: check each word and try again"));
    };
    let tokens = state.auth.start_session_for(&user_id, "recovery_phrase").await?;
    crate::audit::record(
        state.store.as_ref(),
        now,
        Some(&user_id),
        AuditAction::RecoveryPhraseUsed,
        AuditTarget::User,
        &user_id,
        None,
    )
    .await;
    Ok(tokens)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_words_are_distinct_and_plain() {
        let mut w = WORDS.to_vec();
        w.sort_unstable();
        w.dedup();
        assert_eq!(w.len(), 256);
        assert!(WORDS.iter().all(|w| w.chars().all(|c| c.is_ascii_lowercase())));
    }

    #[test]
    fn phrases_are_read_as_written_down() {
        let p = new_phrase();
        assert_eq!(p.split(' ').count(), RECOVERY_PHRASE_WORDS);
        let shouted = p.to_uppercase().replace(' ', " - ");
        assert_eq!(normalise_phrase(&format!("  {shouted}. ")).unwrap(), p);
        assert!(normalise_phrase("apple apple").is_err(), "too short");
        let typo = normalise_phrase(&p.replacen(' ', "x ", 1)).unwrap_err();
        assert!(typo.to_string().contains("not one of the words"), "{typo}");
    }
}
