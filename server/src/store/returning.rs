//! Coming back to an anonymous account: device credentials and recovery phrases, each kept
//! only as a hash.

use async_trait::async_trait;

use super::{DeviceCredentialRecord, Result};

/// Device credentials and recovery phrases.
#[async_trait]
pub trait Returning: Send + Sync + 'static {
    async fn create_device_credential(&self, c: &DeviceCredentialRecord, secret_hash: &str) -> Result<()>;
    /// The user's credentials, newest first.
    async fn device_credentials(&self, user_id: &str) -> Result<Vec<DeviceCredentialRecord>>;
    /// Forgets one of the user's credentials; `false` if they have none with that id.
    async fn delete_device_credential(&self, user_id: &str, id: &str) -> Result<bool>;
    /// Forgets every device of the user (signing out everywhere).
    async fn delete_device_credentials(&self, user_id: &str) -> Result<()>;
    /// The owner of a credential used since `used_since`, marking it used `now`; a credential
    /// unused for longer is deleted and gives `None`.
    async fn use_device_credential(&self, secret_hash: &str, used_since: i64, now: i64) -> Result<Option<String>>;
    /// Deletes every credential last used before `before`; how many.
    async fn forget_unused_device_credentials(&self, before: i64) -> Result<u64>;

    /// Sets the user's phrase, replacing any earlier one.
    async fn set_recovery_phrase(&self, user_id: &str, phrase_hash: &str, now: i64) -> Result<()>;
    /// `false` if the user had none.
    async fn delete_recovery_phrase(&self, user_id: &str) -> Result<bool>;
    async fn has_recovery_phrase(&self, user_id: &str) -> Result<bool>;
    /// The owner of a phrase, marking it used `now`.
    async fn use_recovery_phrase(&self, phrase_hash: &str, now: i64) -> Result<Option<String>>;
}

/// The SQL of [`Returning`], the same for both databases; instantiated for each store type by
/// `impl_sql_store!` (`sql.rs`).
macro_rules! impl_returning_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::store::DeviceCredentialRecord;

            #[async_trait::async_trait]
            impl $crate::store::Returning for $store {
                async fn create_device_credential(
                    &self,
                    c: &DeviceCredentialRecord,
                    secret_hash: &str,
                ) -> $crate::store::Result<()> {
                    sqlx::query(
                        "INSERT INTO device_credentials (id, user_id, secret_hash, created_at, last_used_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(&c.id)
                    .bind(&c.user_id)
                    .bind(secret_hash)
                    .bind(c.created_at)
                    .bind(c.last_used_at)
                    .execute(self.writer())
                    .await?;
                    Ok(())
                }

                async fn device_credentials(&self, user_id: &str) -> $crate::store::Result<Vec<DeviceCredentialRecord>> {
                    Ok(sqlx::query_as(
                        "SELECT id, user_id, created_at, last_used_at FROM device_credentials WHERE user_id = $1 \
                         ORDER BY created_at DESC, id",
                    )
                    .bind(user_id)
                    .fetch_all(self.reader())
                    .await?)
                }

                async fn delete_device_credential(&self, user_id: &str, id: &str) -> $crate::store::Result<bool> {
                    let done = sqlx::query("DELETE FROM device_credentials WHERE id = $1 AND user_id = $2")
                        .bind(id)
                        .bind(user_id)
                        .execute(self.writer())
                        .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn delete_device_credentials(&self, user_id: &str) -> $crate::store::Result<()> {
                    sqlx::query("DELETE FROM device_credentials WHERE user_id = $1")
                        .bind(user_id)
                        .execute(self.writer())
                        .await?;
                    Ok(())
                }

                async fn use_device_credential(
                    &self,
                    secret_hash: &str,
                    used_since: i64,
                    now: i64,
                ) -> $crate::store::Result<Option<String>> {
                    // Unused for too long: gone, so that an old device left in a drawer does not
                    // open the chat years later.
                    self.forget_unused_device_credentials(used_since).await?;
                    let row: Option<(String,)> = sqlx::query_as(
                        "UPDATE device_credentials SET last_used_at = $2 WHERE secret_hash = $1 RETURNING user_id",
                    )
                    .bind(secret_hash)
                    .bind(now)
                    .fetch_optional(self.writer())
                    .await?;
                    Ok(row.map(|r| r.0))
                }

                async fn forget_unused_device_credentials(&self, before: i64) -> $crate::store::Result<u64> {
                    let done = sqlx::query("DELETE FROM device_credentials WHERE last_used_at < $1")
                        .bind(before)
                        .execute(self.writer())
                        .await?;
                    Ok(done.rows_affected())
                }

                async fn set_recovery_phrase(&self, user_id: &str, phrase_hash: &str, now: i64) -> $crate::store::Result<()> {
                    let res = sqlx::query(
                        "INSERT INTO recovery_phrases (user_id, phrase_hash, created_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (user_id) DO UPDATE SET phrase_hash = $2, created_at = $3, last_used_at = NULL",
                    )
                    .bind(user_id)
                    .bind(phrase_hash)
                    .bind(now)
                    .execute(self.writer())
                    .await;
                    match res {
                        Ok(_) => Ok(()),
                        // Two accounts drew the same 80-bit phrase: never in practice; the caller draws again.
                        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("phrase taken")),
                        Err(e) => Err(e.into()),
                    }
                }

                async fn delete_recovery_phrase(&self, user_id: &str) -> $crate::store::Result<bool> {
                    let done = sqlx::query("DELETE FROM recovery_phrases WHERE user_id = $1")
                        .bind(user_id)
                        .execute(self.writer())
                        .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn has_recovery_phrase(&self, user_id: &str) -> $crate::store::Result<bool> {
                    let row: Option<(String,)> = sqlx::query_as("SELECT user_id FROM recovery_phrases WHERE user_id = $1")
                        .bind(user_id)
                        .fetch_optional(self.reader())
                        .await?;
                    Ok(row.is_some())
                }

                async fn use_recovery_phrase(&self, phrase_hash: &str, now: i64) -> $crate::store::Result<Option<String>> {
                    let row: Option<(String,)> = sqlx::query_as(
                        "UPDATE recovery_phrases SET last_used_at = $2 WHERE phrase_hash = $1 RETURNING user_id",
                    )
                    .bind(phrase_hash)
                    .bind(now)
                    .fetch_optional(self.writer())
                    .await?;
                    Ok(row.map(|r| r.0))
                }
            }
        };
    };
}

pub(crate) use impl_returning_sql;
