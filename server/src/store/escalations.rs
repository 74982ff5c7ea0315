//! Escalations and the outbox their on-call alerts leave by.

use async_trait::async_trait;

use super::{AuditEvent, EscalationActionRecord, EscalationRecord, NewEscalation, OutboxRecord, Result};

pub(crate) const ESCALATION_COLUMNS: &str = "id, conversation_id, message_id, severity, reason, source, raised_by, \
    state, created_at, deadline_at, reescalated_at, acknowledged_by, acknowledged_at, resolved_by, resolved_at, outcome, \
    steps, next_step_at";

/// Escalations to a supervisor, their deadlines and actions, and the outbox of on-call alerts.
#[async_trait]
pub trait Escalations: Send + Sync + 'static {
    async fn create_escalation(&self, e: NewEscalation) -> Result<EscalationRecord>;
    async fn escalation(&self, id: &str) -> Result<Option<EscalationRecord>>;
    /// Escalations, newest first, optionally only those in `state` or of one conversation;
    /// `limit` rows (all of them if `None`) after skipping `offset`.
    async fn escalations(
        &self,
        state: Option<&str>,
        conversation_id: Option<&str>,
        limit: Option<u32>,
        offset: u32,
    ) -> Result<Vec<EscalationRecord>>;
    /// Open → acknowledged by `supervisor_id`; `None` if it was not open.
    /// Writes `audit` in the same transaction, if it was open.
    async fn acknowledge_escalation(
        &self,
        id: &str,
        supervisor_id: &str,
        now: i64,
        audit: AuditEvent,
    ) -> Result<Option<EscalationRecord>>;
    /// The action and its `audit` entry, in one transaction.
    async fn add_escalation_action(&self, action: EscalationActionRecord, audit: AuditEvent) -> Result<()>;
    /// The actions recorded on these escalations, each escalation's in the order they were
    /// taken (one query per 128 escalations, not one per escalation).
    async fn escalation_actions(&self, ids: &[&str]) -> Result<Vec<EscalationActionRecord>>;
    /// Open or acknowledged → resolved, with `audit` in the same transaction; `None` if
    /// already resolved.
    async fn resolve_escalation(
        &self,
        id: &str,
        supervisor_id: &str,
        outcome: &str,
        now: i64,
        audit: AuditEvent,
    ) -> Result<Option<EscalationRecord>>;
    /// Open escalations whose next step of the chain is due.
    async fn due_escalations(&self, now: i64) -> Result<Vec<EscalationRecord>>;
    /// Takes step `seen_steps + 1` of the chain: counts it, sets the next one at `next_step_at`,
    /// queues the on-call alert and writes `audit`, in one transaction. `false` if another
    /// node took this step first (or it was acknowledged): each step fires exactly once.
    async fn fire_reescalation(
        &self,
        id: &str,
        seen_steps: i64,
        now: i64,
        next_step_at: i64,
        alert_payload: &str,
        audit: AuditEvent,
    ) -> Result<bool>;
    /// On-call alerts not delivered yet: how many, and how many of them have failed at least
    /// once.
    async fn outbox_undelivered(&self) -> Result<(i64, i64)>;

    /// Claims up to `limit` due outbox rows until `lock_until` (one node delivers each).
    async fn claim_outbox(&self, now: i64, lock_until: i64, limit: u32) -> Result<Vec<OutboxRecord>>;
    async fn outbox_delivered(&self, id: &str, now: i64) -> Result<()>;
    async fn outbox_failed(&self, id: &str, error: &str, next_attempt_at: i64) -> Result<()>;
}

