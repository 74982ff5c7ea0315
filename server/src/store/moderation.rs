//! Moderation: the queue of held messages and reports, decisions, appeals, and the log.

use async_trait::async_trait;

use super::{DecideOutcome, ItemDecision, ModLogRecord, ModerationItemRecord, NewModerationItem, Result};

pub(crate) const ITEM_COLUMNS: &str = "id, kind, conversation_id, message_id, subject_user_id, reporter_id, reason, \
    severity, evidence, state, claimed_by, claim_expires_at, decision, decision_reason, decided_by, decided_at, \
    appeal_state, appeal_reason, created_at";

/// The moderation queue (held messages, reports, appeals) and the moderation log.
#[async_trait]
pub trait Moderation: Send + Sync + 'static {
    async fn create_moderation_item(&self, item: NewModerationItem) -> Result<ModerationItemRecord>;
    /// An open report of this message (by anyone), or (`message_id` `None`) of this user by
    /// this reporter: what reporting it again returns instead of a second item.
    async fn open_report(
        &self,
        message_id: Option<&str>,
        subject_user_id: Option<&str>,
        reporter_id: &str,
    ) -> Result<Option<ModerationItemRecord>>;
    async fn moderation_item(&self, id: &str) -> Result<Option<ModerationItemRecord>>;
    /// Open items and requested appeals, most severe first, then oldest.
    async fn moderation_queue(&self) -> Result<Vec<ModerationItemRecord>>;
    /// Claims an item unless someone else holds an unexpired claim. `false` = refused.
    async fn claim_item(&self, id: &str, moderator_id: &str, now: i64, expires_at: i64) -> Result<bool>;
    /// Decides an open item (or a requested appeal when `appeal` is set), applying the decision
    /// to its message in the same transaction, with a log entry.
    async fn decide_item(
        &self,
        id: &str,
        moderator_id: &str,
        decision: ItemDecision,
        reason: &str,
        appeal: bool,
        now: i64,
    ) -> Result<DecideOutcome>;
    /// Records an appeal on a decided item, once. `false` when not allowed (not decided, or
    /// already appealed).
    async fn request_appeal(&self, id: &str, reason: &str, now: i64) -> Result<bool>;

    async fn append_modlog(&self, entry: ModLogRecord) -> Result<()>;
    async fn modlog(&self, limit: u32) -> Result<Vec<ModLogRecord>>;
}

