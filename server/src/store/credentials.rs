//! What signing in checks besides the password hash: failed attempts per account and source
//! (for throttling), second factors (TOTP, recovery codes), the first step of a two-step
//! sign-in, and single sign-on logins under way.

use async_trait::async_trait;

use super::{AuditEvent, ChallengeRecord, Result};

/// Credentials and the memory of failed attempts.
#[async_trait]
pub trait Credentials: Send + Sync + 'static {
    /// Until when attempts of `scope` on `subject` from `source` are refused, if they are.
    async fn auth_blocked_until(&self, scope: &str, subject: &str, source: &str) -> Result<Option<i64>>;
    /// Counts a failure (failures before `forget_before` are forgotten first) and returns the
    /// count; then refuses attempts until `block(count)`, if it gives a time.
    async fn record_auth_failure(
        &self,
        scope: &str,
        subject: &str,
        source: &str,
        now: i64,
        forget_before: i64,
        block: fn(i64, i64) -> Option<i64>,
    ) -> Result<i64>;
    /// Forgets the failures of `subject` from `source` (after a success).
    async fn clear_auth_failures(&self, scope: &str, subject: &str, source: &str) -> Result<()>;
    /// Forgets every failure last seen before `before` (and sign-in steps expired by then).
    async fn forget_auth_failures(&self, before: i64) -> Result<u64>;

    /// Stores the first step of a two-step sign-in (the token hashed).
    async fn create_challenge(
        &self,
        token_hash: &str,
        user_id: &str,
        purpose: &str,
        pending_secret: Option<&str>,
        now: i64,
        expires_at: i64,
    ) -> Result<()>;
    /// Counts a try at a live challenge and returns it with the count; `None` if it is unknown
    /// or expired.
    async fn try_challenge(&self, token_hash: &str, now: i64) -> Result<Option<ChallengeRecord>>;
    async fn delete_challenge(&self, token_hash: &str) -> Result<()>;
    /// Sets up a second factor: the secret, the step of the code that confirmed it (so that code
    /// is spent), and new recovery codes (hashed) in place of any old ones; with `audit`.
    async fn enrol_totp(
        &self,
        user_id: &str,
        secret: &str,
        step: i64,
        recovery_hashes: &[String],
        now: i64,
        audit: AuditEvent,
    ) -> Result<()>;
    /// Spends TOTP time step `step`: `false` if it (or a later one) was used already, so a
    /// code works once.
    async fn spend_totp_step(&self, user_id: &str, step: i64) -> Result<bool>;
    /// Spends a recovery code: `false` if it is not the account's or was used.
    async fn spend_recovery_code(&self, user_id: &str, code_hash: &str, now: i64) -> Result<bool>;
    /// Recovery codes not yet used.
    async fn recovery_codes_left(&self, user_id: &str) -> Result<i64>;

    /// Stores a single sign-on login under way: its state (hashed), nonce and PKCE verifier.
    async fn create_oidc_login(
        &self,
        state_hash: &str,
        nonce: &str,
        pkce_verifier: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<()>;
    /// Takes (deletes) a login under way: its nonce and PKCE verifier, once; `None` if it is
    /// unknown, used or expired.
    async fn take_oidc_login(&self, state_hash: &str, now: i64) -> Result<Option<(String, String)>>;
}

