//! Staff marks on moderation verdicts, and the marked messages as an evaluation set.

use async_trait::async_trait;

use super::{MarkedMessage, Result, VerdictMarkRecord};

#[async_trait]
pub trait VerdictMarks: Send + Sync + 'static {
    /// Stores a mark; the same member of staff marking the same message again replaces their
    /// earlier mark. Returns the mark as stored.
    async fn put_verdict_mark(&self, mark: &VerdictMarkRecord) -> Result<VerdictMarkRecord>;
    /// Every mark whose message is still kept (with its text and where it was said), oldest
    /// first. Erased messages (no verdict any more) are left out.
    async fn marked_messages(&self) -> Result<Vec<MarkedMessage>>;
}

/// The SQL of [`VerdictMarks`], the same for both databases; instantiated for each store type
/// by `impl_sql_store!` (`sql.rs`).
macro_rules! impl_verdict_marks_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::store::{MarkedMessage, VerdictMarkRecord};

            #[async_trait::async_trait]
            impl $crate::store::VerdictMarks for $store {
                async fn put_verdict_mark(&self, m: &VerdictMarkRecord) -> $crate::store::Result<VerdictMarkRecord> {
                    Ok(sqlx::query_as::<_, VerdictMarkRecord>(
                        "INSERT INTO verdict_marks (id, message_id, marked_by, marked_at, kind, category, severity) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) \
                         ON CONFLICT (message_id, marked_by) DO UPDATE SET marked_at = excluded.marked_at, \
                         kind = excluded.kind, category = excluded.category, severity = excluded.severity \
                         RETURNING id, message_id, marked_by, marked_at, kind, category, severity",
                    )
                    .bind(&m.id)
                    .bind(&m.message_id)
                    .bind(&m.marked_by)
                    .bind(m.marked_at)
                    .bind(m.kind.as_str())
                    .bind(&m.category)
                    .bind(m.severity.as_str())
                    .fetch_one(self.writer())
                    .await?)
                }

                async fn marked_messages(&self) -> $crate::store::Result<Vec<MarkedMessage>> {
                    Ok(sqlx::query_as::<_, MarkedMessage>(
                        "SELECT k.id, k.message_id, k.marked_at, k.kind, k.category, k.severity, m.body, c.kind AS conversation_kind \
                         FROM verdict_marks k JOIN messages m ON m.id = k.message_id \
                         JOIN conversations c ON c.id = m.conversation_id \
                         WHERE m.verdict IS NOT NULL ORDER BY k.marked_at, k.id",
                    )
                    .fetch_all(self.reader())
                    .await?)
                }
            }
        };
    };
}

pub(crate) use impl_verdict_marks_sql;
