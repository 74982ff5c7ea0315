//! What the service reports are built from: the support chats and escalations of a period
//! (times and states only; no words, no names).

use async_trait::async_trait;

use super::surveys::Release;
use super::Result;

/// A support chat opened in the period: when, when taken, when closed.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ChatTimes {
    pub created_at: i64,
    pub assigned_at: Option<i64>,
    pub closed_at: Option<i64>,
}

/// An escalation raised in the period.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct EscalationTimes {
    pub severity: String,
    pub created_at: i64,
    pub deadline_at: i64,
    pub acknowledged_at: Option<i64>,
}

#[async_trait]
pub trait ServiceReports: Send + Sync + 'static {
    /// Support chats opened in `[from, to)` (milliseconds).
    async fn report_chats(&self, from: i64, to: i64) -> Result<Vec<ChatTimes>>;
    /// Escalations raised in `[from, to)` (milliseconds).
    async fn report_escalations(&self, from: i64, to: i64) -> Result<Vec<EscalationTimes>>;
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
            use $crate::store::service_reports::{ChatTimes, EscalationTimes};

            #[async_trait::async_trait]
            impl $crate::store::ServiceReports for $store {
                async fn report_chats(&self, from: i64, to: i64) -> $crate::store::Result<Vec<ChatTimes>> {
                    Ok(sqlx::query_as::<_, ChatTimes>(
                        "SELECT created_at, assigned_at, closed_at FROM conversations \
                         WHERE kind = 'support' AND created_at >= $1 AND created_at < $2",
                    )
                    .bind(from)
                    .bind(to)
                    .fetch_all(self.reader())
                    .await?)
                }

                async fn report_escalations(&self, from: i64, to: i64) -> $crate::store::Result<Vec<EscalationTimes>> {
                    Ok(sqlx::query_as::<_, EscalationTimes>(
                        "SELECT severity, created_at, deadline_at, acknowledged_at FROM escalations \
                         WHERE created_at >= $1 AND created_at < $2",
                    )
                    .bind(from)
                    .bind(to)
                    .fetch_all(self.reader())
                    .await?)
                }

                async fn service_release_checked(
                    &self,
                    r: &$crate::store::surveys::Release<'_>,
                    limit: i64,
                    refuse: &(dyn for<'x> Fn(&'x str, Option<&'x str>) -> bool + Send + Sync),
                ) -> $crate::store::Result<bool> {
                    let mut tx = self.writer().begin().await?;
                    if let Some(lock) = <$store as $crate::store::backend::Backend>::LOCK_KEY {
                        sqlx::query(lock).bind(r.scope).execute(&mut *tx).await?;
                    }
                    let rows: Vec<(String, Option<String>)> = sqlx::query_as(
                        "SELECT population, cells FROM survey_report_releases WHERE scope = $1 \
                         ORDER BY released_at DESC, id LIMIT $2",
                    )
                    .bind(r.scope)
                    .bind(limit)
                    .fetch_all(&mut *tx)
                    .await?;
                    if rows.iter().any(|(p, c)| refuse(p, c.as_deref())) {
                        tx.rollback().await?;
                        return Ok(false);
                    }
                    sqlx::query(
                        "INSERT INTO survey_report_releases (id, scope, population, digest, released_by, released_at, cells) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (scope, digest) DO NOTHING",
                    )
                    .bind($crate::ids::random_id())
                    .bind(r.scope)
                    .bind(r.population)
                    .bind(r.digest)
                    .bind(r.by)
                    .bind(r.now)
                    .bind(r.cells)
                    .execute(&mut *tx)
                    .await?;
                    tx.commit().await?;
                    Ok(true)
                }
            }
        };
    };
}

pub(crate) use impl_service_reports_sql;
