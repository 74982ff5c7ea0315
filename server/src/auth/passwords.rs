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

/// Hashes at once: one per core. Each argon2 hash holds 19 MiB while it runs; without a
/// bound, a burst of 100 sign-ins took 100 blocking threads and 2 GB that the allocator then
/// kept, and a flood of sign-in attempts could exhaust memory. Beyond the bound, requests wait.
fn hashing_slots() -> &'static tokio::sync::Semaphore {
    static SLOTS: std::sync::OnceLock<tokio::sync::Semaphore> = std::sync::OnceLock::new();
    SLOTS.get_or_init(|| tokio::sync::Semaphore::new(slot_count()))
}

fn slot_count() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

pub async fn hash_blocking(password: String) -> Result<String, ApiError> {
    let slot = hashing_slots().acquire().await.map_err(|e| ApiError::Internal(e.to_string()))?;
    // The slot goes with the work: a caller that gives up must not free it while the hash runs.
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        hash(&password)
    })
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?
}

/// Checks a password; with no stored hash it still does the work, so the time taken does not
/// tell whether an account exists.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    let Ok(slot) = hashing_slots().acquire().await else { return false };
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
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

    /// A burst of sign-ins queues for the hashing slots (one per core) instead of taking a
    /// thread and 19 MiB each, and gives every slot back.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_sign_ins_waits_for_a_bounded_number_of_slots() {
        let slots = super::hashing_slots();
        let all = super::slot_count();
        let h = super::hash("correct horse battery").unwrap();
        let burst: Vec<_> =
            (0..all * 4).map(|_| tokio::spawn(super::verify("correct horse battery".into(), Some(h.clone())))).collect();
        let mut saw_full = false;
        while !burst.iter().all(|t| t.is_finished()) {
            saw_full |= slots.available_permits() == 0;
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        for t in burst {
            assert!(t.await.unwrap());
        }
        assert!(saw_full, "every slot was in use during the burst");
        // (Other tests in this process may be hashing: wait for them.)
        for _ in 0..500 {
            if slots.available_permits() == all {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        panic!("{} of {all} slots came back", slots.available_permits());
    }
}
