//! Privacy: safeguarding holds, export and erasure, retention, the monitoring notice.

use async_trait::async_trait;

use super::{AuditEvent, AutoHold, Erasure, HoldReleased, MessageRecord, Result};

/// Safeguarding holds, a user's export and erasure, retention, and the monitoring notice.
#[async_trait]
pub trait Privacy: Send + Sync + 'static {
    /// Places (`Some(reason)`) or lifts (`None`) a safeguarding hold, with `audit` in the same
    /// transaction; `false` (and no entry) if there is no such conversation.
    async fn set_hold(
        &self,
        conversation_id: &str,
        hold: Option<(&str, &str)>,
        now: i64,
        audit: AuditEvent,
    ) -> Result<bool>;
    /// Lifts the hold on a conversation, with `audit`. If its young person asked for their
    /// account to be deleted meanwhile, the deletion finishes now: the conversation goes (with
    /// its messages, notes, escalations and feedback), and the account too when nothing else of
    /// theirs is held, with the entry `finished` makes, all in the same transaction. A hold whose
    /// lifting would delete an escalation nobody has resolved stays.
    async fn release_hold(
        &self,
        conversation_id: &str,
        audit: AuditEvent,
        finished: &(dyn for<'k> Fn(&'k HoldReleased) -> AuditEvent + Sync),
    ) -> Result<HoldReleased>;
    /// Everything about one user that belongs in their own export.
    async fn messages_sent_by(&self, user_id: &str) -> Result<Vec<MessageRecord>>;
    /// Erases a user: support chats with an escalation nobody has resolved are first put under
    /// a hold placed automatically ([`AutoHold`]); support chats not under a hold are deleted
    /// with their messages; their messages elsewhere are blanked (so others' history keeps its
    /// `seq`); the account goes, or, while something of theirs is held, stays unable to sign
    /// in, marked as to be deleted when the last hold is lifted. The audit entries `audit`
    /// makes of what was kept are written in the same transaction.
    // `for<'k>` written out: async_trait would give an elided lifetime here one fixed name.
    async fn erase_user(
        &self,
        user_id: &str,
        now: i64,
        auto_hold: &AutoHold,
        audit: &(dyn for<'k> Fn(&'k Erasure) -> Vec<AuditEvent> + Sync),
    ) -> Result<Erasure>;
    /// Deletes closed support chats (and their messages) closed before `closed_before` and
    /// not under a hold, and audit entries older than `audit_before`; returns how many chats.
    // `Surveys` has an `apply_retention` too: on a `dyn Store`, name the trait in the call.
    async fn apply_retention(&self, closed_before: i64, audit_before: i64) -> Result<u64>;

    /// Records that a user acknowledged a version of the monitoring notice; the first time
    /// counts (acknowledging again keeps it), and only the first writes `audit`, in the same
    /// transaction. Returns when it was first acknowledged.
    async fn acknowledge_notice(&self, user_id: &str, version: i64, now: i64, audit: AuditEvent) -> Result<i64>;
    /// When the user acknowledged this version of the monitoring notice, if they have.
    async fn notice_acknowledged_at(&self, user_id: &str, version: i64) -> Result<Option<i64>>;
    /// Every version of the monitoring notice the user acknowledged, and when (oldest first).
    async fn notice_acknowledgements(&self, user_id: &str) -> Result<Vec<(i64, i64)>>;
}

