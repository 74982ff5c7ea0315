//! Staff passwords: argon2id with the crate's recommended parameters, verified off the async
//! runtime because hashing is deliberately slow.

use std::cell::RefCell;

use argon2::password_hash::{
    self, rand_core::OsRng, Decimal, Ident, Output, ParamsString, PasswordHash, PasswordHasher, PasswordVerifier, Salt,
    SaltString,
};
use argon2::{Algorithm, Argon2, Block, Params, Version};

use crate::error::ApiError;

/// Shortest password accepted for staff accounts.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Hashes with the crate's recommended parameters (argon2id, 19 MiB, two passes).
fn hash(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    KeptMemory
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| ApiError::Internal(format!("hashing failed: {e}")))
}

/// Argon2 runs on a few threads of its own, one per core, for the life of the process; calls
/// beyond that wait their turn. Each hash holds 19 MiB while it runs. Unbounded, a burst of 100
/// sign-ins took 100 blocking threads and 2 GB. Bounded but on tokio's blocking pool, the hashes
/// still moved between threads and each thread's allocator arena kept its own 19 MiB blocks:
/// after 100 accounts were made and signed in (200 hashes) a node held nine arenas of 57 MiB
/// (525 MiB, docs/benchmarks.md, 2026-11-24 morning). On fixed threads each arena reuses the
/// one block it has.
fn on_hashing_thread<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> impl std::future::Future<Output = Option<T>> {
    type Job = Box<dyn FnOnce() + Send>;
    static JOBS: std::sync::OnceLock<std::sync::Mutex<std::sync::mpsc::Sender<Job>>> = std::sync::OnceLock::new();
    let jobs = JOBS.get_or_init(|| {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        let rx = std::sync::Arc::new(std::sync::Mutex::new(rx));
        for n in 0..hashing_threads() {
            let rx = rx.clone();
            let spawned = std::thread::Builder::new().name(format!("talkzone-argon2-{n}")).spawn(move || loop {
                // The lock is held only to take a job, never while one runs.
                let job = match rx.lock() {
                    Ok(rx) => rx.recv(),
                    Err(_) => return,
                };
                match job {
                    Ok(job) => job(),
                    Err(_) => return,
                }
            });
            if let Err(e) = spawned {
                tracing::error!(error = %e, "could not start a password hashing thread");
            }
        }
        std::sync::Mutex::new(tx)
    });
    let (done, result) = tokio::sync::oneshot::channel();
    let job: Job = Box::new(move || {
        let _ = done.send(work());
    });
    let queued = jobs.lock().map(|tx| tx.send(job).is_ok()).unwrap_or(false);
    async move {
        if !queued {
            return None;
        }
        result.await.ok()
    }
}

thread_local! {
    /// The hashing thread's argon2 memory, kept from one hash to the next.
    static MEMORY: RefCell<Vec<Block>> = const { RefCell::new(Vec::new()) };
}

/// Argon2 as the crate computes it (its `PasswordHasher`, and so its constant-time
/// `verify_password`), but in memory the thread keeps instead of 19 MiB allocated and freed
/// for every hash, which the allocator kept anyway in arenas it could not reuse.
struct KeptMemory;

impl PasswordHasher for KeptMemory {
    type Params = Params;

    fn hash_password_customized<'a>(
        &self,
        password: &[u8],
        algorithm: Option<Ident<'a>>,
        version: Option<Decimal>,
        params: Params,
        salt: impl Into<Salt<'a>>,
    ) -> password_hash::Result<PasswordHash<'a>> {
        let algorithm = algorithm.map(Algorithm::try_from).transpose()?.unwrap_or_default();
        let version = version.map(Version::try_from).transpose()?.unwrap_or_default();
        let salt = salt.into();
        let mut salt_buf = [0u8; Salt::MAX_LENGTH];
        let salt_bytes = salt.decode_b64(&mut salt_buf)?;
        let blocks = params.block_count();
        let output_len = params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN);
        let argon2 = Argon2::new(algorithm, version, params.clone());
        let output = Output::init_with(output_len, |out| {
            MEMORY.with_borrow_mut(|memory| {
                if memory.len() < blocks {
                    memory.resize(blocks, Block::default());
                }
                Ok(argon2.hash_password_into_with_memory(password, salt_bytes, out, &mut memory[..blocks])?)
            })
        })?;
        Ok(PasswordHash {
            algorithm: algorithm.ident(),
            version: Some(version.into()),
            params: ParamsString::try_from(&params)?,
            salt: Some(salt),
            hash: Some(output),
        })
    }
}

fn hashing_threads() -> usize {
    std::thread::available_parallelism().map_or(2, |n| n.get())
}

pub async fn hash_blocking(password: String) -> Result<String, ApiError> {
    on_hashing_thread(move || hash(&password))
        .await
        .unwrap_or_else(|| Err(ApiError::Internal("no password hashing thread is running".into())))
}

/// Checks a password; with no stored hash it still does the work, so the time taken does not
/// tell whether an account exists.
pub async fn verify(password: String, stored: Option<String>) -> bool {
    on_hashing_thread(move || {
        let dummy;
        let phc = match &stored {
            Some(s) => s.as_str(),
            None => {
                dummy = DUMMY_HASH.get_or_init(|| hash("not-a-real-password").unwrap_or_default());
                dummy.as_str()
            }
        };
        let ok = PasswordHash::new(phc)
            .map(|h| KeptMemory.verify_password(password.as_bytes(), &h).is_ok())
            .unwrap_or(false);
        ok && stored.is_some()
    })
    .await
    .unwrap_or(false)
}

