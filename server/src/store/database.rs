//! The database as a whole, and the job leases several nodes share.

use async_trait::async_trait;

use super::Result;

/// The database as a whole: which one it is, its migrations, a health check, and the leases
/// that let one node of several run each scheduled job.
#[async_trait]
pub trait Database: Send + Sync + 'static {
    /// `postgres` or `sqlite`.
    fn backend(&self) -> &'static str;
    /// Applies pending migrations.
    async fn migrate(&self) -> Result<()>;
    /// A cheap round trip, for `/readyz`.
    async fn ping(&self) -> Result<()>;

    /// Takes (or renews) the lease on a job until `expires_at` if it is free, expired, or
    /// already `holder`'s. True when `holder` has it: with several nodes, one runs the job.
    async fn take_lease(&self, job: &str, holder: &str, now: i64, expires_at: i64) -> Result<bool>;
}

/// The SQL of [`Database`], the same for both databases; instantiated for each store type by
/// `impl_sql_store!` (`sql.rs`).
macro_rules! impl_database_sql {
    ($store:ty) => {
        const _: () = {
            #[async_trait::async_trait]
            impl $crate::store::Database for $store {
                fn backend(&self) -> &'static str {
                    self.backend_name()
                }

                async fn migrate(&self) -> $crate::store::Result<()> {
                    self.run_migrations().await
                }

                async fn ping(&self) -> $crate::store::Result<()> {
                    sqlx::query("SELECT 1").execute(self.reader()).await?;
                    Ok(())
                }

                async fn take_lease(&self, job: &str, holder: &str, now: i64, expires_at: i64) -> $crate::store::Result<bool> {
                    let won: Option<(String,)> = sqlx::query_as(
                        "INSERT INTO job_leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
                         WHERE job_leases.expires_at <= $4 OR job_leases.holder = excluded.holder RETURNING holder",
                    )
                    .bind(job)
                    .bind(holder)
                    .bind(expires_at)
                    .bind(now)
                    .fetch_optional(self.writer())
                    .await?;
                    Ok(won.is_some())
                }
            }
        };
    };
}

pub(crate) use impl_database_sql;