/// The SQL of [`Privacy`], the same for both databases; instantiated for each store type by
/// `impl_sql_store!` (`sql.rs`).
macro_rules! impl_privacy_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::store::messages::MESSAGE_COLUMNS;

            #[async_trait::async_trait]
            impl $crate::store::Privacy for $store {
                async fn set_hold(&self, conversation_id: &str, hold: Option<(&str, &str)>, now: i64, audit: AuditEvent) -> $crate::store::Result<bool> {
                    let (reason, by) = match hold {
                        Some((r, b)) => (Some(r), Some(b)),
                        None => (None, None),
                    };
                    let mut tx = self.writer().begin().await?;
                    let n = sqlx::query("UPDATE conversations SET hold_reason = $2, hold_by = $3, hold_at = $4 WHERE id = $1")
                        .bind(conversation_id)
                        .bind(reason)
                        .bind(by)
                        .bind(hold.map(|_| now))
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    Ok(commit_step(tx, (n == 1).then_some(()), &audit).await?.is_some())
                }

                async fn messages_sent_by(&self, user_id: &str) -> $crate::store::Result<Vec<MessageRecord>> {
                    let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE sender_id = $1 ORDER BY sent_at, id LIMIT 100000");
                    Ok(sqlx::query_as::<_, MessageRecord>(&sql).bind(user_id).fetch_all(self.reader()).await?)
                }

                async fn release_hold(
                    &self,
                    conversation_id: &str,
                    audit: AuditEvent,
                    finished: &(dyn for<'k> Fn(&'k HoldReleased) -> AuditEvent + Sync),
                ) -> $crate::store::Result<HoldReleased> {
                    let mut tx = self.writer().begin().await?;
                    let conv: Option<(Option<String>, String)> = sqlx::query_as(&format!(
                        "SELECT owner_id, kind FROM conversations WHERE id = $1{}",
                        <$store as $crate::store::backend::Backend>::LOCK_ROWS
                    ))
                    .bind(conversation_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some((owner, kind)) = conv else {
                        tx.rollback().await?;
                        return Ok(HoldReleased::NotFound);
                    };
                    let erasing: Option<(Option<i64>,)> = match &owner {
                        Some(o) => sqlx::query_as("SELECT erasure_requested_at FROM users WHERE id = $1")
                            .bind(o)
                            .fetch_optional(&mut *tx)
                            .await?,
                        None => None,
                    };
                    let erasing = kind == "support" && erasing.is_some_and(|(at,)| at.is_some());
                    if erasing {
                        let (unresolved,): (i64,) = sqlx::query_as(
                            "SELECT COUNT(*) FROM escalations WHERE conversation_id = $1 AND state <> 'resolved'",
                        )
                        .bind(conversation_id)
                        .fetch_one(&mut *tx)
                        .await?;
                        if unresolved > 0 {
                            tx.rollback().await?;
                            return Ok(HoldReleased::EscalationUnresolved);
                        }
                    }
                    sqlx::query("UPDATE conversations SET hold_reason = NULL, hold_by = NULL, hold_at = NULL WHERE id = $1")
                        .bind(conversation_id)
                        .execute(&mut *tx)
                        .await?;
                    let mut outcome = HoldReleased::Lifted { conversation_deleted: false, account_deleted: false };
                    if let (true, Some(owner)) = (erasing, &owner) {
                        sqlx::query("DELETE FROM conversations WHERE id = $1").bind(conversation_id).execute(&mut *tx).await?;
                        let (still_held,): (i64,) = sqlx::query_as(
                            "SELECT COUNT(*) FROM conversations WHERE owner_id = $1 AND hold_reason IS NOT NULL",
                        )
                        .bind(owner)
                        .fetch_one(&mut *tx)
                        .await?;
                        if still_held == 0 {
                            sqlx::query("DELETE FROM users WHERE id = $1").bind(owner).execute(&mut *tx).await?;
                        }
                        outcome = HoldReleased::Lifted { conversation_deleted: true, account_deleted: still_held == 0 };
                    }
                    let mut entries = vec![audit];
                    if matches!(outcome, HoldReleased::Lifted { conversation_deleted: true, .. }) {
                        entries.push(finished(&outcome));
                    }
                    insert_audit_rows(&mut tx, &entries).await?;
                    tx.commit().await?;
                    Ok(outcome)
                }

                async fn erase_user(
                    &self,
                    user_id: &str,
                    now: i64,
                    auto_hold: &AutoHold,
                    audit: &(dyn for<'k> Fn(&'k Erasure) -> Vec<AuditEvent> + Sync),
                ) -> $crate::store::Result<Erasure> {
                    let mut tx = self.writer().begin().await?;
                    // An escalation nobody has resolved outlives the account: whoever holds the
                    // phone must not be able to wipe an unhandled concern.
                    let unresolved: Vec<(String, String)> = sqlx::query_as(
                        "SELECT e.id, e.conversation_id FROM escalations e JOIN conversations c ON c.id = e.conversation_id \
                         WHERE c.owner_id = $1 AND c.kind = 'support' AND e.state <> 'resolved' ORDER BY e.created_at, e.id",
                    )
                    .bind(user_id)
                    .fetch_all(&mut *tx)
                    .await?;
                    let mut auto_held = Vec::new();
                    for (escalation_id, conversation_id) in &unresolved {
                        let placed = sqlx::query(
                            "UPDATE conversations SET hold_reason = $2, hold_by = NULL, hold_at = $3 WHERE id = $1 AND hold_reason IS NULL",
                        )
                        .bind(conversation_id)
                        .bind(&auto_hold.hold_reason)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                        if placed == 1 {
                            auto_held.push(conversation_id.clone());
                        }
                        sqlx::query(
                            "INSERT INTO escalation_actions (id, escalation_id, at, actor_id, action, note) VALUES ($1, $2, $3, $4, $5, $6)",
                        )
                        .bind(crate::ids::random_id())
                        .bind(escalation_id)
                        .bind(now)
                        .bind(user_id)
                        .bind(&auto_hold.action)
                        .bind(&auto_hold.note)
                        .execute(&mut *tx)
                        .await?;
                    }
                    let escalations: Vec<String> = unresolved.into_iter().map(|(e, _)| e).collect();
                    let held: Vec<(String,)> = sqlx::query_as(
                        "SELECT id FROM conversations WHERE owner_id = $1 AND hold_reason IS NOT NULL ORDER BY created_at, id",
                    )
                    .bind(user_id)
                    .fetch_all(&mut *tx)
                    .await?;
                    // Chats under a hold are kept whole; the account is then kept too, as their owner,
                    // but without anything that could sign in.
                    sqlx::query("DELETE FROM conversations WHERE owner_id = $1 AND kind = 'support' AND hold_reason IS NULL")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "UPDATE messages SET body = '[deleted]', original_body = NULL, verdict = NULL, sender_name = 'Former member', \
                         client_msg_id = NULL WHERE sender_id = $1 AND conversation_id NOT IN \
                         (SELECT id FROM conversations WHERE hold_reason IS NOT NULL)",
                    )
                    .bind(user_id)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query("DELETE FROM moderation_items WHERE subject_user_id = $1 OR reporter_id = $1")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM participants WHERE user_id = $1 AND conversation_id NOT IN \
                         (SELECT id FROM conversations WHERE hold_reason IS NOT NULL)")
                        .bind(user_id)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query("DELETE FROM refresh_families WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM ws_tickets WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM read_markers WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM monitoring_notice_acks WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                    // Every way back in goes with the account, even one a hold keeps.
                    sqlx::query("DELETE FROM device_credentials WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                    sqlx::query("DELETE FROM recovery_phrases WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                    // Nothing is ever sent to a device of an erased account.
                    sqlx::query("DELETE FROM push_subscriptions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                    if held.is_empty() {
                        sqlx::query("DELETE FROM users WHERE id = $1").bind(user_id).execute(&mut *tx).await?;
                    } else {
                        sqlx::query("UPDATE users SET display_name = 'Former member', username = NULL, password_hash = NULL, \
                             suspended_at = $2, erasure_requested_at = $2 WHERE id = $1")
                            .bind(user_id)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    }
                    let erasure = Erasure { kept: held.into_iter().map(|h| h.0).collect(), auto_held, escalations };
                    insert_audit_rows(&mut tx, &audit(&erasure)).await?;
                    tx.commit().await?;
                    Ok(erasure)
                }

                async fn apply_retention(&self, closed_before: i64, audit_before: i64) -> $crate::store::Result<u64> {
                    let n = sqlx::query(
                        "DELETE FROM conversations WHERE kind = 'support' AND state = 'closed' AND closed_at < $1 AND hold_reason IS NULL",
                    )
                    .bind(closed_before)
                    .execute(self.writer())
                    .await?
                    .rows_affected();
                    sqlx::query("DELETE FROM audit_events WHERE at < $1").bind(audit_before).execute(self.writer()).await?;
                    sqlx::query("DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < $1")
                        .bind(closed_before)
                        .execute(self.writer())
                        .await?;
                    Ok(n)
                }

                async fn acknowledge_notice(&self, user_id: &str, version: i64, now: i64, audit: AuditEvent) -> $crate::store::Result<i64> {
                    let mut tx = self.writer().begin().await?;
                    // The no-op update makes RETURNING give the first acknowledgement's time.
                    let (at,): (i64,) = sqlx::query_as(
                        "INSERT INTO monitoring_notice_acks (user_id, version, acknowledged_at) VALUES ($1, $2, $3) \
                         ON CONFLICT (user_id, version) DO UPDATE SET acknowledged_at = monitoring_notice_acks.acknowledged_at \
                         RETURNING acknowledged_at",
                    )
                    .bind(user_id)
                    .bind(version)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    // Acknowledged just now: the first time.
                    commit_step(tx, (at == now).then_some(()), &audit).await?;
                    Ok(at)
                }

                async fn notice_acknowledged_at(&self, user_id: &str, version: i64) -> $crate::store::Result<Option<i64>> {
                    let row: Option<(i64,)> = sqlx::query_as(
                        "SELECT acknowledged_at FROM monitoring_notice_acks WHERE user_id = $1 AND version = $2",
                    )
                    .bind(user_id)
                    .bind(version)
                    .fetch_optional(self.reader())
                    .await?;
                    Ok(row.map(|(at,)| at))
                }

                async fn notice_acknowledgements(&self, user_id: &str) -> $crate::store::Result<Vec<(i64, i64)>> {
                    Ok(sqlx::query_as(
                        "SELECT version, acknowledged_at FROM monitoring_notice_acks WHERE user_id = $1 ORDER BY version",
                    )
                    .bind(user_id)
                    .fetch_all(self.reader())
                    .await?)
                }
            }
        };
    };
}

pub(crate) use impl_privacy_sql;