/// The SQL of [`Credentials`], the same for both databases; instantiated for each store type by
/// `impl_sql_store!` (`sql.rs`).
macro_rules! impl_credentials_sql {
    ($store:ty) => {
        const _: () = {
            #[async_trait::async_trait]
            impl $crate::store::Credentials for $store {
                async fn auth_blocked_until(&self, scope: &str, subject: &str, source: &str)
                    -> $crate::store::Result<Option<i64>> {
                    let row: Option<(Option<i64>,)> = sqlx::query_as(
                        "SELECT blocked_until FROM auth_failures WHERE scope = $1 AND subject = $2 AND source = $3",
                    )
                    .bind(scope)
                    .bind(subject)
                    .bind(source)
                    .fetch_optional(self.reader())
                    .await?;
                    Ok(row.and_then(|(until,)| until))
                }

                async fn record_auth_failure(
                    &self,
                    scope: &str,
                    subject: &str,
                    source: &str,
                    now: i64,
                    forget_before: i64,
                    block: fn(i64, i64) -> Option<i64>,
                ) -> $crate::store::Result<i64> {
                    let mut tx = self.writer().begin().await?;
                    let (failures,): (i64,) = sqlx::query_as(
                        "INSERT INTO auth_failures (scope, subject, source, failures, last_failure_at) \
                         VALUES ($1, $2, $3, 1, $4) \
                         ON CONFLICT (scope, subject, source) DO UPDATE SET \
                           failures = CASE WHEN auth_failures.last_failure_at < $5 THEN 1 ELSE auth_failures.failures + 1 END, \
                           last_failure_at = $4 \
                         RETURNING failures",
                    )
                    .bind(scope)
                    .bind(subject)
                    .bind(source)
                    .bind(now)
                    .bind(forget_before)
                    .fetch_one(&mut *tx)
                    .await?;
                    sqlx::query(
                        "UPDATE auth_failures SET blocked_until = $4 WHERE scope = $1 AND subject = $2 AND source = $3",
                    )
                    .bind(scope)
                    .bind(subject)
                    .bind(source)
                    .bind(block(failures, now))
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(failures)
                }

                async fn clear_auth_failures(&self, scope: &str, subject: &str, source: &str) -> $crate::store::Result<()> {
                    sqlx::query("DELETE FROM auth_failures WHERE scope = $1 AND subject = $2 AND source = $3")
                        .bind(scope)
                        .bind(subject)
                        .bind(source)
                        .execute(self.writer())
                        .await?;
                    Ok(())
                }

                async fn forget_auth_failures(&self, before: i64) -> $crate::store::Result<u64> {
                    sqlx::query("DELETE FROM oidc_logins WHERE expires_at < $1")
                        .bind(before)
                        .execute(self.writer())
                        .await?;
                    sqlx::query("DELETE FROM sign_in_challenges WHERE expires_at < $1")
                        .bind(before)
                        .execute(self.writer())
                        .await?;
                    Ok(sqlx::query("DELETE FROM auth_failures WHERE last_failure_at < $1")
                        .bind(before)
                        .execute(self.writer())
                        .await?
                        .rows_affected())
                }

                async fn create_oidc_login(
                    &self,
                    state_hash: &str,
                    nonce: &str,
                    pkce_verifier: &str,
                    now: i64,
                    expires_at: i64,
                ) -> $crate::store::Result<()> {
                    sqlx::query(
                        "INSERT INTO oidc_logins (state_hash, nonce, pkce_verifier, created_at, expires_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(state_hash)
                    .bind(nonce)
                    .bind(pkce_verifier)
                    .bind(now)
                    .bind(expires_at)
                    .execute(self.writer())
                    .await?;
                    Ok(())
                }

                async fn take_oidc_login(&self, state_hash: &str, now: i64)
                    -> $crate::store::Result<Option<(String, String)>> {
                    // DELETE … RETURNING: a state is good once, even when two callbacks race.
                    let row: Option<(String, String, i64)> = sqlx::query_as(
                        "DELETE FROM oidc_logins WHERE state_hash = $1 RETURNING nonce, pkce_verifier, expires_at",
                    )
                    .bind(state_hash)
                    .fetch_optional(self.writer())
                    .await?;
                    Ok(row.filter(|r| r.2 > now).map(|(nonce, verifier, _)| (nonce, verifier)))
                }

                async fn create_challenge(
                    &self,
                    token_hash: &str,
                    user_id: &str,
                    purpose: &str,
                    pending_secret: Option<&str>,
                    now: i64,
                    expires_at: i64,
                ) -> $crate::store::Result<()> {
                    sqlx::query(
                        "INSERT INTO sign_in_challenges \
                         (token_hash, user_id, purpose, pending_secret, attempts, created_at, expires_at, method) \
                         VALUES ($1, $2, $3, $4, 0, $5, $6, 'password')",
                    )
                    .bind(token_hash)
                    .bind(user_id)
                    .bind(purpose)
                    .bind(pending_secret)
                    .bind(now)
                    .bind(expires_at)
                    .execute(self.writer())
                    .await?;
                    Ok(())
                }

                async fn try_challenge(
                    &self,
                    token_hash: &str,
                    now: i64,
                ) -> $crate::store::Result<Option<$crate::store::ChallengeRecord>> {
                    Ok(sqlx::query_as(
                        "UPDATE sign_in_challenges SET attempts = attempts + 1 \
                         WHERE token_hash = $1 AND expires_at > $2 \
                         RETURNING user_id, purpose, pending_secret, attempts, expires_at",
                    )
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(self.writer())
                    .await?)
                }

                async fn delete_challenge(&self, token_hash: &str) -> $crate::store::Result<()> {
                    sqlx::query("DELETE FROM sign_in_challenges WHERE token_hash = $1")
                        .bind(token_hash)
                        .execute(self.writer())
                        .await?;
                    Ok(())
                }

                async fn enrol_totp(
                    &self,
                    user_id: &str,
                    secret: &str,
                    step: i64,
                    recovery_hashes: &[String],
                    now: i64,
                    audit: AuditEvent,
                ) -> $crate::store::Result<()> {
                    let mut tx = self.writer().begin().await?;
                    sqlx::query(
                        "UPDATE users SET totp_secret = $2, totp_last_step = $3, totp_enrolled_at = $4 WHERE id = $1",
                    )
                    .bind(user_id)
                    .bind(secret)
                    .bind(step)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                    for hash in recovery_hashes {
                        sqlx::query("INSERT INTO recovery_codes (user_id, code_hash) VALUES ($1, $2)")
                            .bind(user_id)
                            .bind(hash)
                            .execute(&mut *tx)
                            .await?;
                    }
                    commit_with_audits(tx, std::slice::from_ref(&audit)).await
                }

                async fn spend_totp_step(&self, user_id: &str, step: i64) -> $crate::store::Result<bool> {
                    Ok(sqlx::query(
                        "UPDATE users SET totp_last_step = $2 \
                         WHERE id = $1 AND totp_secret IS NOT NULL AND (totp_last_step IS NULL OR totp_last_step < $2)",
                    )
                    .bind(user_id)
                    .bind(step)
                    .execute(self.writer())
                    .await?
                    .rows_affected()
                        == 1)
                }

                async fn spend_recovery_code(
                    &self,
                    user_id: &str,
                    code_hash: &str,
                    now: i64,
                ) -> $crate::store::Result<bool> {
                    Ok(sqlx::query(
                        "UPDATE recovery_codes SET used_at = $3 \
                         WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL",
                    )
                    .bind(user_id)
                    .bind(code_hash)
                    .bind(now)
                    .execute(self.writer())
                    .await?
                    .rows_affected()
                        == 1)
                }

                async fn recovery_codes_left(&self, user_id: &str) -> $crate::store::Result<i64> {
                    let (n,): (i64,) =
                        sqlx::query_as("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
                            .bind(user_id)
                            .fetch_one(self.reader())
                            .await?;
                    Ok(n)
                }
            }
        };
    };
}

pub(crate) use impl_credentials_sql;
