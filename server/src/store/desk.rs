//! The desk: duty, the rota, capacity and presence of the staff who answer chats.

use async_trait::async_trait;

use super::{AuditEvent, Result, ShiftRecord, StaffLoad};

/// Who answers chats: duty, the rota, capacity and who is connected.
#[async_trait]
pub trait Desk: Send + Sync + 'static {
    /// Whether it changed. `audit` is written in the same transaction, and only on a change.
    async fn set_on_duty(&self, user_id: &str, on_duty: bool, now: i64, audit: Option<AuditEvent>) -> Result<bool>;
    /// Ids of staff who answer chats and are on duty.
    async fn on_duty_staff(&self) -> Result<Vec<String>>;
    /// Staff who answer chats, are on duty and were connected at or after `seen_since`, with
    /// their open chats and capacity, for availability and auto-assignment.
    async fn available_staff(&self, seen_since: i64) -> Result<Vec<StaffLoad>>;
    /// Supervisors (not suspended) connected to any node at or after `seen_since`, on duty or
    /// not: who an escalation alert reaches.
    async fn supervisors_seen(&self, seen_since: i64) -> Result<i64>;
    /// For the service-level gauges: support chats waiting in the queue, staff on duty, and
    /// rota shifts running at `now`.
    async fn desk_counts(&self, now: i64) -> Result<(i64, i64, i64)>;

    /// Adds a rota shift, with `audit` in the same transaction.
    async fn create_shift(&self, shift: ShiftRecord, audit: AuditEvent) -> Result<()>;
    /// Removes a rota shift, with the audit entry `audit` makes of the shift's worker in the
    /// same transaction; `false` (and no entry) if there is no such shift.
    async fn delete_shift(&self, id: &str, audit: &(dyn for<'k> Fn(&'k str) -> AuditEvent + Sync)) -> Result<bool>;
    /// Shifts overlapping `[from, to)`, by start.
    async fn shifts_between(&self, from: i64, to: i64) -> Result<Vec<ShiftRecord>>;
    /// Milliseconds the user was on duty between `since` and `now`.
    async fn duty_ms_since(&self, user_id: &str, since: i64, now: i64) -> Result<i64>;

    /// Sets how many chats a worker takes at once, with `audit` in the same transaction;
    /// `false` (and no entry) if there is no such worker.
    async fn set_capacity(&self, user_id: &str, capacity: i64, audit: AuditEvent) -> Result<bool>;
    /// Records that these users are connected now.
    async fn touch_seen(&self, user_ids: &[String], now: i64) -> Result<()>;
}

