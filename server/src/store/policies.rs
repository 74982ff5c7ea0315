//! Versions of the texts the service runs on (the moderation policy, the monitoring notice).

use async_trait::async_trait;

use super::{AuditEvent, PolicyVersionRecord, Result};
use crate::model::PolicyKind;

/// The versioned policies: append-only, the latest of a kind is the one in force.
#[async_trait]
pub trait Policies: Send + Sync + 'static {
    /// The version in force of `kind` (the highest), if any was ever stored.
    async fn latest_policy(&self, kind: PolicyKind) -> Result<Option<PolicyVersionRecord>>;
    /// Only its number: what every node asks often, to see whether it must reload.
    async fn latest_policy_version(&self, kind: PolicyKind) -> Result<Option<i64>>;
    /// One version of `kind`.
    async fn policy_version(&self, kind: PolicyKind, version: i64) -> Result<Option<PolicyVersionRecord>>;
    /// Every version of `kind`, newest first.
    async fn policy_versions(&self, kind: PolicyKind) -> Result<Vec<PolicyVersionRecord>>;
    /// Stores a new version with its audit entry in one transaction. `false` (nothing
    /// stored) when that version number exists already: another node or admin got there
    /// first, and the caller decides again from the latest.
    async fn insert_policy_version(&self, record: &PolicyVersionRecord, audit: AuditEvent) -> Result<bool>;
}

/// The SQL of [`Policies`], the same for both databases; instantiated for each store type by
/// `impl_sql_store!` (`sql.rs`).
macro_rules! impl_policies_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::model::PolicyKind;
            use $crate::store::PolicyVersionRecord;

            const COLUMNS: &str = "kind, version, body, created_at, created_by, note";

            #[async_trait::async_trait]
            impl $crate::store::Policies for $store {
                async fn latest_policy(&self, kind: PolicyKind) -> $crate::store::Result<Option<PolicyVersionRecord>> {
                    Ok(sqlx::query_as::<_, PolicyVersionRecord>(&format!(
                        "SELECT {COLUMNS} FROM policy_versions WHERE kind = $1 ORDER BY version DESC LIMIT 1"
                    ))
                    .bind(kind.as_str())
                    .fetch_optional(self.reader())
                    .await?)
                }

                async fn latest_policy_version(&self, kind: PolicyKind) -> $crate::store::Result<Option<i64>> {
                    Ok(sqlx::query_scalar::<_, Option<i64>>("SELECT MAX(version) FROM policy_versions WHERE kind = $1")
                        .bind(kind.as_str())
                        .fetch_one(self.reader())
                        .await?)
                }

                async fn policy_version(
                    &self,
                    kind: PolicyKind,
                    version: i64,
                ) -> $crate::store::Result<Option<PolicyVersionRecord>> {
                    Ok(sqlx::query_as::<_, PolicyVersionRecord>(&format!(
                        "SELECT {COLUMNS} FROM policy_versions WHERE kind = $1 AND version = $2"
                    ))
                    .bind(kind.as_str())
                    .bind(version)
                    .fetch_optional(self.reader())
                    .await?)
                }

                async fn policy_versions(&self, kind: PolicyKind) -> $crate::store::Result<Vec<PolicyVersionRecord>> {
                    Ok(sqlx::query_as::<_, PolicyVersionRecord>(&format!(
                        "SELECT {COLUMNS} FROM policy_versions WHERE kind = $1 ORDER BY version DESC"
                    ))
                    .bind(kind.as_str())
                    .fetch_all(self.reader())
                    .await?)
                }

                async fn insert_policy_version(
                    &self,
                    r: &PolicyVersionRecord,
                    audit: AuditEvent,
                ) -> $crate::store::Result<bool> {
                    let mut tx = self.writer().begin().await?;
                    let inserted = sqlx::query(
                        "INSERT INTO policy_versions (kind, version, body, created_at, created_by, note) \
                         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (kind, version) DO NOTHING",
                    )
                    .bind(r.kind.as_str())
                    .bind(r.version)
                    .bind(&r.body)
                    .bind(r.created_at)
                    .bind(&r.created_by)
                    .bind(&r.note)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                        == 1;
                    if inserted {
                        insert_audit_rows(&mut *tx, std::slice::from_ref(&audit)).await?;
                        tx.commit().await?;
                    }
                    Ok(inserted)
                }
            }
        };
    };
}

pub(crate) use impl_policies_sql;
