//! The SQL both backends share. SQLite (3.35+) and PostgreSQL accept the same statements
//! here (`$n` parameters, `RETURNING`, `ON CONFLICT`, partial indexes), so the [`Store`]
//! implementation is written once as a macro and instantiated for each concrete store type,
//! which provides `reader()`, `writer()`, `backend_name()` and `run_migrations()`.
//!
//! Why `seq` is gap-free and commits in order: a batch of messages locks its conversations'
//! rows (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's one writer, taken by `BEGIN
//! IMMEDIATE`) before it reads their `last_seq`, and holds them until commit; a message that is
//! refused (closed chat, resend, stale access) takes no `seq`. A `seq` is therefore visible only
//! after every smaller one is committed.

use std::collections::HashMap;

use super::{InsertOutcome, MessageRecord, NewMessage};

pub(crate) const CONVERSATION_SELECT: &str = "SELECT c.id, c.kind, c.state, c.topic, c.owner_id, \
    o.display_name AS owner_name, c.assigned_to, w.display_name AS assigned_name, \
    w.role AS assigned_role, c.created_at, c.assigned_at, c.closed_at, c.last_seq, c.risk, \
    c.age_band, c.moderation_mode, c.pii_mode, c.risk_rank, c.requeued_at, c.first_reply_at, c.outcome, c.tags, c.hold_reason \
    FROM conversations c LEFT JOIN users o ON o.id = c.owner_id \
    LEFT JOIN users w ON w.id = c.assigned_to";

pub(crate) const MESSAGE_COLUMNS: &str = "id, conversation_id, seq, status, sender_id, sender_role, \
    sender_name, client_msg_id, body, kind, sent_at, severity, verdict";

pub(crate) const USER_COLUMNS: &str =
    "id, role, username, password_hash, display_name, created_at, suspended_at, muted_until, on_duty, capacity, tokens_valid_after";

pub(crate) const ITEM_COLUMNS: &str = "id, kind, conversation_id, message_id, subject_user_id, reporter_id, reason, \
    severity, evidence, state, claimed_by, claim_expires_at, decision, decision_reason, decided_by, decided_at, \
    appeal_state, appeal_reason, created_at";

/// What a directory search looks in: the entry's words, lowercased here (SQLite's `LOWER()`
/// folds only ASCII), joined by line breaks so that a search does not run from one field
/// into the next.
pub(crate) fn service_search_text(r: &super::ServiceRecord) -> String {
    [Some(&r.name), Some(&r.category), Some(&r.description), r.area.as_ref()]
        .into_iter()
        .flatten()
        .map(|t| t.to_lowercase())
        .collect::<Vec<_>>()
        .join("\n")
}

pub(crate) const SERVICE_COLUMNS: &str = "id, name, category, description, area, phone, url, hours, min_age, max_age, \
    retired, created_by, created_at, updated_at";

/// The support queue's order: risk first, then chats handed back to the queue (ahead of new
/// arrivals), then waiting time. One definition for positions and lists.
pub(crate) const QUEUE_ORDER: &str =
    "c.risk_rank DESC, (c.requeued_at IS NULL) ASC, COALESCE(c.requeued_at, c.created_at) ASC, c.id ASC";

pub(crate) const ESCALATION_COLUMNS: &str = "id, conversation_id, message_id, severity, reason, source, raised_by, \
    state, created_at, deadline_at, reescalated_at, acknowledged_by, acknowledged_at, resolved_by, resolved_at, outcome";

/// Queue order: most severe first.
pub fn severity_rank(severity: &str) -> i64 {
    match severity {
        "critical" => 4,
        "high" => 3,
        "medium" => 2,
        "low" => 1,
        _ => 0,
    }
}

/// The columns a new message row is written with, in the order both writers bind them.
pub(crate) const MESSAGE_INSERT_COLUMNS: &str = "id, conversation_id, seq, status, original_body, sender_id, \
    sender_role, sender_name, client_msg_id, body, kind, sent_at, severity, verdict";

/// A conversation's row as a message batch read it, under its lock.
pub(crate) struct BatchConversation {
    pub state: String,
    pub assigned_to: Option<String>,
    pub last_seq: i64,
}

/// What a batch of messages does, decided from what it read under its locks.
pub(crate) struct BatchPlan<'a> {
    /// One per message, in arrival order.
    pub outcomes: Vec<InsertOutcome>,
    /// The rows to insert, with their `seq` (`None` while held), in arrival order.
    pub rows: Vec<(&'a NewMessage, Option<i64>)>,
    /// The new `last_seq` of each conversation that took messages, in id order.
    pub bumped: Vec<(String, i64)>,
}

/// Decides each message of a batch, in arrival order: a resend (stored earlier, in `earlier`,
/// or earlier in this batch) is answered with the first message; a closed or missing chat
/// refuses; a chat no longer as the sender's access was decided is `Stale`; the rest take the
/// next `seq` (held messages none). Both stores' writers run this one decision.
pub(crate) fn plan_batch<'a>(
    batch: &'a [NewMessage],
    earlier: &HashMap<(String, String), MessageRecord>,
    mut convs: HashMap<String, BatchConversation>,
) -> BatchPlan<'a> {
    let mut outcomes: Vec<InsertOutcome> = Vec::with_capacity(batch.len());
    let mut rows: Vec<(&NewMessage, Option<i64>)> = Vec::with_capacity(batch.len());
    let mut in_batch: HashMap<(&str, &str), usize> = HashMap::new();
    let mut changed: Vec<&str> = Vec::new();
    for m in batch {
        let key = m.sender_id.as_deref().zip(m.client_msg_id.as_deref());
        if let Some((sender, client_id)) = key {
            if let Some(rec) = earlier.get(&(sender.to_owned(), client_id.to_owned())) {
                outcomes.push(InsertOutcome::Duplicate(rec.clone()));
                continue;
            }
            if let Some(first) = in_batch.get(&(sender, client_id)) {
                let again = match &outcomes[*first] {
                    InsertOutcome::Stored(rec) => InsertOutcome::Duplicate(rec.clone()),
                    other => other.clone(),
                };
                outcomes.push(again);
                continue;
            }
            in_batch.insert((sender, client_id), outcomes.len());
        }
        let Some(conv) = convs.get_mut(&m.conversation_id).filter(|c| c.state != "closed") else {
            outcomes.push(InsertOutcome::ConversationClosed);
            continue;
        };
        if let Some(expect) = &m.expect {
            if expect.state != conv.state || expect.assigned_to != conv.assigned_to {
                outcomes.push(InsertOutcome::Stale);
                continue;
            }
        }
        let seq = if m.hold.is_some() {
            None
        } else {
            conv.last_seq += 1;
            changed.push(&m.conversation_id);
            Some(conv.last_seq)
        };
        rows.push((m, seq));
        outcomes.push(InsertOutcome::Stored(message_record(m, seq)));
    }
    changed.sort_unstable();
    changed.dedup();
    let bumped = changed.into_iter().map(|id| (id.to_owned(), convs[id].last_seq)).collect();
    BatchPlan { outcomes, rows, bumped }
}

/// `rows` parenthesised groups of `width` placeholders, numbered on from 1, for a multi-row
/// `VALUES`.
pub(crate) fn row_placeholders(rows: usize, width: usize, param: fn(usize) -> String) -> String {
    (0..rows)
        .map(|k| format!("({})", (width * k + 1..width * k + width + 1).map(param).collect::<Vec<_>>().join(", ")))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A new message's status: held for moderation, or visible.
pub(crate) fn message_status(m: &NewMessage) -> &'static str {
    if m.hold.is_some() {
        "held"
    } else {
        "visible"
    }
}