/// The SQL of [`Desk`], the same for both databases; instantiated for each store type by
/// `impl_sql_store!` (`sql.rs`).
macro_rules! impl_desk_sql {
    ($store:ty) => {
        const _: () = {
            #[async_trait::async_trait]
            impl $crate::store::Desk for $store {
                async fn set_on_duty(&self, user_id: &str, on_duty: bool, now: i64, audit: Option<AuditEvent>) -> $crate::store::Result<bool> {
                    let mut tx = self.writer().begin().await?;
                    let changed = sqlx::query("UPDATE users SET on_duty = $2, duty_changed_at = $3 WHERE id = $1 AND on_duty <> $2")
                        .bind(user_id)
                        .bind(on_duty)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                        == 1;
                    if changed && on_duty {
                        sqlx::query("INSERT INTO duty_sessions (id, user_id, started_at) VALUES ($1, $2, $3)")
                            .bind(crate::ids::random_id())
                            .bind(user_id)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    } else if changed {
                        sqlx::query("UPDATE duty_sessions SET ended_at = $2 WHERE user_id = $1 AND ended_at IS NULL")
                            .bind(user_id)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    }
                    match audit {
                        Some(audit) => Ok(commit_step(tx, changed.then_some(()), &audit).await?.is_some()),
                        None => {
                            tx.commit().await?;
                            Ok(changed)
                        }
                    }
                }

                async fn on_duty_staff(&self) -> $crate::store::Result<Vec<String>> {
                    let rows: Vec<(String,)> = sqlx::query_as(
                        "SELECT id FROM users WHERE on_duty AND suspended_at IS NULL \
                         AND role IN ('duty_worker', 'supervisor')",
                    )
                    .fetch_all(self.reader())
                    .await?;
                    Ok(rows.into_iter().map(|r| r.0).collect())
                }

                async fn available_staff(&self, seen_since: i64) -> $crate::store::Result<Vec<StaffLoad>> {
                    Ok(sqlx::query_as::<_, StaffLoad>(
                        "SELECT u.id, u.capacity, \
                         (SELECT COUNT(*) FROM conversations c WHERE c.assigned_to = u.id AND c.state = 'assigned') AS open_chats, \
                         u.last_assigned_at FROM users u \
                         WHERE u.on_duty AND u.suspended_at IS NULL AND u.role IN ('duty_worker', 'supervisor') \
                         AND u.seen_at >= $1",
                    )
                    .bind(seen_since)
                    .fetch_all(self.reader())
                    .await?)
                }

                async fn supervisors_seen(&self, seen_since: i64) -> $crate::store::Result<i64> {
                    let row: (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM users WHERE role = 'supervisor' AND suspended_at IS NULL AND seen_at >= $1",
                    )
                    .bind(seen_since)
                    .fetch_one(self.reader())
                    .await?;
                    Ok(row.0)
                }

                async fn desk_counts(&self, now: i64) -> $crate::store::Result<(i64, i64, i64)> {
                    Ok(sqlx::query_as(
                        "SELECT (SELECT COUNT(*) FROM conversations WHERE state = 'queued'), \
                         (SELECT COUNT(*) FROM users WHERE on_duty AND suspended_at IS NULL \
                          AND role IN ('duty_worker', 'supervisor')), \
                         (SELECT COUNT(*) FROM shifts WHERE starts_at <= $1 AND ends_at > $1)",
                    )
                    .bind(now)
                    .fetch_one(self.reader())
                    .await?)
                }

                async fn create_shift(&self, r: ShiftRecord, audit: AuditEvent) -> $crate::store::Result<()> {
                    let mut tx = self.writer().begin().await?;
                    sqlx::query("INSERT INTO shifts (id, user_id, starts_at, ends_at, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6)")
                        .bind(&r.id)
                        .bind(&r.user_id)
                        .bind(r.starts_at)
                        .bind(r.ends_at)
                        .bind(&r.created_by)
                        .bind(r.created_at)
                        .execute(&mut *tx)
                        .await?;
                    commit_step(tx, Some(()), &audit).await?;
                    Ok(())
                }

                async fn delete_shift(&self, id: &str, audit: &(dyn for<'k> Fn(&'k str) -> AuditEvent + Sync)) -> $crate::store::Result<bool> {
                    let mut tx = self.writer().begin().await?;
                    let worker: Option<(String,)> =
                        sqlx::query_as("DELETE FROM shifts WHERE id = $1 RETURNING user_id").bind(id).fetch_optional(&mut *tx).await?;
                    let Some((worker,)) = worker else { return Ok(false) };
                    Ok(commit_step(tx, Some(()), &audit(&worker)).await?.is_some())
                }

                async fn shifts_between(&self, from: i64, to: i64) -> $crate::store::Result<Vec<ShiftRecord>> {
                    Ok(sqlx::query_as::<_, ShiftRecord>(
                        "SELECT id, user_id, starts_at, ends_at, created_by, created_at FROM shifts \
                         WHERE ends_at > $1 AND starts_at < $2 ORDER BY starts_at, id LIMIT 1000",
                    )
                    .bind(from)
                    .bind(to)
                    .fetch_all(self.reader())
                    .await?)
                }

                async fn duty_ms_since(&self, user_id: &str, since: i64, now: i64) -> $crate::store::Result<i64> {
                    let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
                        "SELECT started_at, ended_at FROM duty_sessions WHERE user_id = $1 AND (ended_at IS NULL OR ended_at > $2)",
                    )
                    .bind(user_id)
                    .bind(since)
                    .fetch_all(self.reader())
                    .await?;
                    Ok(rows.iter().map(|(s, e)| (e.unwrap_or(now).min(now) - (*s).max(since)).max(0)).sum())
                }

                async fn set_capacity(&self, user_id: &str, capacity: i64, audit: AuditEvent) -> $crate::store::Result<bool> {
                    let mut tx = self.writer().begin().await?;
                    let n = sqlx::query("UPDATE users SET capacity = $2 WHERE id = $1 AND role IN ('duty_worker', 'supervisor')")
                        .bind(user_id)
                        .bind(capacity)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected();
                    Ok(commit_step(tx, (n == 1).then_some(()), &audit).await?.is_some())
                }

                async fn touch_seen(&self, user_ids: &[String], now: i64) -> $crate::store::Result<()> {
                    for chunk in user_ids.chunks(500) {
                        let placeholders: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
                        let sql = format!("UPDATE users SET seen_at = $1 WHERE id IN ({})", placeholders.join(", "));
                        let mut q = sqlx::query(&sql).bind(now);
                        for id in chunk {
                            q = q.bind(id);
                        }
                        q.execute(self.writer()).await?;
                    }
                    Ok(())
                }
            }
        };
    };
}

pub(crate) use impl_desk_sql;