/// The SQL of [`Escalations`], the same for both databases; instantiated for each store type by
/// `impl_sql_store!` (`sql.rs`).
macro_rules! impl_escalations_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::store::escalations::ESCALATION_COLUMNS;

            #[async_trait::async_trait]
            impl $crate::store::Escalations for $store {
                async fn create_escalation(&self, e: NewEscalation) -> $crate::store::Result<EscalationRecord> {
                    let mut tx = self.writer().begin().await?;
                    insert_escalation_row(&mut *tx, &e).await?;
                    tx.commit().await?;
                    let sql = format!("SELECT {ESCALATION_COLUMNS} FROM escalations WHERE id = $1");
                    Ok(sqlx::query_as::<_, EscalationRecord>(&sql).bind(&e.id).fetch_one(self.writer()).await?)
                }

                async fn escalation(&self, id: &str) -> $crate::store::Result<Option<EscalationRecord>> {
                    let sql = format!("SELECT {ESCALATION_COLUMNS} FROM escalations WHERE id = $1");
                    Ok(sqlx::query_as::<_, EscalationRecord>(&sql).bind(id).fetch_optional(self.reader()).await?)
                }

                async fn escalations(&self, state: Option<&str>, conversation_id: Option<&str>, limit: Option<u32>, offset: u32)
                    -> $crate::store::Result<Vec<EscalationRecord>> {
                    let sql = format!(
                        "SELECT {ESCALATION_COLUMNS} FROM escalations WHERE ($1 IS NULL OR state = $1) \
                         AND ($2 IS NULL OR conversation_id = $2) ORDER BY created_at DESC, id DESC LIMIT $3 OFFSET $4"
                    );
                    // "No limit" is -1 to SQLite and NULL to PostgreSQL; i64::MAX means it to both.
                    let limit = limit.map_or(i64::MAX, i64::from);
                    Ok(sqlx::query_as::<_, EscalationRecord>(&sql)
                        .bind(state)
                        .bind(conversation_id)
                        .bind(limit)
                        .bind(i64::from(offset))
                        .fetch_all(self.reader())
                        .await?)
                }

                async fn acknowledge_escalation(&self, id: &str, supervisor_id: &str, now: i64, audit: AuditEvent)
                    -> $crate::store::Result<Option<EscalationRecord>> {
                    let sql = format!(
                        "UPDATE escalations SET state = 'acknowledged', acknowledged_by = $2, acknowledged_at = $3, next_step_at = NULL \
                         WHERE id = $1 AND state = 'open' RETURNING {ESCALATION_COLUMNS}"
                    );
                    let mut tx = self.writer().begin().await?;
                    let e = sqlx::query_as::<_, EscalationRecord>(&sql)
                        .bind(id)
                        .bind(supervisor_id)
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await?;
                    commit_step(tx, e, &audit).await
                }

                async fn add_escalation_action(&self, a: EscalationActionRecord, audit: AuditEvent) -> $crate::store::Result<()> {
                    let mut tx = self.writer().begin().await?;
                    sqlx::query("INSERT INTO escalation_actions (id, escalation_id, at, actor_id, action, note) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(&a.id)
                        .bind(&a.escalation_id)
                        .bind(a.at)
                        .bind(&a.actor_id)
                        .bind(&a.action)
                        .bind(&a.note)
                        .execute(&mut *tx)
                        .await?;
                    insert_audit_rows(&mut *tx, std::slice::from_ref(&audit)).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn escalation_actions(&self, ids: &[&str]) -> $crate::store::Result<Vec<EscalationActionRecord>> {
                    use $crate::store::{backend::Backend, batch_plan::pow2_chunks};
                    let mut out = Vec::new();
                    for part in pow2_chunks(ids, 128) {
                        let params = (1..=part.len()).map(<$store as Backend>::param).collect::<Vec<_>>().join(", ");
                        let sql = format!(
                            "SELECT id, escalation_id, at, actor_id, action, note FROM escalation_actions \
                             WHERE escalation_id IN ({params}) ORDER BY escalation_id, at, id"
                        );
                        let mut q = sqlx::query_as::<_, EscalationActionRecord>(&sql);
                        for id in part {
                            q = q.bind(*id);
                        }
                        out.extend(q.fetch_all(self.reader()).await?);
                    }
                    Ok(out)
                }

                async fn resolve_escalation(&self, id: &str, supervisor_id: &str, outcome: &str, now: i64, audit: AuditEvent)
                    -> $crate::store::Result<Option<EscalationRecord>> {
                    let sql = format!(
                        "UPDATE escalations SET state = 'resolved', resolved_by = $2, resolved_at = $3, outcome = $4, next_step_at = NULL, \
                         acknowledged_by = COALESCE(acknowledged_by, $2), acknowledged_at = COALESCE(acknowledged_at, $3) \
                         WHERE id = $1 AND state <> 'resolved' RETURNING {ESCALATION_COLUMNS}"
                    );
                    let mut tx = self.writer().begin().await?;
                    let e = sqlx::query_as::<_, EscalationRecord>(&sql)
                        .bind(id)
                        .bind(supervisor_id)
                        .bind(now)
                        .bind(outcome)
                        .fetch_optional(&mut *tx)
                        .await?;
                    commit_step(tx, e, &audit).await
                }

                async fn due_escalations(&self, now: i64) -> $crate::store::Result<Vec<EscalationRecord>> {
                    let sql = format!(
                        "SELECT {ESCALATION_COLUMNS} FROM escalations WHERE state = 'open' AND next_step_at <= $1 \
                         ORDER BY next_step_at LIMIT 100"
                    );
                    Ok(sqlx::query_as::<_, EscalationRecord>(&sql).bind(now).fetch_all(self.reader()).await?)
                }

                async fn fire_reescalation(&self, id: &str, seen_steps: i64, now: i64, next_step_at: i64, alert_payload: &str, audit: AuditEvent)
                    -> $crate::store::Result<bool> {
                    let mut tx = self.writer().begin().await?;
                    let n = sqlx::query(
                        "UPDATE escalations SET reescalated_at = COALESCE(reescalated_at, $2), steps = steps + 1, \
                         next_step_at = $4 WHERE id = $1 AND state = 'open' AND steps = $3",
                    )
                    .bind(id)
                    .bind(now)
                    .bind(seen_steps)
                    .bind(next_step_at)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if n == 0 {
                        tx.rollback().await?;
                        return Ok(false);
                    }
                    sqlx::query(
                        "INSERT INTO outbox (id, kind, payload, created_at, next_attempt_at) VALUES ($1, 'oncall_alert', $2, $3, $3)",
                    )
                    .bind(crate::ids::random_id())
                    .bind(alert_payload)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                    insert_audit_rows(&mut *tx, std::slice::from_ref(&audit)).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn outbox_undelivered(&self) -> $crate::store::Result<(i64, i64)> {
                    let row: (i64, Option<i64>) = sqlx::query_as(
                        "SELECT COUNT(*), SUM(CASE WHEN last_error IS NULL THEN 0 ELSE 1 END) FROM outbox \
                         WHERE delivered_at IS NULL AND kind = 'oncall_alert'",
                    )
                    .fetch_one(self.reader())
                    .await?;
                    Ok((row.0, row.1.unwrap_or(0)))
                }

                async fn claim_outbox(&self, now: i64, lock_until: i64, limit: u32) -> $crate::store::Result<Vec<OutboxRecord>> {
                    let candidates: Vec<OutboxRecord> = sqlx::query_as(
                        "SELECT id, kind, payload, created_at, attempts, next_attempt_at, delivered_at, last_error FROM outbox \
                         WHERE delivered_at IS NULL AND next_attempt_at <= $1 AND (locked_until IS NULL OR locked_until <= $1) \
                         ORDER BY next_attempt_at LIMIT $2",
                    )
                    .bind(now)
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?;
                    let mut claimed = Vec::new();
                    for c in candidates {
                        let n = sqlx::query(
                            "UPDATE outbox SET locked_until = $2, attempts = attempts + 1 WHERE id = $1 AND delivered_at IS NULL \
                             AND (locked_until IS NULL OR locked_until <= $3)",
                        )
                        .bind(&c.id)
                        .bind(lock_until)
                        .bind(now)
                        .execute(self.writer())
                        .await?
                        .rows_affected();
                        if n == 1 {
                            claimed.push(OutboxRecord { attempts: c.attempts + 1, ..c });
                        }
                    }
                    Ok(claimed)
                }

                async fn outbox_delivered(&self, id: &str, now: i64) -> $crate::store::Result<()> {
                    sqlx::query("UPDATE outbox SET delivered_at = $2, locked_until = NULL WHERE id = $1")
                        .bind(id)
                        .bind(now)
                        .execute(self.writer())
                        .await?;
                    Ok(())
                }

                async fn outbox_failed(&self, id: &str, error: &str, next_attempt_at: i64) -> $crate::store::Result<()> {
                    sqlx::query("UPDATE outbox SET last_error = $2, next_attempt_at = $3, locked_until = NULL WHERE id = $1")
                        .bind(id)
                        .bind(error)
                        .bind(next_attempt_at)
                        .execute(self.writer())
                        .await?;
                    Ok(())
                }
            }
        };

        /// The escalation and its audit entry, inside the caller's transaction.
        async fn insert_escalation_row(conn: &mut Conn, e: &NewEscalation) -> $crate::store::Result<()> {
            sqlx::query(
                "INSERT INTO escalations (id, conversation_id, message_id, severity, reason, source, raised_by, state, \
                 created_at, deadline_at, next_step_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9, $9)",
            )
            .bind(&e.id)
            .bind(&e.conversation_id)
            .bind(&e.message_id)
            .bind(e.severity.as_str())
            .bind(&e.reason)
            .bind(e.source.as_str())
            .bind(&e.raised_by)
            .bind(e.created_at)
            .bind(e.deadline_at)
            .execute(&mut *conn)
            .await?;
            insert_audit_rows(conn, std::slice::from_ref(&e.audit)).await
        }
    };
}

pub(crate) use impl_escalations_sql;
