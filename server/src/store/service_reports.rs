//! What the service reports are built from: the support chats and escalations of a period
//! (times and states only; no words, no names).

use async_trait::async_trait;

use super::surveys::Release;
use super::Result;

use crate::model::Severity;

/// A support chat opened in the period: when, when taken, first replied to, closed, how it
/// ended, and whose (only to count young people and tell first-time from returning).
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct ChatTimes {
    pub created_at: i64,
    pub assigned_at: Option<i64>,
    pub first_reply_at: Option<i64>,
    pub closed_at: Option<i64>,
    pub outcome: Option<String>,
    pub owner_id: Option<String>,
    /// When the owner's first support chat ever was opened.
    pub owner_first_at: Option<i64>,
}

/// An escalation raised in the period.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EscalationTimes {
    #[sqlx(try_from = "String")]
    pub severity: Severity,
    pub created_at: i64,
    pub deadline_at: i64,
    pub acknowledged_at: Option<i64>,
    pub resolved_at: Option<i64>,
}

/// A moderation item created in the period, and its decision if any.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ItemTimes {
    pub created_at: i64,
    pub decided_at: Option<i64>,
    pub decision: Option<String>,
}

/// A flagged message of a support chat sent in the period: which chat, when, and its stored
/// verdict (JSON; only its categories are read).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct FlaggedMessage {
    pub conversation_id: String,
    pub sent_at: i64,
    pub verdict: String,
}

#[async_trait]
pub trait ServiceReports: Send + Sync + 'static {
    /// Support chats opened in `[from, to)` (milliseconds).
    async fn report_chats(&self, from: i64, to: i64) -> Result<Vec<ChatTimes>>;
    /// Escalations raised in `[from, to)` (milliseconds).
    async fn report_escalations(&self, from: i64, to: i64) -> Result<Vec<EscalationTimes>>;
    /// Moderation items created in `[from, to)`.
    async fn report_moderation_items(&self, from: i64, to: i64) -> Result<Vec<ItemTimes>>;
    /// Support chats transferred in `[from, to)` (the audit log's `conversation_transferred`).
    async fn report_transfers(&self, from: i64, to: i64) -> Result<i64>;
    /// Flagged messages of support chats sent in `[from, to)`.
    async fn report_flagged(&self, from: i64, to: i64) -> Result<Vec<FlaggedMessage>>;
    /// Records a service report's release in the disclosure log (`survey_report_releases`,
    /// scope `release.scope`) unless `refuse` says yes to one of the newest `limit` earlier
    /// releases of that scope (their population and cells). One transaction under a lock on
    /// the scope, so two reports asked at once are checked one after the other. The same
    /// population twice is recorded once. `false` = refused.
    async fn service_release_checked(
        &self,
        release: &Release<'_>,
        limit: i64,
        refuse: &(dyn for<'x> Fn(&'x str, Option<&'x str>) -> bool + Send + Sync),
    ) -> Result<bool>;
}

/// The SQL of [`ServiceReports`], the same for both databases (`impl_sql_store!`).
macro_rules! impl_service_reports_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::store::service_reports::{ChatTimes, EscalationTimes, FlaggedMessage, ItemTimes};

            #[async_trait::async_trait]
            impl $crate::store::ServiceReports for $store {
                async fn report_chats(&self, from: i64, to: i64) -> $crate::store::Result<Vec<ChatTimes>> {
                    Ok(sqlx::query_as::<_, ChatTimes>(
                        "SELECT c.created_at, c.assigned_at, c.first_reply_at, c.closed_at, c.outcome, c.owner_id, \
                         (SELECT MIN(f.created_at) FROM conversations f WHERE f.kind = 'support' AND f.owner_id = c.owner_id) \
                         AS owner_first_at \
                         FROM conversations c WHERE c.kind = 'support' AND c.created_at >= $1 AND c.created_at < $2",
                    )
                    .bind(from)
                    .bind(to)
                    .fetch_all(self.reader())
                    .await?)
                }

                async fn report_escalations(&self, from: i64, to: i64) -> $crate::store::Result<Vec<EscalationTimes>> {
                    Ok(sqlx::query_as::<_, EscalationTimes>(
                        "SELECT severity, created_at, deadline_at, acknowledged_at, resolved_at FROM escalations \
                         WHERE created_at >= $1 AND created_at < $2",
                    )
                    .bind(from)
                    .bind(to)
                    .fetch_all(self.reader())
                    .await?)
                }

                async fn report_moderation_items(&self, from: i64, to: i64) -> $crate::store::Result<Vec<ItemTimes>> {
                    Ok(sqlx::query_as::<_, ItemTimes>(
                        "SELECT created_at, decided_at, decision FROM moderation_items \
                         WHERE created_at >= $1 AND created_at < $2",
                    )
                    .bind(from)
                    .bind(to)
                    .fetch_all(self.reader())
                    .await?)
                }

                async fn report_transfers(&self, from: i64, to: i64) -> $crate::store::Result<i64> {
                    let (n,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM audit_events WHERE action = 'conversation_transferred' AND at >= $1 AND at < $2",
                    )
                    .bind(from)
                    .bind(to)
                    .fetch_one(self.reader())
                    .await?;
                    Ok(n)
                }

                async fn report_flagged(&self, from: i64, to: i64) -> $crate::store::Result<Vec<FlaggedMessage>> {
                    Ok(sqlx::query_as::<_, FlaggedMessage>(
                        "SELECT m.conversation_id, m.sent_at, m.verdict FROM messages m \
                         JOIN conversations c ON c.id = m.conversation_id AND c.kind = 'support' \
                         WHERE m.severity <> 'none' AND m.sent_at >= $1 AND m.sent_at < $2 AND m.verdict IS NOT NULL",
                    )
                    .bind(from)
                    .bind(to)
                    .fetch_all(self.reader())
                    .await?)
                }

                async fn service_release_checked(
                    &self,
                    r: &$crate::store::releases::Release<'_>,
                    limit: i64,
                    refuse: &(dyn for<'x> Fn(&'x str, Option<&'x str>) -> bool + Send + Sync),
                ) -> $crate::store::Result<bool> {
                    let mut tx = self.writer().begin().await?;
                    if let Some(lock) = <$store as $crate::store::backend::Backend>::LOCK_KEY {
                        sqlx::query(lock).bind(r.scope).execute(&mut *tx).await?;
                    }
                    if !release_unless_refused(&mut *tx, r, limit, refuse).await? {
                        tx.rollback().await?;
                        return Ok(false);
                    }
                    tx.commit().await?;
                    Ok(true)
                }
            }
        };
    };
}

pub(crate) use impl_service_reports_sql;
