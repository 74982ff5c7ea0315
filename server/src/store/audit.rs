//! The audit log, and the helpers that write its entries in the transaction of the action they
//! record.

use async_trait::async_trait;

use super::{AuditEvent, Result};

/// The append-only audit log.
#[async_trait]
pub trait Audit: Send + Sync + 'static {
    async fn append_audit(&self, event: AuditEvent) -> Result<()>;
    /// Appends several audit entries in one transaction.
    async fn append_audits(&self, events: &[AuditEvent]) -> Result<()>;
    async fn audit_for_target(&self, target_type: &str, target_id: &str) -> Result<Vec<AuditEvent>>;
    async fn audit_since(&self, since: i64, limit: u32) -> Result<Vec<AuditEvent>>;
}

/// The SQL of [`Audit`], the same for both databases; instantiated for each store type by
/// `impl_sql_store!` (`sql.rs`).
macro_rules! impl_audit_sql {
    ($store:ty) => {
        const _: () = {
            #[async_trait::async_trait]
            impl $crate::store::Audit for $store {
                async fn append_audit(&self, e: AuditEvent) -> $crate::store::Result<()> {
                    let mut conn = self.writer().acquire().await?;
                    insert_audit_rows(&mut conn, std::slice::from_ref(&e)).await
                }

                async fn append_audits(&self, events: &[AuditEvent]) -> $crate::store::Result<()> {
                    let mut tx = self.writer().begin().await?;
                    insert_audit_rows(&mut tx, events).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn audit_for_target(&self, target_type: &str, target_id: &str) -> $crate::store::Result<Vec<AuditEvent>> {
                    Ok(sqlx::query_as::<_, AuditEvent>(
                        "SELECT id, at, actor_id, action, target_type, target_id, details FROM audit_events \
                         WHERE target_type = $1 AND target_id = $2 ORDER BY at, id",
                    )
                    .bind(target_type)
                    .bind(target_id)
                    .fetch_all(self.reader())
                    .await?)
                }

                async fn audit_since(&self, since: i64, limit: u32) -> $crate::store::Result<Vec<AuditEvent>> {
                    Ok(sqlx::query_as::<_, AuditEvent>(
                        "SELECT id, at, actor_id, action, target_type, target_id, details FROM audit_events \
                         WHERE at >= $1 ORDER BY at DESC, id DESC LIMIT $2",
                    )
                    .bind(since)
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?)
                }
            }
        };

        /// Commits a step that changes one row (`changed`, as `RETURNING` gave it), with its
        /// audit entry if the step happened: a step that did not happen leaves no entry.
        async fn commit_step<T>(
            tx: sqlx::Transaction<'_, <$store as $crate::store::backend::Backend>::Db>,
            changed: Option<T>,
            audit: &AuditEvent,
        ) -> $crate::store::Result<Option<T>> {
            let audits = if changed.is_some() { std::slice::from_ref(audit) } else { &[] };
            commit_with_audits(tx, audits).await?;
            Ok(changed)
        }

        /// Commits a change with its audit entries, written in its transaction.
        async fn commit_with_audits(
            mut tx: sqlx::Transaction<'_, <$store as $crate::store::backend::Backend>::Db>,
            audits: &[AuditEvent],
        ) -> $crate::store::Result<()> {
            insert_audit_rows(&mut *tx, audits).await?;
            tx.commit().await?;
            Ok(())
        }

        /// Audit entries, inside the transaction of the action they record where there is
        /// one; up to 64 rows a statement.
        async fn insert_audit_rows(conn: &mut Conn, events: &[AuditEvent]) -> $crate::store::Result<()> {
            use $crate::store::{backend::Backend, batch_plan::pow2_chunks};
            let p = <$store as Backend>::param;
            for part in pow2_chunks(events, 64) {
                let values = $crate::store::batch_plan::row_placeholders(part.len(), 7, p);
                let sql =
                    format!("INSERT INTO audit_events (id, at, actor_id, action, target_type, target_id, details) VALUES {values}");
                let mut q = sqlx::query(&sql);
                for e in part {
                    q = q.bind(&e.id).bind(e.at).bind(&e.actor_id).bind(e.action.as_str()).bind(e.target_type.as_str()).bind(&e.target_id).bind(&e.details);
                }
                q.execute(&mut *conn).await?;
            }
            Ok(())
        }
    };
}

pub(crate) use impl_audit_sql;
