//! Push subscriptions (one per device) and the per-chat window that keeps notifications to one
//! in a short time.

use async_trait::async_trait;

use super::{PushSubscriptionRecord, Result};

/// Push subscriptions and notification windows.
#[async_trait]
pub trait Push: Send + Sync + 'static {
    /// Stores a subscription; if the user has one for the same kind and address already, that
    /// one is returned instead and `false` (nothing is written).
    async fn create_push_subscription(&self, s: &PushSubscriptionRecord) -> Result<(PushSubscriptionRecord, bool)>;
    /// The user's subscriptions, oldest first. Those registered by a session that has since
    /// signed out are removed first, so they are never used.
    async fn push_subscriptions(&self, user_id: &str) -> Result<Vec<PushSubscriptionRecord>>;
    /// Removes one of the user's subscriptions; `false` if they have none with that id.
    async fn delete_push_subscription(&self, user_id: &str, id: &str) -> Result<bool>;
    /// Removes a subscription the push service says is gone (by id alone).
    async fn forget_push_subscription(&self, id: &str) -> Result<()>;
    /// Removes the subscriptions a session registered (it signed out).
    async fn delete_push_subscriptions_of_session(&self, session_id: &str) -> Result<u64>;
    async fn mark_push_success(&self, id: &str, now: i64) -> Result<()>;
    /// Claims the chat's notification window: `true` (and the window starts `now`) when no
    /// notification was sent for it since `since`; `false` otherwise. Atomic across nodes.
    async fn claim_push_window(&self, conversation_id: &str, since: i64, now: i64) -> Result<bool>;
}

/// The SQL of [`Push`], the same for both databases; instantiated for each store type by
/// `impl_sql_store!` (`sql.rs`).
macro_rules! impl_push_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::store::PushSubscriptionRecord;

            const COLUMNS: &str =
                "id, user_id, session_id, kind, address, p256dh, auth_secret, device_label, created_at, last_success_at";

            #[async_trait::async_trait]
            impl $crate::store::Push for $store {
                async fn create_push_subscription(
                    &self,
                    s: &PushSubscriptionRecord,
                ) -> $crate::store::Result<(PushSubscriptionRecord, bool)> {
                    let inserted = sqlx::query(
                        "INSERT INTO push_subscriptions (id, user_id, session_id, kind, address, p256dh, auth_secret, \
                         device_label, created_at, last_success_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                         ON CONFLICT (user_id, kind, address) DO NOTHING",
                    )
                    .bind(&s.id)
                    .bind(&s.user_id)
                    .bind(&s.session_id)
                    .bind(&s.kind)
                    .bind(&s.address)
                    .bind(&s.p256dh)
                    .bind(&s.auth_secret)
                    .bind(&s.device_label)
                    .bind(s.created_at)
                    .bind(s.last_success_at)
                    .execute(self.writer())
                    .await?
                    .rows_affected()
                        == 1;
                    if inserted {
                        return Ok((s.clone(), true));
                    }
                    let existing: PushSubscriptionRecord = sqlx::query_as(&format!(
                        "SELECT {COLUMNS} FROM push_subscriptions WHERE user_id = $1 AND kind = $2 AND address = $3"
                    ))
                    .bind(&s.user_id)
                    .bind(&s.kind)
                    .bind(&s.address)
                    .fetch_one(self.writer())
                    .await?;
                    Ok((existing, false))
                }

                async fn push_subscriptions(&self, user_id: &str) -> $crate::store::Result<Vec<PushSubscriptionRecord>> {
                    sqlx::query(
                        "DELETE FROM push_subscriptions WHERE user_id = $1 AND session_id IN \
                         (SELECT id FROM refresh_families WHERE user_id = $1 AND revoked_at IS NOT NULL)",
                    )
                    .bind(user_id)
                    .execute(self.writer())
                    .await?;
                    Ok(sqlx::query_as(&format!(
                        "SELECT {COLUMNS} FROM push_subscriptions WHERE user_id = $1 ORDER BY created_at, id"
                    ))
                    .bind(user_id)
                    .fetch_all(self.writer())
                    .await?)
                }

                async fn delete_push_subscription(&self, user_id: &str, id: &str) -> $crate::store::Result<bool> {
                    let done = sqlx::query("DELETE FROM push_subscriptions WHERE id = $1 AND user_id = $2")
                        .bind(id)
                        .bind(user_id)
                        .execute(self.writer())
                        .await?;
                    Ok(done.rows_affected() == 1)
                }

                async fn forget_push_subscription(&self, id: &str) -> $crate::store::Result<()> {
                    sqlx::query("DELETE FROM push_subscriptions WHERE id = $1").bind(id).execute(self.writer()).await?;
                    Ok(())
                }

                async fn delete_push_subscriptions_of_session(&self, session_id: &str) -> $crate::store::Result<u64> {
                    let done = sqlx::query("DELETE FROM push_subscriptions WHERE session_id = $1")
                        .bind(session_id)
                        .execute(self.writer())
                        .await?;
                    Ok(done.rows_affected())
                }

                async fn mark_push_success(&self, id: &str, now: i64) -> $crate::store::Result<()> {
                    sqlx::query("UPDATE push_subscriptions SET last_success_at = $2 WHERE id = $1")
                        .bind(id)
                        .bind(now)
                        .execute(self.writer())
                        .await?;
                    Ok(())
                }

                async fn claim_push_window(
                    &self,
                    conversation_id: &str,
                    since: i64,
                    now: i64,
                ) -> $crate::store::Result<bool> {
                    // One statement: two nodes racing for the same chat cannot both win.
                    let row: Option<(String,)> = sqlx::query_as(
                        "INSERT INTO push_windows (conversation_id, last_sent_at) VALUES ($1, $3) \
                         ON CONFLICT (conversation_id) DO UPDATE SET last_sent_at = $3 \
                         WHERE push_windows.last_sent_at <= $2 RETURNING conversation_id",
                    )
                    .bind(conversation_id)
                    .bind(since)
                    .bind(now)
                    .fetch_optional(self.writer())
                    .await?;
                    Ok(row.is_some())
                }
            }
        };
    };
}

pub(crate) use impl_push_sql;