static DUMMY_HASH: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// The key a secret the user wrote down (a recovery phrase) is found by: argon2id, with the
/// recommended parameters, as slow as a password hash, so a stolen table gives a guesser one
/// argon2 per guess. The salt is fixed (the key must find the row without knowing whose it
/// is); the phrase's own length (80 random bits) is what a per-row salt would otherwise add.
pub async fn lookup_key(secret: String) -> Result<String, ApiError> {
    const SALT: &[u8] = b"talkzone recovery phrase v1";
    on_hashing_thread(move || {
        let params = Params::default();
        let blocks = params.block_count();
        let argon2 = Argon2::new(Algorithm::Argon2id, Version::V0x13, params);
        let mut out = [0u8; 32];
        MEMORY
            .with_borrow_mut(|memory| {
                if memory.len() < blocks {
                    memory.resize(blocks, Block::default());
                }
                argon2.hash_password_into_with_memory(secret.as_bytes(), SALT, &mut out, &mut memory[..blocks])
            })
            .map_err(|e| ApiError::Internal(format!("hashing failed: {e}")))?;
        use base64::Engine;
        Ok(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(out))
    })
    .await
    .unwrap_or_else(|| Err(ApiError::Internal("no password hashing thread is running".into())))
}

/// Whether a new password may be used; `username` is the account's, which it must not contain.
pub fn check_strength(password: &str, username: Option<&str>) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(ApiError::Validation(format!("password must be at least {MIN_PASSWORD_CHARS} characters")));
    }
    if password.len() > 1024 {
        return Err(ApiError::Validation("password is too long".into()));
    }
    if username.is_some_and(|u| u.len() >= 3 && password.to_lowercase().contains(&u.to_lowercase())) {
        return Err(ApiError::Validation("password must not contain the username".into()));
    }
    if let Some(why) = super::common_passwords::weakness(password) {
        return Err(ApiError::Validation(format!("choose another password: {why}")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use argon2::password_hash::{rand_core::OsRng, PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
    use argon2::{Algorithm, Argon2, Params, Version};

    /// Hashes stored before memory was kept (the crate's own hasher), with the recommended or
    /// other parameters, verify; and the crate verifies ours.
    #[test]
    fn kept_memory_hashes_exactly_as_the_crate_does() {
        let salt = SaltString::generate(&mut OsRng);
        let ours = super::KeptMemory.hash_password(b"correct horse battery", &salt).unwrap().to_string();
        let theirs = Argon2::default().hash_password(b"correct horse battery", &salt).unwrap().to_string();
        assert_eq!(ours, theirs);
        let ours = PasswordHash::new(&ours).unwrap();
        assert!(Argon2::default().verify_password(b"correct horse battery", &ours).is_ok());

        for params in [Params::new(8 * 1024, 3, 1, None).unwrap(), Params::new(32 * 1024, 1, 2, Some(48)).unwrap()] {
            for algorithm in [Algorithm::Argon2id, Algorithm::Argon2i] {
                let stored =
                    Argon2::new(algorithm, Version::V0x13, params.clone()).hash_password(b"older", &salt).unwrap();
                assert!(super::KeptMemory.verify_password(b"older", &stored).is_ok(), "{stored}");
                assert!(super::KeptMemory.verify_password(b"olden", &stored).is_err(), "{stored}");
            }
        }
        // After a larger hash, a smaller one uses only its own part of the kept memory.
        let again = super::KeptMemory.hash_password(b"correct horse battery", &salt).unwrap().to_string();
        assert_eq!(again, Argon2::default().hash_password(b"correct horse battery", &salt).unwrap().to_string());
    }

    #[tokio::test]
    async fn verifies_right_and_refuses_wrong_and_missing() {
        let h = super::hash("correct horse battery").unwrap();
        assert!(super::verify("correct horse battery".into(), Some(h.clone())).await);
        assert!(!super::verify("wrong".into(), Some(h)).await);
        assert!(!super::verify("not-a-real-password".into(), None).await);
    }

    /// A burst of sign-ins queues for the hashing threads (one per core) instead of taking a
    /// thread and 19 MiB each, and always the same threads, so their allocator keeps no more
    /// than one hash's memory each.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_burst_of_sign_ins_runs_on_a_fixed_few_threads() {
        let h = super::hash("correct horse battery").unwrap();
        let burst: Vec<_> = (0..super::hashing_threads() * 4)
            .map(|_| tokio::spawn(super::verify("correct horse battery".into(), Some(h.clone()))))
            .collect();
        for t in burst {
            assert!(t.await.unwrap());
        }
        let mut threads = std::collections::HashSet::new();
        for _ in 0..2 {
            let names: Vec<_> = (0..super::hashing_threads() * 8)
                .map(|_| super::on_hashing_thread(|| std::thread::current().name().map(str::to_owned)))
                .collect();
            for name in futures_util::future::join_all(names).await {
                threads.insert(name.expect("the work ran").expect("hashing threads are named"));
            }
        }
        assert!(threads.len() <= super::hashing_threads(), "hashing ran on {threads:?}");
        assert!(threads.iter().all(|t| t.starts_with("talkzone-argon2-")), "hashing ran on {threads:?}");
    }
}