/// The SQL of [`Moderation`], the same for both databases; instantiated for each store type by
/// `impl_sql_store!` (`sql.rs`).
macro_rules! impl_moderation_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::store::messages::MESSAGE_COLUMNS;
            use $crate::store::moderation::ITEM_COLUMNS;

            #[async_trait::async_trait]
            impl $crate::store::Moderation for $store {
                async fn create_moderation_item(&self, item: NewModerationItem) -> $crate::store::Result<ModerationItemRecord> {
                    insert_item_row(self.writer(), &item).await?;
                    let sql = format!("SELECT {ITEM_COLUMNS} FROM moderation_items WHERE id = $1");
                    Ok(sqlx::query_as::<_, ModerationItemRecord>(&sql).bind(&item.id).fetch_one(self.writer()).await?)
                }

                async fn open_report(
                    &self,
                    message_id: Option<&str>,
                    subject_user_id: Option<&str>,
                    reporter_id: &str,
                ) -> $crate::store::Result<Option<ModerationItemRecord>> {
                    let sql = format!(
                        "SELECT {ITEM_COLUMNS} FROM moderation_items WHERE kind = 'report' AND state = 'open' AND \
                         (message_id = $1 OR ($1 IS NULL AND message_id IS NULL AND subject_user_id = $2 AND reporter_id = $3)) \
                         ORDER BY created_at, id LIMIT 1"
                    );
                    Ok(sqlx::query_as::<_, ModerationItemRecord>(&sql)
                        .bind(message_id)
                        .bind(subject_user_id)
                        .bind(reporter_id)
                        .fetch_optional(self.writer())
                        .await?)
                }

                async fn moderation_item(&self, id: &str) -> $crate::store::Result<Option<ModerationItemRecord>> {
                    let sql = format!("SELECT {ITEM_COLUMNS} FROM moderation_items WHERE id = $1");
                    Ok(sqlx::query_as::<_, ModerationItemRecord>(&sql).bind(id).fetch_optional(self.reader()).await?)
                }

                async fn moderation_queue(&self) -> $crate::store::Result<Vec<ModerationItemRecord>> {
                    let sql = format!(
                        "SELECT {ITEM_COLUMNS} FROM moderation_items WHERE state = 'open' OR appeal_state = 'requested' \
                         ORDER BY severity_rank DESC, created_at ASC, id ASC LIMIT 1000"
                    );
                    Ok(sqlx::query_as::<_, ModerationItemRecord>(&sql).fetch_all(self.reader()).await?)
                }

                async fn claim_item(&self, id: &str, moderator_id: &str, now: i64, expires_at: i64) -> $crate::store::Result<bool> {
                    let n = sqlx::query(
                        "UPDATE moderation_items SET claimed_by = $2, claim_expires_at = $4 \
                         WHERE id = $1 AND (state = 'open' OR appeal_state = 'requested') \
                         AND (claimed_by IS NULL OR claimed_by = $2 OR claim_expires_at <= $3)",
                    )
                    .bind(id)
                    .bind(moderator_id)
                    .bind(now)
                    .bind(expires_at)
                    .execute(self.writer())
                    .await?
                    .rows_affected();
                    Ok(n == 1)
                }

                async fn decide_item(
                    &self,
                    id: &str,
                    moderator_id: &str,
                    decision: ItemDecision,
                    reason: &str,
                    appeal: bool,
                    now: i64,
                ) -> $crate::store::Result<DecideOutcome> {
                    let mut tx = self.writer().begin().await?;
                    let sql = format!("SELECT {ITEM_COLUMNS} FROM moderation_items WHERE id = $1");
                    let Some(item) = sqlx::query_as::<_, ModerationItemRecord>(&sql).bind(id).fetch_optional(&mut *tx).await? else {
                        return Ok(DecideOutcome::NotFound);
                    };
                    let action = match &decision {
                        ItemDecision::Approve { body: Some(_) } => "redact",
                        ItemDecision::Approve { body: None } => "approve",
                        ItemDecision::Reject => "reject",
                        ItemDecision::Remove { .. } => "remove",
                        ItemDecision::Restore { .. } => "restore",
                        ItemDecision::Dismiss => "dismiss",
                    };
                    // The state check, the claim check and the decision are one statement, so two
                    // moderators can never both decide the same item.
                    let updated = if appeal {
                        if item.decided_by.as_deref() == Some(moderator_id) {
                            return Ok(DecideOutcome::Conflict("a different moderator must review an appeal"));
                        }
                        let outcome = if decision == ItemDecision::Dismiss { "upheld" } else { "overturned" };
                        sqlx::query(
                            "UPDATE moderation_items SET appeal_state = $2, appeal_decided_by = $3, claimed_by = NULL \
                             WHERE id = $1 AND appeal_state = 'requested' \
                             AND (claimed_by IS NULL OR claimed_by = $3 OR claim_expires_at <= $4)",
                        )
                        .bind(id)
                        .bind(outcome)
                        .bind(moderator_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                    } else {
                        sqlx::query(
                            "UPDATE moderation_items SET state = 'decided', decision = $2, decision_reason = $3, decided_by = $4, \
                             decided_at = $5, claimed_by = NULL, claim_expires_at = NULL \
                             WHERE id = $1 AND state = 'open' AND (claimed_by IS NULL OR claimed_by = $4 OR claim_expires_at <= $5)",
                        )
                        .bind(id)
                        .bind(action)
                        .bind(reason)
                        .bind(moderator_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                    };
                    if updated == 0 {
                        return Ok(DecideOutcome::Conflict("already decided, or claimed by another moderator"));
                    }
                    let message_changed = match (&decision, &item.message_id) {
                        (ItemDecision::Dismiss, _) | (_, None) => true,
                        (ItemDecision::Approve { body }, Some(mid)) => {
                            let conv = item.conversation_id.clone().unwrap_or_default();
                            let seq: Option<(i64,)> = sqlx::query_as(
                                "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1 AND state <> 'closed' RETURNING last_seq",
                            )
                            .bind(&conv)
                            .fetch_optional(&mut *tx)
                            .await?;
                            match seq {
                                None => false,
                                Some((seq,)) => {
                                    sqlx::query(
                                        "UPDATE messages SET seq = $2, status = 'visible', \
                                         original_body = CASE WHEN $3 IS NULL THEN original_body ELSE body END, \
                                         body = COALESCE($3, body) WHERE id = $1 AND status IN ('held', 'rejected')",
                                    )
                                    .bind(mid)
                                    .bind(seq)
                                    .bind(body.as_deref())
                                    .execute(&mut *tx)
                                    .await?
                                    .rows_affected()
                                        == 1
                                }
                            }
                        }
                        (ItemDecision::Reject, Some(mid)) => {
                            sqlx::query("UPDATE messages SET status = 'rejected' WHERE id = $1 AND status = 'held'")
                                .bind(mid)
                                .execute(&mut *tx)
                                .await?
                                .rows_affected()
                                == 1
                        }
                        (ItemDecision::Restore { body }, Some(mid)) => {
                            sqlx::query("UPDATE messages SET status = 'visible', body = $2 WHERE id = $1 AND status = 'removed'")
                                .bind(mid)
                                .bind(body)
                                .execute(&mut *tx)
                                .await?
                                .rows_affected()
                                == 1
                        }
                        (ItemDecision::Remove { placeholder }, Some(mid)) => {
                            sqlx::query(
                                "UPDATE messages SET status = 'removed', original_body = COALESCE(original_body, body), body = $2 \
                                 WHERE id = $1 AND status = 'visible'",
                            )
                            .bind(mid)
                            .bind(placeholder)
                            .execute(&mut *tx)
                            .await?
                            .rows_affected()
                                == 1
                        }
                    };
                    if !message_changed {
                        tx.rollback().await?;
                        return Ok(DecideOutcome::Invalid("the message is not in a state this decision applies to"));
                    }
                    sqlx::query(
                        "INSERT INTO moderation_log (id, at, moderator_id, action, item_id, subject_user_id, reason) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7)",
                    )
                    .bind(crate::ids::random_id())
                    .bind(now)
                    .bind(moderator_id)
                    .bind(if appeal { format!("appeal_{action}") } else { action.to_owned() })
                    .bind(id)
                    .bind(&item.subject_user_id)
                    .bind(reason)
                    .execute(&mut *tx)
                    .await?;
                    let item = sqlx::query_as::<_, ModerationItemRecord>(&sql).bind(id).fetch_one(&mut *tx).await?;
                    let message = match &item.message_id {
                        Some(mid) => {
                            let msql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1");
                            sqlx::query_as::<_, MessageRecord>(&msql).bind(mid).fetch_optional(&mut *tx).await?
                        }
                        None => None,
                    };
                    tx.commit().await?;
                    Ok(DecideOutcome::Decided { item, message })
                }

                async fn request_appeal(&self, id: &str, reason: &str, now: i64) -> $crate::store::Result<bool> {
                    let n = sqlx::query(
                        "UPDATE moderation_items SET appeal_state = 'requested', appeal_reason = $2, appealed_at = $3 \
                         WHERE id = $1 AND state = 'decided' AND appeal_state IS NULL AND decision IN ('reject', 'remove')",
                    )
                    .bind(id)
                    .bind(reason)
                    .bind(now)
                    .execute(self.writer())
                    .await?
                    .rows_affected();
                    Ok(n == 1)
                }

                async fn append_modlog(&self, e: ModLogRecord) -> $crate::store::Result<()> {
                    sqlx::query(
                        "INSERT INTO moderation_log (id, at, moderator_id, action, item_id, subject_user_id, reason, expires_at) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                    )
                    .bind(&e.id)
                    .bind(e.at)
                    .bind(&e.moderator_id)
                    .bind(&e.action)
                    .bind(&e.item_id)
                    .bind(&e.subject_user_id)
                    .bind(&e.reason)
                    .bind(e.expires_at)
                    .execute(self.writer())
                    .await?;
                    Ok(())
                }

                async fn modlog(&self, limit: u32) -> $crate::store::Result<Vec<ModLogRecord>> {
                    Ok(sqlx::query_as::<_, ModLogRecord>(
                        "SELECT id, at, moderator_id, action, item_id, subject_user_id, reason, expires_at FROM moderation_log \
                         ORDER BY at DESC, id DESC LIMIT $1",
                    )
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?)
                }
            }
        };

        async fn insert_item_row<'c, E>(executor: E, item: &NewModerationItem) -> $crate::store::Result<()>
        where
            E: sqlx::Executor<'c, Database = <$store as $crate::store::backend::Backend>::Db>,
        {
            sqlx::query(
                "INSERT INTO moderation_items (id, kind, conversation_id, message_id, subject_user_id, reporter_id, reason, \
                 severity, severity_rank, evidence, state, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11)",
            )
            .bind(&item.id)
            .bind(item.kind.as_str())
            .bind(&item.conversation_id)
            .bind(&item.message_id)
            .bind(&item.subject_user_id)
            .bind(&item.reporter_id)
            .bind(&item.reason)
            .bind(item.severity.as_str())
            .bind(item.severity.rank())
            .bind(&item.evidence)
            .bind(item.created_at)
            .execute(executor)
            .await?;
            Ok(())
        }
    };
}

pub(crate) use impl_moderation_sql;
