//! Staff passwords: argon2id with the crate's recommended parameters, verified off the async
//! runtime because hashing is deliberately slow.

use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;

use crate::error::ApiError;

/// Shortest password accepted for staff accounts.
pub const MIN_PASSWORD_CHARS: usize = 12;

pub fn hash(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing failed: {e}")))
}

pub async fn hash_blocking(password: String) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || hash(&password))
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// Checks a password; with no stored hash it still does the work, so the time taken does not
/// tell whether an account exists.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let dummy;
        let phc = match &stored {
            Some(s) => s.as_str(),
            None => {
                dummy = DUMMY_HASH.get_or_init(|| hash("not-a-real-password").unwrap_or_default());
                dummy.as_str()
            }
        };
        let ok = PasswordHash::new(phc)
            .map(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false);
        ok && stored.is_some()
    })
    .await
    .unwrap_or(false)
}

static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

pub fn check_strength(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::Validation(format!("password must be at least {MIN_PASSWORD_CHARS} characters")));
    }
    if password.len() > 1024 {
        return Err(ApiError::Validation("password is too long".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[tokio::test]
    async fn verifies_right_and_refuses_wrong_and_missing() {
        let h = super::hash("correct horse battery").unwrap();
        assert!(super::verify("correct horse battery".into(), Some(h.clone())).await);
        assert!(!super::verify("wrong".into(), Some(h)).await);
        assert!(!super::verify("not-a-real-password".into(), None).await);
    }
}