/// The record of a message as [`plan_batch`] stores it.
pub(crate) fn message_record(m: &NewMessage, seq: Option<i64>) -> MessageRecord {
    MessageRecord {
        id: m.id.clone(),
        conversation_id: m.conversation_id.clone(),
        seq,
        status: message_status(m).to_owned(),
        sender_id: m.sender_id.clone(),
        sender_role: m.sender_role.clone(),
        sender_name: m.sender_name.clone(),
        client_msg_id: m.client_msg_id.clone(),
        body: m.body.clone(),
        kind: m.kind.clone(),
        sent_at: m.sent_at,
        severity: m.severity.clone(),
        verdict: m.verdict.clone(),
    }
}

macro_rules! impl_sql_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl $crate::store::Store for $store {
            fn backend(&self) -> &'static str {
                self.backend_name()
            }

            async fn migrate(&self) -> $crate::store::Result<()> {
                self.run_migrations().await
            }

            async fn ping(&self) -> $crate::store::Result<()> {
                sqlx::query("SELECT 1").execute(self.reader()).await?;
                Ok(())
            }

            async fn create_user(&self, u: NewUser, audit: Option<AuditEvent>) -> $crate::store::Result<UserRecord> {
                let mut tx = self.writer().begin().await?;
                let res = sqlx::query(
                    "INSERT INTO users (id, role, username, password_hash, display_name, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&u.id)
                .bind(&u.role)
                .bind(&u.username)
                .bind(&u.password_hash)
                .bind(&u.display_name)
                .bind(u.created_at)
                .execute(&mut *tx)
                .await;
                match res {
                    Ok(_) => {}
                    Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("username taken")),
                    Err(e) => return Err(e.into()),
                }
                if let Some(audit) = audit {
                    insert_audit_rows(&mut tx, std::slice::from_ref(&audit)).await?;
                }
                tx.commit().await?;
                self.user(&u.id).await?.ok_or_else(|| StoreError::Corrupt("user vanished".into()))
            }

            async fn user(&self, id: &str) -> $crate::store::Result<Option<UserRecord>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1");
                Ok(sqlx::query_as::<_, UserRecord>(&sql).bind(id).fetch_optional(self.reader()).await?)
            }

            async fn user_by_username(&self, username: &str) -> $crate::store::Result<Option<UserRecord>> {
                let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE username = $1");
                Ok(sqlx::query_as::<_, UserRecord>(&sql).bind(username).fetch_optional(self.reader()).await?)
            }

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

            async fn create_service(&self, r: &$crate::store::ServiceRecord, audit: AuditEvent) -> $crate::store::Result<()> {
                let mut tx = self.writer().begin().await?;
                let res = bind_service(sqlx::query(
                    "INSERT INTO services (id, name, category, description, area, phone, url, hours, min_age, max_age, \
                     search_text, retired, created_by, created_at, updated_at) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 0, $12, $13, $14)",
                ), r)
                .bind(&r.created_by)
                .bind(r.created_at)
                .bind(r.updated_at)
                .execute(&mut *tx)
                .await;
                match res {
                    Ok(_) => commit_step(tx, Some(()), &audit).await.map(|_| ()),
                    Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                        Err(StoreError::Conflict("a service with that name is already in the directory"))
                    }
                    Err(e) => Err(e.into()),
                }
            }

            async fn update_service(&self, r: &$crate::store::ServiceRecord, audit: AuditEvent) -> $crate::store::Result<bool> {
                let mut tx = self.writer().begin().await?;
                let res = bind_service(sqlx::query(
                    "UPDATE services SET name = $2, category = $3, description = $4, area = $5, phone = $6, url = $7, \
                     hours = $8, min_age = $9, max_age = $10, search_text = $11, updated_at = $12 WHERE id = $1",
                ), r)
                .bind(r.updated_at)
                .execute(&mut *tx)
                .await;
                match res {
                    Ok(done) => Ok(commit_step(tx, (done.rows_affected() == 1).then_some(()), &audit).await?.is_some()),
                    Err(sqlx::Error::Database(d)) if d.is_unique_violation() => {
                        Err(StoreError::Conflict("a service with that name is already in the directory"))
                    }
                    Err(e) => Err(e.into()),
                }
            }

            async fn retire_service(&self, id: &str, audit: AuditEvent) -> $crate::store::Result<bool> {
                let mut tx = self.writer().begin().await?;
                let done = sqlx::query("UPDATE services SET retired = 1 WHERE id = $1 AND retired = 0").bind(id).execute(&mut *tx).await?;
                Ok(commit_step(tx, (done.rows_affected() == 1).then_some(()), &audit).await?.is_some())
            }

            async fn service(&self, id: &str) -> $crate::store::Result<Option<$crate::store::ServiceRecord>> {
                Ok(sqlx::query_as(&format!("SELECT {} FROM services WHERE id = $1", $crate::store::sql::SERVICE_COLUMNS))
                    .bind(id)
                    .fetch_optional(self.reader())
                    .await?)
            }

            async fn services(
                &self,
                text: Option<&str>,
                category: Option<&str>,
                include_retired: bool,
                limit: i64,
            ) -> $crate::store::Result<Vec<$crate::store::ServiceRecord>> {
                // `LIKE` on the stored lowercase text, with the query lowercased the same way
                // and its own wildcards escaped: case-blind alike on both databases.
                let pattern = text.map(|t| {
                    let escaped = t.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
                    format!("%{escaped}%")
                });
                let sql = format!(
                    "SELECT {} FROM services WHERE ($1 OR retired = 0) AND ($2 IS NULL OR category = $2) \
                     AND ($3 IS NULL OR search_text LIKE $3 ESCAPE '\\') ORDER BY name LIMIT $4",
                    $crate::store::sql::SERVICE_COLUMNS
                );
                Ok(sqlx::query_as(&sql).bind(include_retired).bind(category).bind(pattern).bind(limit).fetch_all(self.reader()).await?)
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

            async fn mean_handling_ms(&self, since: i64) -> $crate::store::Result<Option<i64>> {
                let row: (Option<f64>,) = sqlx::query_as(
                    "SELECT CAST(AVG(closed_at - assigned_at) AS DOUBLE PRECISION) FROM conversations \
                     WHERE kind = 'support' AND closed_at >= $1 AND assigned_at IS NOT NULL",
                )
                .bind(since)
                .fetch_one(self.reader())
                .await?;
                Ok(row.0.map(|v| v as i64))
            }

            async fn staff_accounts(&self) -> $crate::store::Result<Vec<UserRecord>> {
                let sql = format!(
                    "SELECT {USER_COLUMNS} FROM users WHERE role IN ('duty_worker', 'supervisor', 'moderator', 'yot_admin') \
                     ORDER BY display_name, id"
                );
                Ok(sqlx::query_as::<_, UserRecord>(&sql).fetch_all(self.reader()).await?)
            }

            async fn set_tags(&self, conversation_id: &str, tags: &[String], assigned_to: Option<&str>, audit: AuditEvent) -> $crate::store::Result<bool> {
                let mut tx = self.writer().begin().await?;
                let n = sqlx::query("UPDATE conversations SET tags = $2 WHERE id = $1 AND kind = 'support' AND ($3 IS NULL OR assigned_to = $3)")
                    .bind(conversation_id)
                    .bind(tags.join(","))
                    .bind(assigned_to)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                Ok(commit_step(tx, (n == 1).then_some(()), &audit).await?.is_some())
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

            async fn stranded_assignments(&self, seen_before: i64, off_duty_before: i64) -> $crate::store::Result<Vec<ConversationRecord>> {
                let sql = format!(
                    "{CONVERSATION_SELECT} WHERE c.state = 'assigned' AND c.kind = 'support' AND ( \
                     COALESCE(w.seen_at, c.assigned_at) < $1 \
                     OR (NOT w.on_duty AND w.duty_changed_at IS NOT NULL AND w.duty_changed_at < $2)) \
                     ORDER BY c.assigned_at LIMIT 100"
                );
                Ok(sqlx::query_as::<_, ConversationRecord>(&sql).bind(seen_before).bind(off_duty_before).fetch_all(self.reader()).await?)
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

            async fn create_refresh_token(
                &self,
                family_id: Option<&str>,
                user_id: &str,
                token_hash: &str,
                now: i64,
                expires_at: i64,
            ) -> $crate::store::Result<()> {
                let mut tx = self.writer().begin().await?;
                let family = match family_id {
                    Some(f) => f.to_owned(),
                    None => {
                        let f = crate::ids::random_id();
                        sqlx::query("INSERT INTO refresh_families (id, user_id, created_at) VALUES ($1, $2, $3)")
                            .bind(&f)
                            .bind(user_id)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        f
                    }
                };
                sqlx::query(
                    "INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(token_hash)
                .bind(&family)
                .bind(now)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(())
            }

            async fn rotate_refresh_token(
                &self,
                old_hash: &str,
                new_hash: &str,
                now: i64,
                expires_at: i64,
            ) -> $crate::store::Result<RotateOutcome> {
                let mut tx = self.writer().begin().await?;
                let row: Option<(String, i64, Option<i64>, Option<i64>, String)> = sqlx::query_as(
                    "SELECT t.family_id, t.expires_at, t.used_at, f.revoked_at, f.user_id \
                     FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id \
                     WHERE t.token_hash = $1",
                )
                .bind(old_hash)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((family, token_expires, used_at, revoked_at, user_id)) = row else {
                    return Ok(RotateOutcome::Invalid);
                };
                if revoked_at.is_some() {
                    return Ok(RotateOutcome::Invalid);
                }
                let spent = if used_at.is_some() {
                    true
                } else {
                    // A concurrent refresh with the same token loses here and counts as reuse.
                    sqlx::query("UPDATE refresh_tokens SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL")
                        .bind(old_hash)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?
                        .rows_affected()
                        == 0
                };
                if spent {
                    sqlx::query("UPDATE refresh_families SET revoked_at = $2 WHERE id = $1")
                        .bind(&family)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    return Ok(RotateOutcome::Reused { user_id });
                }
                if token_expires <= now {
                    return Ok(RotateOutcome::Invalid);
                }
                sqlx::query(
                    "INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
                )
                .bind(new_hash)
                .bind(&family)
                .bind(now)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
                tx.commit().await?;
                Ok(RotateOutcome::Rotated { user_id })
            }

            async fn revoke_refresh_family(&self, token_hash: &str, now: i64) -> $crate::store::Result<Option<String>> {
                let mut tx = self.writer().begin().await?;
                let row: Option<(String, String)> = sqlx::query_as(
                    "SELECT f.id, f.user_id FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id \
                     WHERE t.token_hash = $1",
                )
                .bind(token_hash)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((family, user_id)) = row else { return Ok(None) };
                sqlx::query("UPDATE refresh_families SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                    .bind(&family)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                Ok(Some(user_id))
            }

            async fn create_ws_ticket(&self, ticket_hash: &str, user_id: &str, expires_at: i64) -> $crate::store::Result<()> {
                sqlx::query("INSERT INTO ws_tickets (ticket_hash, user_id, expires_at) VALUES ($1, $2, $3)")
                    .bind(ticket_hash)
                    .bind(user_id)
                    .bind(expires_at)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn consume_ws_ticket(&self, ticket_hash: &str, now: i64) -> $crate::store::Result<Option<String>> {
                // DELETE … RETURNING makes the ticket single-use even when two upgrades race.
                let row: Option<(String, i64)> =
                    sqlx::query_as("DELETE FROM ws_tickets WHERE ticket_hash = $1 RETURNING user_id, expires_at")
                        .bind(ticket_hash)
                        .fetch_optional(self.writer())
                        .await?;
                // Expired tickets of others are swept here too, so the table stays small.
                sqlx::query("DELETE FROM ws_tickets WHERE expires_at <= $1").bind(now).execute(self.writer()).await?;
                Ok(row.and_then(|(user, exp)| (exp > now).then_some(user)))
            }

            async fn open_support_conversation(
                &self,
                id: &str,
                owner_id: &str,
                topic: Option<&str>,
                now: i64,
            ) -> $crate::store::Result<(ConversationRecord, bool)> {
                let open_sql = format!(
                    "{CONVERSATION_SELECT} WHERE c.owner_id = $1 AND c.kind = 'support' AND c.state <> 'closed'"
                );
                if let Some(open) =
                    sqlx::query_as::<_, ConversationRecord>(&open_sql).bind(owner_id).fetch_optional(self.writer()).await?
                {
                    return Ok((open, false));
                }
                let mut tx = self.writer().begin().await?;
                let inserted = sqlx::query(
                    "INSERT INTO conversations (id, kind, state, topic, owner_id, created_at) \
                     VALUES ($1, 'support', 'queued', $2, $3, $4)",
                )
                .bind(id)
                .bind(topic)
                .bind(owner_id)
                .bind(now)
                .execute(&mut *tx)
                .await;
                match inserted {
                    Ok(_) => {}
                    Err(e) if is_unique_violation(&e) => {
                        tx.rollback().await?;
                        let open = sqlx::query_as::<_, ConversationRecord>(&open_sql)
                            .bind(owner_id)
                            .fetch_one(self.writer())
                            .await?;
                        return Ok((open, false));
                    }
                    Err(e) => return Err(e.into()),
                }
                sqlx::query(
                    "INSERT INTO participants (conversation_id, user_id, role, joined_at) VALUES ($1, $2, 'young_person', $3)",
                )
                .bind(id)
                .bind(owner_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let sql = format!("{CONVERSATION_SELECT} WHERE c.id = $1");
                let conv = sqlx::query_as::<_, ConversationRecord>(&sql).bind(id).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                Ok((conv, true))
            }

            async fn conversation(&self, id: &str) -> $crate::store::Result<Option<ConversationRecord>> {
                let sql = format!("{CONVERSATION_SELECT} WHERE c.id = $1");
                Ok(sqlx::query_as::<_, ConversationRecord>(&sql).bind(id).fetch_optional(self.reader()).await?)
            }

            async fn conversations_of_owner(&self, owner_id: &str) -> $crate::store::Result<Vec<ConversationRecord>> {
                let sql = format!("{CONVERSATION_SELECT} WHERE c.owner_id = $1 ORDER BY c.created_at DESC LIMIT 200");
                Ok(sqlx::query_as::<_, ConversationRecord>(&sql).bind(owner_id).fetch_all(self.reader()).await?)
            }

            async fn conversations_for_staff(
                &self,
                filter: &ConversationFilter,
            ) -> $crate::store::Result<Vec<ConversationRecord>> {
                let sql = format!(
                    "{CONVERSATION_SELECT} WHERE ($1 IS NULL OR c.state = $1) AND ($2 IS NULL OR c.assigned_to = $2) \
                     AND ($3 IS NULL OR c.state = 'queued' OR c.assigned_to = $3) AND ($4 = 0 OR c.kind = 'support') \
                     ORDER BY {QUEUE_ORDER} LIMIT $5 OFFSET $6"
                );
                let limit = filter.limit.unwrap_or($crate::store::MAX_PAGE);
                Ok(sqlx::query_as::<_, ConversationRecord>(&sql)
                    .bind(filter.state.as_deref())
                    .bind(filter.assigned_to.as_deref())
                    .bind(filter.visible_to_worker.as_deref())
                    .bind(i32::from(filter.support_only))
                    .bind(i64::from(limit))
                    .bind(i64::from(filter.offset))
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn queue_position(&self, conversation_id: &str) -> $crate::store::Result<Option<u32>> {
                let sql = format!(
                    "SELECT c.id FROM conversations c WHERE c.state = 'queued' AND c.kind = 'support' ORDER BY {QUEUE_ORDER}"
                );
                let ids: Vec<(String,)> = sqlx::query_as(&sql).fetch_all(self.reader()).await?;
                Ok(ids.iter().position(|(id,)| id == conversation_id).map(|i| i as u32 + 1))
            }

            async fn accept_conversation(
                &self,
                conversation_id: &str,
                worker_id: &str,
                announcement: NewMessage,
                audit: AuditEvent,
                now: i64,
            ) -> $crate::store::Result<AcceptOutcome> {
                let mut tx = self.writer().begin().await?;
                // The state check and the assignment are one statement: of racing workers,
                // exactly one sees a row come back.
                let won: Option<(i64,)> = sqlx::query_as(
                    "UPDATE conversations SET state = 'assigned', assigned_to = $2, assigned_at = $3, \
                     last_seq = last_seq + 1 WHERE id = $1 AND state = 'queued' RETURNING last_seq",
                )
                .bind(conversation_id)
                .bind(worker_id)
                .bind(now)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((seq,)) = won else {
                    let state: Option<(String,)> = sqlx::query_as("SELECT state FROM conversations WHERE id = $1")
                        .bind(conversation_id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    tx.rollback().await?;
                    return Ok(match state.as_ref().map(|s| s.0.as_str()) {
                        None => AcceptOutcome::NotFound,
                        Some("closed") => AcceptOutcome::Closed,
                        Some(_) => AcceptOutcome::AlreadyAssigned,
                    });
                };
                upsert_participant(&mut *tx, conversation_id, worker_id, "worker", now).await?;
                let message = insert_message_row(&mut *tx, &announcement, Some(seq)).await?;
                sqlx::query("UPDATE users SET last_assigned_at = $2 WHERE id = $1")
                    .bind(worker_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                insert_audit_rows(&mut *tx, std::slice::from_ref(&audit)).await?;
                let sql = format!("{CONVERSATION_SELECT} WHERE c.id = $1");
                let conv = sqlx::query_as::<_, ConversationRecord>(&sql).bind(conversation_id).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                Ok(AcceptOutcome::Accepted(conv, message))
            }

            async fn insert_message(&self, m: NewMessage) -> $crate::store::Result<InsertOutcome> {
                match self.insert_messages(std::slice::from_ref(&m)).await {
                    Ok(mut out) => out.pop().ok_or_else(|| StoreError::Corrupt("no outcome for a message".into())),
                    Err(e) if e.is_unique_violation() => {
                        // The same sender raced itself with one client_msg_id through another
                        // node: the other commit won, and this is its resend.
                        let (Some(sender), Some(client_id)) = (&m.sender_id, &m.client_msg_id) else {
                            return Err(e);
                        };
                        match find_by_client_id(self.writer(), sender, client_id).await? {
                            Some(existing) => Ok(InsertOutcome::Duplicate(existing)),
                            None => Err(e),
                        }
                    }
                    Err(e) => Err(e),
                }
            }

            async fn insert_messages(&self, batch: &[NewMessage]) -> $crate::store::Result<Vec<InsertOutcome>> {
                // Each store chooses how: SQLite runs most batches on its connection's own
                // thread in one go (`sqlite_batch.rs`); otherwise `write_batch_in_tx`.
                self.write_messages(batch).await
            }

            async fn message_by_client_id(&self, sender_id: &str, client_msg_id: &str) -> $crate::store::Result<Option<MessageRecord>> {
                find_by_client_id(self.reader(), sender_id, client_msg_id).await
            }

            async fn take_lease(&self, job: &str, holder: &str, now: i64, expires_at: i64) -> $crate::store::Result<bool> {
                let won: Option<(String,)> = sqlx::query_as(
                    "INSERT INTO job_leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at \
                     WHERE job_leases.expires_at <= $4 OR job_leases.holder = excluded.holder RETURNING holder",
                )
                .bind(job)
                .bind(holder)
                .bind(expires_at)
                .bind(now)
                .fetch_optional(self.writer())
                .await?;
                Ok(won.is_some())
            }

            fn message_writers(&self) -> usize {
                self.concurrent_writers()
            }

            fn message_batches_block(&self) -> bool {
                self.batches_block()
            }

            async fn messages_after(
                &self,
                conversation_id: &str,
                after_seq: i64,
                limit: u32,
            ) -> $crate::store::Result<Vec<MessageRecord>> {
                let sql = format!(
                    "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq > $2 ORDER BY seq LIMIT $3"
                );
                Ok(sqlx::query_as::<_, MessageRecord>(&sql)
                    .bind(conversation_id)
                    .bind(after_seq)
                    .bind(i64::from(limit))
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn mark_read(&self, conversation_id: &str, user_id: &str, seq: i64, now: i64) -> $crate::store::Result<i64> {
                let (stored,): (i64,) = sqlx::query_as(
                    "INSERT INTO read_markers (conversation_id, user_id, seq, updated_at) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (conversation_id, user_id) DO UPDATE SET \
                     seq = CASE WHEN excluded.seq > read_markers.seq THEN excluded.seq ELSE read_markers.seq END, \
                     updated_at = excluded.updated_at RETURNING seq",
                )
                .bind(conversation_id)
                .bind(user_id)
                .bind(seq)
                .bind(now)
                .fetch_one(self.writer())
                .await?;
                Ok(stored)
            }

            async fn message(&self, id: &str) -> $crate::store::Result<Option<MessageRecord>> {
                let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = $1");
                Ok(sqlx::query_as::<_, MessageRecord>(&sql).bind(id).fetch_optional(self.reader()).await?)
            }

            async fn create_room(&self, r: NewRoom, audit: AuditEvent) -> $crate::store::Result<ConversationRecord> {
                let mut tx = self.writer().begin().await?;
                sqlx::query(
                    "INSERT INTO conversations (id, kind, state, topic, created_at, age_band, moderation_mode, pii_mode, created_by) \
                     VALUES ($1, 'room', 'open', $2, $3, $4, $5, $6, $7)",
                )
                .bind(&r.id)
                .bind(&r.topic)
                .bind(r.now)
                .bind(&r.age_band)
                .bind(&r.moderation_mode)
                .bind(&r.pii_mode)
                .bind(&r.created_by)
                .execute(&mut *tx)
                .await?;
                let sql = format!("{CONVERSATION_SELECT} WHERE c.id = $1");
                let room = sqlx::query_as::<_, ConversationRecord>(&sql).bind(&r.id).fetch_one(&mut *tx).await?;
                commit_step(tx, Some(()), &audit).await?;
                Ok(room)
            }

            async fn rooms(&self) -> $crate::store::Result<Vec<ConversationRecord>> {
                let sql = format!("{CONVERSATION_SELECT} WHERE c.kind = 'room' AND c.state <> 'closed' ORDER BY c.created_at, c.id");
                Ok(sqlx::query_as::<_, ConversationRecord>(&sql).fetch_all(self.reader()).await?)
            }

            async fn membership(&self, conversation_id: &str, user_id: &str) -> $crate::store::Result<Option<String>> {
                let row: Option<(String,)> = sqlx::query_as(
                    "SELECT role FROM participants WHERE conversation_id = $1 AND user_id = $2 AND left_at IS NULL",
                )
                .bind(conversation_id)
                .bind(user_id)
                .fetch_optional(self.reader())
                .await?;
                Ok(row.map(|r| r.0))
            }

            async fn join(&self, conversation_id: &str, user_id: &str, role: &str, now: i64, audit: Option<AuditEvent>)
                -> $crate::store::Result<()> {
                let mut tx = self.writer().begin().await?;
                upsert_participant(&mut *tx, conversation_id, user_id, role, now).await?;
                if let Some(e) = audit {
                    insert_audit_rows(&mut *tx, std::slice::from_ref(&e)).await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn leave(&self, conversation_id: &str, user_id: &str, now: i64) -> $crate::store::Result<()> {
                sqlx::query("UPDATE participants SET left_at = $3 WHERE conversation_id = $1 AND user_id = $2")
                    .bind(conversation_id)
                    .bind(user_id)
                    .bind(now)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn set_muted_until(&self, user_id: &str, until: Option<i64>) -> $crate::store::Result<()> {
                sqlx::query("UPDATE users SET muted_until = $2 WHERE id = $1")
                    .bind(user_id)
                    .bind(until)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn set_suspended(&self, user_id: &str, at: Option<i64>) -> $crate::store::Result<()> {
                let mut tx = self.writer().begin().await?;
                sqlx::query("UPDATE users SET suspended_at = $2 WHERE id = $1")
                    .bind(user_id)
                    .bind(at)
                    .execute(&mut *tx)
                    .await?;
                if let Some(at) = at {
                    sqlx::query("UPDATE refresh_families SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                        .bind(user_id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                }
                tx.commit().await?;
                Ok(())
            }

            async fn create_moderation_item(&self, item: NewModerationItem) -> $crate::store::Result<ModerationItemRecord> {
                insert_item_row(self.writer(), &item).await?;
                let sql = format!("SELECT {ITEM_COLUMNS} FROM moderation_items WHERE id = $1");
                Ok(sqlx::query_as::<_, ModerationItemRecord>(&sql).bind(&item.id).fetch_one(self.writer()).await?)
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
                    "UPDATE escalations SET state = 'acknowledged', acknowledged_by = $2, acknowledged_at = $3 \
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
                use $crate::store::sql::{pow2_chunks, Backend};
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
                    "UPDATE escalations SET state = 'resolved', resolved_by = $2, resolved_at = $3, outcome = $4, \
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
                    "SELECT {ESCALATION_COLUMNS} FROM escalations WHERE state = 'open' AND reescalated_at IS NULL \
                     AND deadline_at <= $1 ORDER BY deadline_at LIMIT 100"
                );
                Ok(sqlx::query_as::<_, EscalationRecord>(&sql).bind(now).fetch_all(self.reader()).await?)
            }

            async fn fire_reescalation(&self, id: &str, now: i64, alert_payload: &str, audit: AuditEvent) -> $crate::store::Result<bool> {
                let mut tx = self.writer().begin().await?;
                let n = sqlx::query(
                    "UPDATE escalations SET reescalated_at = $2 WHERE id = $1 AND state = 'open' \
                     AND reescalated_at IS NULL AND deadline_at <= $2",
                )
                .bind(id)
                .bind(now)
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

            async fn add_note(&self, n: NoteRecord) -> $crate::store::Result<()> {
                sqlx::query("INSERT INTO notes (id, conversation_id, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5)")
                    .bind(&n.id)
                    .bind(&n.conversation_id)
                    .bind(&n.author_id)
                    .bind(&n.body)
                    .bind(n.created_at)
                    .execute(self.writer())
                    .await?;
                Ok(())
            }

            async fn notes(&self, conversation_id: &str) -> $crate::store::Result<Vec<NoteRecord>> {
                Ok(sqlx::query_as::<_, NoteRecord>(
                    "SELECT n.id, n.conversation_id, n.author_id, u.display_name AS author_name, n.body, n.created_at \
                     FROM notes n LEFT JOIN users u ON u.id = n.author_id WHERE n.conversation_id = $1 ORDER BY n.created_at, n.id",
                )
                .bind(conversation_id)
                .fetch_all(self.reader())
                .await?)
            }

            async fn hand_over(
                &self,
                conversation_id: &str,
                from_worker: Option<&str>,
                handover: Handover,
                announcement: NewMessage,
                audit: AuditEvent,
                now: i64,
            ) -> $crate::store::Result<Option<(ConversationRecord, MessageRecord)>> {
                let mut tx = self.writer().begin().await?;
                let seq: Option<(i64,)> = match &handover {
                    Handover::Requeue => sqlx::query_as(
                        "UPDATE conversations SET state = 'queued', assigned_to = NULL, assigned_at = NULL, first_reply_at = NULL, \
                         requeued_at = $3, last_seq = last_seq + 1 \
                         WHERE id = $1 AND state = 'assigned' AND ($2 IS NULL OR assigned_to = $2) RETURNING last_seq",
                    )
                    .bind(conversation_id)
                    .bind(from_worker)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?,
                    Handover::Transfer { to } => sqlx::query_as(
                        "UPDATE conversations SET assigned_to = $3, assigned_at = $4, first_reply_at = NULL, last_seq = last_seq + 1 \
                         WHERE id = $1 AND state = 'assigned' AND ($2 IS NULL OR assigned_to = $2) RETURNING last_seq",
                    )
                    .bind(conversation_id)
                    .bind(from_worker)
                    .bind(to)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?,
                    Handover::Close { outcome, tags } => sqlx::query_as(
                        "UPDATE conversations SET state = 'closed', closed_at = $3, outcome = $4, tags = $5, last_seq = last_seq + 1 \
                         WHERE id = $1 AND state <> 'closed' AND ($2 IS NULL OR assigned_to = $2) RETURNING last_seq",
                    )
                    .bind(conversation_id)
                    .bind(from_worker)
                    .bind(now)
                    .bind(outcome)
                    .bind(tags.join(","))
                    .fetch_optional(&mut *tx)
                    .await?,
                };
                let Some((seq,)) = seq else {
                    tx.rollback().await?;
                    return Ok(None);
                };
                // Whoever leaves stops being a participant; a transfer's new worker joins.
                if let Some(from) = from_worker {
                    if !matches!(handover, Handover::Close { .. }) {
                        sqlx::query("UPDATE participants SET left_at = $3 WHERE conversation_id = $1 AND user_id = $2")
                            .bind(conversation_id)
                            .bind(from)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
                if let Handover::Transfer { to } = &handover {
                    upsert_participant(&mut *tx, conversation_id, to, "worker", now).await?;
                }
                let message = insert_message_row(&mut *tx, &announcement, Some(seq)).await?;
                insert_audit_rows(&mut *tx, std::slice::from_ref(&audit)).await?;
                let sql = format!("{CONVERSATION_SELECT} WHERE c.id = $1");
                let conv = sqlx::query_as::<_, ConversationRecord>(&sql).bind(conversation_id).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                Ok(Some((conv, message)))
            }

            async fn mark_first_reply(&self, conversation_id: &str, worker_id: &str, now: i64) -> $crate::store::Result<()> {
                sqlx::query(
                    "UPDATE conversations SET first_reply_at = $3 WHERE id = $1 AND assigned_to = $2 AND first_reply_at IS NULL",
                )
                .bind(conversation_id)
                .bind(worker_id)
                .bind(now)
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn unanswered_assignments(&self, assigned_before: i64) -> $crate::store::Result<Vec<ConversationRecord>> {
                let sql = format!(
                    "{CONVERSATION_SELECT} WHERE c.state = 'assigned' AND c.first_reply_at IS NULL AND c.assigned_at <= $1 \
                     ORDER BY c.assigned_at LIMIT 100"
                );
                Ok(sqlx::query_as::<_, ConversationRecord>(&sql).bind(assigned_before).fetch_all(self.reader()).await?)
            }

            async fn end_sessions(&self, user_id: &str, new_password_hash: Option<&str>, now: i64, audit: Option<AuditEvent>)
                -> $crate::store::Result<()> {
                let mut tx = self.writer().begin().await?;
                sqlx::query("UPDATE users SET tokens_valid_after = $2, password_hash = COALESCE($3, password_hash) WHERE id = $1")
                    .bind(user_id)
                    .bind(now)
                    .bind(new_password_hash)
                    .execute(&mut *tx)
                    .await?;
                sqlx::query("UPDATE refresh_families SET revoked_at = $2 WHERE user_id = $1 AND revoked_at IS NULL")
                    .bind(user_id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                if let Some(audit) = audit {
                    insert_audit_rows(&mut *tx, std::slice::from_ref(&audit)).await?;
                }
                tx.commit().await?;
                Ok(())
            }

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

            async fn erase_user(&self, user_id: &str, now: i64, audit: &(dyn for<'k> Fn(&'k [String]) -> AuditEvent + Sync)) -> $crate::store::Result<Vec<String>> {
                let mut tx = self.writer().begin().await?;
                let held: Vec<(String,)> = sqlx::query_as(
                    "SELECT id FROM conversations WHERE owner_id = $1 AND hold_reason IS NOT NULL",
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
                if held.is_empty() {
                    sqlx::query("DELETE FROM users WHERE id = $1").bind(user_id).execute(&mut *tx).await?;
                } else {
                    sqlx::query("UPDATE users SET display_name = 'Former member', username = NULL, password_hash = NULL, \
                         suspended_at = $2 WHERE id = $1")
                        .bind(user_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                }
                let held: Vec<String> = held.into_iter().map(|h| h.0).collect();
                insert_audit_rows(&mut tx, &[audit(&held)]).await?;
                tx.commit().await?;
                Ok(held)
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

            async fn audit_since(&self, since: i64, limit: u32) -> $crate::store::Result<Vec<AuditEvent>> {
                Ok(sqlx::query_as::<_, AuditEvent>(
                    "SELECT id, at, actor_id, action, target_type, target_id, details FROM audit_events \
                     WHERE at >= $1 ORDER BY at DESC, id DESC LIMIT $2",
                )
                .bind(since)
                .bind(i64::from(limit))
                .fetch_all(self.reader())
                .await?)
            }

            async fn append_audit(&self, e: AuditEvent) -> $crate::store::Result<()> {
                let mut conn = self.writer().acquire().await?;
                insert_audit_rows(&mut conn, std::slice::from_ref(&e)).await
            }

            async fn append_audits(&self, events: &[AuditEvent]) -> $crate::store::Result<()> {
                let mut tx = self.writer().begin().await?;
                insert_audit_rows(&mut tx, events).await?;
                tx.commit().await?;
                Ok(())
            }

            async fn audit_for_target(&self, target_type: &str, target_id: &str) -> $crate::store::Result<Vec<AuditEvent>> {
                Ok(sqlx::query_as::<_, AuditEvent>(
                    "SELECT id, at, actor_id, action, target_type, target_id, details FROM audit_events \
                     WHERE target_type = $1 AND target_id = $2 ORDER BY at, id",
                )
                .bind(target_type)
                .bind(target_id)
                .fetch_all(self.reader())
                .await?)
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

        /// A batch of messages in one transaction of its own, through sqlx (PostgreSQL keeps
        /// its connections and calls `write_batch_on`).
        #[allow(dead_code)]
        async fn write_batch_in_tx(
            pool: &sqlx::Pool<<$store as $crate::store::sql::Backend>::Db>,
            batch: &[NewMessage],
        ) -> $crate::store::Result<Vec<InsertOutcome>> {
            write_batch_on(&mut *pool.acquire().await?, batch).await
        }

        /// The same, on a connection the caller holds.
        async fn write_batch_on(conn: &mut Conn, batch: &[NewMessage]) -> $crate::store::Result<Vec<InsertOutcome>> {
            let mut tx = sqlx::Connection::begin_with(conn, <$store as $crate::store::sql::Backend>::BEGIN_WRITE).await?;
            let out = insert_batch(&mut tx, batch).await?;
            tx.commit().await?;
            Ok(out)
        }

        /// The statements of a batch of messages, inside its transaction. However many
        /// messages, a handful of statements (chunks of power-of-two sizes, so that each
        /// connection prepares only a few distinct statements): the resend check, the
        /// conversations (locked, in id order, so concurrent batches on several nodes queue
        /// instead of deadlocking), their new `last_seq`, and the rows. Holds, risk and
        /// escalations, which are rare, take their own statements.
        async fn insert_batch(
            tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
            batch: &[NewMessage],
        ) -> $crate::store::Result<Vec<InsertOutcome>> {
            use std::collections::HashMap;
            use $crate::store::sql::{plan_batch, pow2_chunks, Backend, BatchConversation, BatchPlan};

            // Placeholders are numbered in the order they appear and bound in that order:
            // SQLite's anonymous `?` costs nothing to bind, where `$n` makes each bind search
            // the statement's parameter names (quadratic in a 900-parameter insert).
            let p = <$store as Backend>::param;
            let params = |first: usize, count: usize| -> String { (first..first + count).map(p).collect::<Vec<_>>().join(", ") };

            // Resends already stored.
            let keyed: Vec<(&str, &str)> =
                batch.iter().filter_map(|m| Some((m.sender_id.as_deref()?, m.client_msg_id.as_deref()?))).collect();
            let mut earlier: HashMap<(String, String), MessageRecord> = HashMap::new();
            for part in pow2_chunks(&keyed, 128) {
                let cond = (0..part.len())
                    .map(|k| format!("(sender_id = {} AND client_msg_id = {})", p(2 * k + 1), p(2 * k + 2)))
                    .collect::<Vec<_>>()
                    .join(" OR ");
                let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE {cond}");
                let mut q = sqlx::query_as::<_, MessageRecord>(&sql);
                for (sender, client_id) in part {
                    q = q.bind(*sender).bind(*client_id);
                }
                for rec in q.fetch_all(&mut **tx).await? {
                    let key = (rec.sender_id.clone().unwrap_or_default(), rec.client_msg_id.clone().unwrap_or_default());
                    earlier.insert(key, rec);
                }
            }

            // The conversations, locked in id order.
            let mut ids: Vec<&str> = batch.iter().map(|m| m.conversation_id.as_str()).collect();
            ids.sort_unstable();
            ids.dedup();
            let mut convs: HashMap<String, BatchConversation> = HashMap::with_capacity(ids.len());
            for part in pow2_chunks(&ids, 128) {
                let sql = format!(
                    "SELECT id, state, assigned_to, last_seq FROM conversations WHERE id IN ({}) ORDER BY id{}",
                    params(1, part.len()),
                    <$store as Backend>::LOCK_ROWS
                );
                let mut q = sqlx::query_as::<_, (String, String, Option<String>, i64)>(&sql);
                for id in part {
                    q = q.bind(*id);
                }
                for (id, state, assigned_to, last_seq) in q.fetch_all(&mut **tx).await? {
                    convs.insert(id, BatchConversation { state, assigned_to, last_seq });
                }
            }

            let BatchPlan { outcomes, rows, bumped } = plan_batch(batch, &earlier, convs);

            // PostgreSQL writes a small batch's new `last_seq`s and its rows in one statement (a
            // data-modifying CTE): one round trip fewer for the usual batch of a few messages.
            // At most 8 × 8 shapes, so each connection keeps them all prepared.
            let small = (1..=8).contains(&bumped.len()) && (1..=8).contains(&rows.len());
            if <$store as Backend>::DATA_MODIFYING_CTE && small {
                let values = (0..rows.len())
                    .map(|r| format!("({})", params(3 * bumped.len() + 14 * r + 1, 14)))
                    .collect::<Vec<_>>()
                    .join(", ");
                let sql = format!(
                    "WITH bumped AS ({}) INSERT INTO messages ({}) VALUES {values}",
                    bump_statement(bumped.len()),
                    $crate::store::sql::MESSAGE_INSERT_COLUMNS
                );
                let mut q = bind_bumps(sqlx::query(&sql), &bumped);
                for (m, seq) in &rows {
                    q = bind_message_row(q, m, *seq);
                }
                q.execute(&mut **tx).await?;
                return finish_batch(tx, rows, outcomes).await;
            }

            // The new `last_seq` of each conversation that took messages.
            for part in pow2_chunks(&bumped, 128) {
                let sql = bump_statement(part.len());
                bind_bumps(sqlx::query(&sql), part).execute(&mut **tx).await?;
            }

            insert_message_rows(&mut **tx, &rows).await?;
            finish_batch(tx, rows, outcomes).await
        }

        /// The rarer rows of a stored batch: moderation items and risk.
        async fn finish_batch(
            tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
            rows: Vec<(&NewMessage, Option<i64>)>,
            outcomes: Vec<InsertOutcome>,
        ) -> $crate::store::Result<Vec<InsertOutcome>> {
            for (m, _) in &rows {
                if let Some(item) = &m.hold {
                    insert_item_row(&mut **tx, item).await?;
                }
                raise_risk(tx, m).await?;
            }
            Ok(outcomes)
        }

        /// Sets `last_seq` of `n` conversations; its parameters are `n` pairs (id, seq), then the
        /// `n` ids ([`bind_bumps`]).
        fn bump_statement(n: usize) -> String {
            use $crate::store::sql::Backend;
            let p = <$store as Backend>::param;
            let cases: String = (0..n).map(|k| format!(" WHEN {} THEN CAST({} AS BIGINT)", p(2 * k + 1), p(2 * k + 2))).collect();
            let ids = (2 * n + 1..=3 * n).map(p).collect::<Vec<_>>().join(", ");
            format!("UPDATE conversations SET last_seq = CASE id{cases} END WHERE id IN ({ids})")
        }

        fn bind_bumps<'q>(
            mut q: Query<'q>,
            bumped: &'q [(String, i64)],
        ) -> Query<'q> {
            for (id, seq) in bumped {
                q = q.bind(id).bind(*seq);
            }
            for (id, _) in bumped {
                q = q.bind(id);
            }
            q
        }

        /// Binds a directory entry's id, its details and its search text ($1 to $11), in the
        /// order both of its writes use.
        fn bind_service<'q>(q: Query<'q>, r: &'q $crate::store::ServiceRecord) -> Query<'q> {
            q.bind(&r.id)
                .bind(&r.name)
                .bind(&r.category)
                .bind(&r.description)
                .bind(&r.area)
                .bind(&r.phone)
                .bind(&r.url)
                .bind(&r.hours)
                .bind(r.min_age)
                .bind(r.max_age)
                .bind($crate::store::sql::service_search_text(r))
        }

        /// Binds a message row's 14 values, in the order of `MESSAGE_INSERT_COLUMNS`.
        fn bind_message_row<'q>(
            q: Query<'q>,
            m: &'q NewMessage,
            seq: Option<i64>,
        ) -> Query<'q> {
            q.bind(&m.id)
                .bind(&m.conversation_id)
                .bind(seq)
                .bind($crate::store::sql::message_status(m))
                .bind(&m.original_body)
                .bind(&m.sender_id)
                .bind(&m.sender_role)
                .bind(&m.sender_name)
                .bind(&m.client_msg_id)
                .bind(&m.body)
                .bind(&m.kind)
                .bind(m.sent_at)
                .bind(&m.severity)
                .bind(&m.verdict)
        }

        type Conn = <<$store as $crate::store::sql::Backend>::Db as sqlx::Database>::Connection;
        type Query<'q> = sqlx::query::Query<'q, <$store as $crate::store::sql::Backend>::Db, <<$store as $crate::store::sql::Backend>::Db as sqlx::Database>::Arguments<'q>>;

        /// Commits a step that changes one row (`changed`, as `RETURNING` gave it), with its
        /// audit entry if the step happened: a step that did not happen leaves no entry.
        async fn commit_step<T>(
            tx: sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
            changed: Option<T>,
            audit: &AuditEvent,
        ) -> $crate::store::Result<Option<T>> {
            let audits = if changed.is_some() { std::slice::from_ref(audit) } else { &[] };
            commit_with_audits(tx, audits).await?;
            Ok(changed)
        }

        /// Commits a change with its audit entries, written in its transaction.
        async fn commit_with_audits(
            mut tx: sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
            audits: &[AuditEvent],
        ) -> $crate::store::Result<()> {
            insert_audit_rows(&mut *tx, audits).await?;
            tx.commit().await?;
            Ok(())
        }

        /// Audit entries, inside the transaction of the action they record where there is
        /// one; up to 64 rows a statement.
        async fn insert_audit_rows(conn: &mut Conn, events: &[AuditEvent]) -> $crate::store::Result<()> {
            use $crate::store::sql::{pow2_chunks, Backend};
            let p = <$store as Backend>::param;
            for part in pow2_chunks(events, 64) {
                let values = $crate::store::sql::row_placeholders(part.len(), 7, p);
                let sql =
                    format!("INSERT INTO audit_events (id, at, actor_id, action, target_type, target_id, details) VALUES {values}");
                let mut q = sqlx::query(&sql);
                for e in part {
                    q = q.bind(&e.id).bind(e.at).bind(&e.actor_id).bind(&e.action).bind(&e.target_type).bind(&e.target_id).bind(&e.details);
                }
                q.execute(&mut *conn).await?;
            }
            Ok(())
        }

        /// Message rows with their `seq`; up to 64 rows a statement (see [`pow2_chunks`]).
        async fn insert_message_rows(conn: &mut Conn, rows: &[(&NewMessage, Option<i64>)]) -> $crate::store::Result<()> {
            use $crate::store::sql::{pow2_chunks, Backend};
            let p = <$store as Backend>::param;
            for part in pow2_chunks(rows, 64) {
                let values = $crate::store::sql::row_placeholders(part.len(), 14, p);
                let sql = format!("INSERT INTO messages ({}) VALUES {values}", $crate::store::sql::MESSAGE_INSERT_COLUMNS);
                let mut q = sqlx::query(&sql);
                for (m, seq) in part {
                    q = bind_message_row(q, m, *seq);
                }
                q.execute(&mut *conn).await?;
            }
            Ok(())
        }

        async fn insert_message_row(conn: &mut Conn, m: &NewMessage, seq: Option<i64>) -> $crate::store::Result<MessageRecord> {
            insert_message_rows(conn, &[(m, seq)]).await?;
            Ok($crate::store::sql::message_record(m, seq))
        }

        /// In the message's transaction: the conversation's risk rises to the message's
        /// severity, and a high or critical message raises its escalation.
        async fn raise_risk(
            tx: &mut sqlx::Transaction<'_, <$store as $crate::store::sql::Backend>::Db>,
            m: &NewMessage,
        ) -> $crate::store::Result<()> {
            let rank = $crate::store::sql::severity_rank(&m.severity);
            if rank > 0 {
                sqlx::query("UPDATE conversations SET risk = $2, risk_rank = $3 WHERE id = $1 AND risk_rank < $3")
                    .bind(&m.conversation_id)
                    .bind(&m.severity)
                    .bind(rank)
                    .execute(&mut **tx)
                    .await?;
            }
            if let Some(e) = &m.escalation {
                insert_escalation_row(&mut **tx, e).await?;
            }
            Ok(())
        }

        /// The escalation and its audit entry, inside the caller's transaction.
        async fn insert_escalation_row(conn: &mut Conn, e: &NewEscalation) -> $crate::store::Result<()> {
            sqlx::query(
                "INSERT INTO escalations (id, conversation_id, message_id, severity, reason, source, raised_by, state, \
                 created_at, deadline_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'open', $8, $9)",
            )
            .bind(&e.id)
            .bind(&e.conversation_id)
            .bind(&e.message_id)
            .bind(&e.severity)
            .bind(&e.reason)
            .bind(&e.source)
            .bind(&e.raised_by)
            .bind(e.created_at)
            .bind(e.deadline_at)
            .execute(&mut *conn)
            .await?;
            insert_audit_rows(conn, std::slice::from_ref(&e.audit)).await
        }

        /// Makes the user a current participant (again, if they had left).
        async fn upsert_participant<'c, E>(
            executor: E,
            conversation_id: &str,
            user_id: &str,
            role: &str,
            now: i64,
        ) -> $crate::store::Result<()>
        where
            E: sqlx::Executor<'c, Database = <$store as $crate::store::sql::Backend>::Db>,
        {
            sqlx::query(
                "INSERT INTO participants (conversation_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (conversation_id, user_id) DO UPDATE SET left_at = NULL",
            )
            .bind(conversation_id)
            .bind(user_id)
            .bind(role)
            .bind(now)
            .execute(executor)
            .await?;
            Ok(())
        }

        async fn insert_item_row<'c, E>(executor: E, item: &NewModerationItem) -> $crate::store::Result<()>
        where
            E: sqlx::Executor<'c, Database = <$store as $crate::store::sql::Backend>::Db>,
        {
            sqlx::query(
                "INSERT INTO moderation_items (id, kind, conversation_id, message_id, subject_user_id, reporter_id, reason, \
                 severity, severity_rank, evidence, state, created_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'open', $11)",
            )
            .bind(&item.id)
            .bind(&item.kind)
            .bind(&item.conversation_id)
            .bind(&item.message_id)
            .bind(&item.subject_user_id)
            .bind(&item.reporter_id)
            .bind(&item.reason)
            .bind(&item.severity)
            .bind($crate::store::sql::severity_rank(&item.severity))
            .bind(&item.evidence)
            .bind(item.created_at)
            .execute(executor)
            .await?;
            Ok(())
        }

        /// The message's `seq`: the next one of its conversation, or none while held for
        /// moderation (a held message takes no lock on the counter until approved). `None`
        /// when the conversation is closed or gone.
        async fn find_by_client_id(
            pool: &sqlx::Pool<<$store as $crate::store::sql::Backend>::Db>,
            sender: &str,
            client_id: &str,
        ) -> $crate::store::Result<Option<MessageRecord>> {
            let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE sender_id = $1 AND client_msg_id = $2");
            Ok(sqlx::query_as::<_, MessageRecord>(&sql).bind(sender).bind(client_id).fetch_optional(pool).await?)
        }
    };
}

pub(crate) use impl_sql_store;

/// Ties a store type to its sqlx database.
pub(crate) trait Backend {
    type Db: sqlx::Database;
    /// Appended to a `SELECT` whose rows the transaction goes on to update: PostgreSQL locks
    /// them now, in the statement's order; SQLite's one writer needs nothing.
    const LOCK_ROWS: &'static str;
    /// Begins a transaction that reads and then writes what it read: SQLite takes the write
    /// lock at once (a deferred one could not upgrade once another connection wrote).
    const BEGIN_WRITE: &'static str;
    /// The `n`th (from 1) placeholder of a statement whose parameters are bound in the order
    /// they appear.
    fn param(n: usize) -> String;
    /// `WITH … AS (UPDATE …) INSERT …` in one statement (PostgreSQL; SQLite has no such thing).
    const DATA_MODIFYING_CTE: bool = false;
}

/// `items` in chunks of at most `max` whose sizes are powers of two, largest first: a batch
/// of any size becomes a few statements of a few distinct shapes, which each connection's
/// statement cache keeps prepared.
pub(crate) fn pow2_chunks<T>(items: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    debug_assert!(max.is_power_of_two());
    let mut rest = items;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let size = max.min(1 << rest.len().ilog2());
        let (head, tail) = rest.split_at(size);
        rest = tail;
        Some(head)
    })
}

#[cfg(test)]
mod tests {
    use super::pow2_chunks;

    #[test]
    fn chunks_are_powers_of_two_largest_first() {
        let items: Vec<u32> = (0..300).collect();
        let sizes: Vec<usize> = pow2_chunks(&items, 128).map(<[u32]>::len).collect();
        assert_eq!(sizes, vec![128, 128, 32, 8, 4]);
        let joined: Vec<u32> = pow2_chunks(&items, 128).flatten().copied().collect();
        assert_eq!(joined, items, "in order, nothing lost or repeated");
        assert_eq!(pow2_chunks(&items[..0], 64).count(), 0);
        assert_eq!(pow2_chunks(&items[..7], 64).map(<[u32]>::len).collect::<Vec<_>>(), vec![4, 2, 1]);
    }
}
