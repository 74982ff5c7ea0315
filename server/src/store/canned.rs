//! Canned replies: the texts the YOT admin keeps for staff to put into chats.

use async_trait::async_trait;

use super::{AuditEvent, CannedReplyRecord, Result};

pub(crate) const CANNED_COLUMNS: &str = "id, title, body, created_by, created_at, updated_at";

/// Canned replies.
#[async_trait]
pub trait CannedReplies: Send + Sync + 'static {
    /// Adds one, with `audit` in the same transaction; a title already used is a conflict.
    async fn create_canned_reply(&self, r: &CannedReplyRecord, audit: AuditEvent) -> Result<()>;
    /// Replaces its title and body, with `audit`; `false` (and no entry) if there is none.
    async fn update_canned_reply(&self, r: &CannedReplyRecord, audit: AuditEvent) -> Result<bool>;
    /// Deletes it, with `audit`; `false` (and no entry) if there is none.
    async fn delete_canned_reply(&self, id: &str, audit: AuditEvent) -> Result<bool>;
    async fn canned_reply(&self, id: &str) -> Result<Option<CannedReplyRecord>>;
    /// Every one, by title.
    async fn canned_replies(&self) -> Result<Vec<CannedReplyRecord>>;
}

/// The SQL of [`CannedReplies`], the same for both databases; instantiated for each store type
/// by `impl_sql_store!` (`sql.rs`).
macro_rules! impl_canned_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::store::canned::CANNED_COLUMNS;
            use $crate::store::CannedReplyRecord;

            /// A title already in use is the admin's to change, not a server failure.
            fn title_taken<T>(res: std::result::Result<T, sqlx::Error>) -> $crate::store::Result<T> {
                match res {
                    Ok(v) => Ok(v),
                    Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                        Err(StoreError::Conflict("a canned reply with that title already exists"))
                    }
                    Err(e) => Err(e.into()),
                }
            }

            #[async_trait::async_trait]
            impl $crate::store::CannedReplies for $store {
                async fn create_canned_reply(
                    &self,
                    r: &CannedReplyRecord,
                    audit: AuditEvent,
                ) -> $crate::store::Result<()> {
                    let mut tx = self.writer().begin().await?;
                    title_taken(
                        sqlx::query(
                            "INSERT INTO canned_replies (id, title, body, created_by, created_at, updated_at) \
                             VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(&r.id)
                        .bind(&r.title)
                        .bind(&r.body)
                        .bind(&r.created_by)
                        .bind(r.created_at)
                        .bind(r.updated_at)
                        .execute(&mut *tx)
                        .await,
                    )?;
                    commit_step(tx, Some(()), &audit).await.map(|_| ())
                }

                async fn update_canned_reply(
                    &self,
                    r: &CannedReplyRecord,
                    audit: AuditEvent,
                ) -> $crate::store::Result<bool> {
                    let mut tx = self.writer().begin().await?;
                    let done = title_taken(
                        sqlx::query("UPDATE canned_replies SET title = $2, body = $3, updated_at = $4 WHERE id = $1")
                            .bind(&r.id)
                            .bind(&r.title)
                            .bind(&r.body)
                            .bind(r.updated_at)
                            .execute(&mut *tx)
                            .await,
                    )?;
                    Ok(commit_step(tx, (done.rows_affected() == 1).then_some(()), &audit).await?.is_some())
                }

                async fn delete_canned_reply(&self, id: &str, audit: AuditEvent) -> $crate::store::Result<bool> {
                    let mut tx = self.writer().begin().await?;
                    let done =
                        sqlx::query("DELETE FROM canned_replies WHERE id = $1").bind(id).execute(&mut *tx).await?;
                    Ok(commit_step(tx, (done.rows_affected() == 1).then_some(()), &audit).await?.is_some())
                }

                async fn canned_reply(&self, id: &str) -> $crate::store::Result<Option<CannedReplyRecord>> {
                    Ok(sqlx::query_as(&format!("SELECT {CANNED_COLUMNS} FROM canned_replies WHERE id = $1"))
                        .bind(id)
                        .fetch_optional(self.reader())
                        .await?)
                }

                async fn canned_replies(&self) -> $crate::store::Result<Vec<CannedReplyRecord>> {
                    Ok(sqlx::query_as(&format!("SELECT {CANNED_COLUMNS} FROM canned_replies ORDER BY title, id"))
                        .fetch_all(self.reader())
                        .await?)
                }
            }
        };
    };
}

pub(crate) use impl_canned_sql;
