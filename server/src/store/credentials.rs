//! What signing in checks besides the password hash: failed attempts per account and source
//! (for throttling), second factors (TOTP, recovery codes), the first step of a two-step
//! sign-in, and single sign-on logins under way.

use async_trait::async_trait;

use super::Result;

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
    /// Forgets every failure last seen before `before`.
    async fn forget_auth_failures(&self, before: i64) -> Result<u64>;
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
                    Ok(sqlx::query("DELETE FROM auth_failures WHERE last_failure_at < $1")
                        .bind(before)
                        .execute(self.writer())
                        .await?
                        .rows_affected())
                }
            }
        };
    };
}

pub(crate) use impl_credentials_sql;
