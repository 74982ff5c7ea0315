//! What the service reports are built from: the support chats and escalations of a period
//! (times and states only; no words, no names).

use async_trait::async_trait;

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
            }
        };
    };
}

pub(crate) use impl_service_reports_sql;
