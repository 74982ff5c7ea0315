//! Sessions: one per sign-in (a refresh-token family), their rotating refresh tokens, and the
//! WebSocket tickets issued within them.

use async_trait::async_trait;

use super::{AuditEvent, NewSession, Result, RotateOutcome, SessionRecord, TicketGrant};

pub(crate) const SESSION_COLUMNS: &str = "f.id, f.user_id, f.created_at, f.last_seen_at, f.revoked_at, f.user_agent, \
     f.source_ip, f.method, f.end_reason, \
     COALESCE((SELECT MAX(t.expires_at) FROM refresh_tokens t WHERE t.family_id = f.id), 0) AS expires_at";

/// Sessions and what belongs to them: refresh tokens (rotated, with reuse detection) and
/// WebSocket tickets.
#[async_trait]
pub trait Sessions: Send + Sync + 'static {
    /// Starts a session with its first refresh token.
    async fn start_session(&self, session: &NewSession, token_hash: &str, expires_at: i64) -> Result<()>;
    /// Spends `old_hash` and stores `new_hash` in its session, or detects reuse (which ends the
    /// session).
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<RotateOutcome>;
    /// Ends the session a refresh token belongs to (sign-out). Returns (session id, user id).
    async fn end_session_of_token(&self, token_hash: &str, now: i64, reason: &str) -> Result<Option<(String, String)>>;
    async fn session(&self, id: &str) -> Result<Option<SessionRecord>>;
    /// Records that the session was used at `now`.
    async fn touch_session(&self, id: &str, now: i64) -> Result<()>;
    /// The user's live sessions (not ended, not expired), newest first.
    async fn live_sessions_of(&self, user_id: &str, now: i64) -> Result<Vec<SessionRecord>>;
    /// Ends one live session of `user_id`, with `audit` in the same transaction; false if it
    /// has no such live session.
    async fn end_session(
        &self,
        user_id: &str,
        session_id: &str,
        now: i64,
        reason: &str,
        audit: Option<AuditEvent>,
    ) -> Result<bool>;
    /// Ends every live session of the user but `keep`; returns how many ended.
    async fn end_other_sessions(
        &self,
        user_id: &str,
        keep: Option<&str>,
        now: i64,
        reason: &str,
        audit: Option<AuditEvent>,
    ) -> Result<u64>;
    /// (session id, user id) of every session that ended at or after `since`.
    async fn sessions_ended_since(&self, since: i64) -> Result<Vec<(String, String)>>;

    async fn create_ws_ticket(&self, ticket_hash: &str, grant: &TicketGrant, expires_at: i64) -> Result<()>;
    /// Deletes the ticket and returns what it grants if it existed and had not expired.
    async fn consume_ws_ticket(&self, ticket_hash: &str, now: i64) -> Result<Option<TicketGrant>>;
}

/// The SQL of [`Sessions`], the same for both databases; instantiated for each store type by
/// `impl_sql_store!` (`sql.rs`).
macro_rules! impl_sessions_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::store::sessions::SESSION_COLUMNS;

            #[async_trait::async_trait]
            impl $crate::store::Sessions for $store {
                async fn start_session(&self, s: &NewSession, token_hash: &str, expires_at: i64) -> $crate::store::Result<()> {
                    let mut tx = self.writer().begin().await?;
                    sqlx::query(
                        "INSERT INTO refresh_families (id, user_id, created_at, last_seen_at, user_agent, source_ip, method) \
                         VALUES ($1, $2, $3, $3, $4, $5, $6)",
                    )
                    .bind(&s.id)
                    .bind(&s.user_id)
                    .bind(s.created_at)
                    .bind(&s.user_agent)
                    .bind(&s.source_ip)
                    .bind(&s.method)
                    .execute(&mut *tx)
                    .await?;
                    sqlx::query(
                        "INSERT INTO refresh_tokens (token_hash, family_id, issued_at, expires_at) VALUES ($1, $2, $3, $4)",
                    )
                    .bind(token_hash)
                    .bind(&s.id)
                    .bind(s.created_at)
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
                        sqlx::query("UPDATE refresh_families SET revoked_at = $2, end_reason = 'refresh_token_reused' WHERE id = $1")
                            .bind(&family)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                        tx.commit().await?;
                        return Ok(RotateOutcome::Reused { user_id, session_id: family });
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
                    sqlx::query("UPDATE refresh_families SET last_seen_at = $2 WHERE id = $1")
                        .bind(&family)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(RotateOutcome::Rotated { user_id, session_id: family })
                }

                async fn end_session_of_token(&self, token_hash: &str, now: i64, reason: &str)
                    -> $crate::store::Result<Option<(String, String)>> {
                    let mut tx = self.writer().begin().await?;
                    let row: Option<(String, String)> = sqlx::query_as(
                        "SELECT f.id, f.user_id FROM refresh_tokens t JOIN refresh_families f ON f.id = t.family_id \
                         WHERE t.token_hash = $1",
                    )
                    .bind(token_hash)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some((family, user_id)) = row else { return Ok(None) };
                    sqlx::query("UPDATE refresh_families SET revoked_at = $2, end_reason = $3 WHERE id = $1 AND revoked_at IS NULL")
                        .bind(&family)
                        .bind(now)
                        .bind(reason)
                        .execute(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    Ok(Some((family, user_id)))
                }

                async fn session(&self, id: &str) -> $crate::store::Result<Option<SessionRecord>> {
                    let sql = format!("SELECT {SESSION_COLUMNS} FROM refresh_families f WHERE f.id = $1");
                    Ok(sqlx::query_as::<_, SessionRecord>(&sql).bind(id).fetch_optional(self.reader()).await?)
                }

                async fn touch_session(&self, id: &str, now: i64) -> $crate::store::Result<()> {
                    sqlx::query("UPDATE refresh_families SET last_seen_at = $2 WHERE id = $1")
                        .bind(id)
                        .bind(now)
                        .execute(self.writer())
                        .await?;
                    Ok(())
                }

                async fn live_sessions_of(&self, user_id: &str, now: i64) -> $crate::store::Result<Vec<SessionRecord>> {
                    let sql = format!(
                        "SELECT {SESSION_COLUMNS} FROM refresh_families f WHERE f.user_id = $1 AND f.revoked_at IS NULL \
                         AND EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = f.id AND t.expires_at > $2) \
                         ORDER BY f.created_at DESC, f.id"
                    );
                    Ok(sqlx::query_as::<_, SessionRecord>(&sql).bind(user_id).bind(now).fetch_all(self.reader()).await?)
                }

                async fn end_session(
                    &self,
                    user_id: &str,
                    session_id: &str,
                    now: i64,
                    reason: &str,
                    audit: Option<AuditEvent>,
                ) -> $crate::store::Result<bool> {
                    let mut tx = self.writer().begin().await?;
                    let ended = sqlx::query(
                        "UPDATE refresh_families SET revoked_at = $3, end_reason = $4 \
                         WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL",
                    )
                    .bind(session_id)
                    .bind(user_id)
                    .bind(now)
                    .bind(reason)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected()
                        > 0;
                    if ended {
                        if let Some(audit) = audit {
                            insert_audit_rows(&mut tx, std::slice::from_ref(&audit)).await?;
                        }
                    }
                    tx.commit().await?;
                    Ok(ended)
                }

                async fn end_other_sessions(
                    &self,
                    user_id: &str,
                    keep: Option<&str>,
                    now: i64,
                    reason: &str,
                    audit: Option<AuditEvent>,
                ) -> $crate::store::Result<u64> {
                    let mut tx = self.writer().begin().await?;
                    let ended = sqlx::query(
                        "UPDATE refresh_families SET revoked_at = $3, end_reason = $4 \
                         WHERE user_id = $1 AND revoked_at IS NULL AND ($2 IS NULL OR id <> $2)",
                    )
                    .bind(user_id)
                    .bind(keep)
                    .bind(now)
                    .bind(reason)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
                    if let Some(audit) = audit {
                        insert_audit_rows(&mut tx, std::slice::from_ref(&audit)).await?;
                    }
                    tx.commit().await?;
                    Ok(ended)
                }

                async fn sessions_ended_since(&self, since: i64) -> $crate::store::Result<Vec<(String, String)>> {
                    Ok(sqlx::query_as("SELECT id, user_id FROM refresh_families WHERE revoked_at >= $1")
                        .bind(since)
                        .fetch_all(self.reader())
                        .await?)
                }

                async fn create_ws_ticket(&self, ticket_hash: &str, grant: &TicketGrant, expires_at: i64)
                    -> $crate::store::Result<()> {
                    sqlx::query(
                        "INSERT INTO ws_tickets (ticket_hash, user_id, expires_at, session_id, token_expires_at) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(ticket_hash)
                    .bind(&grant.user_id)
                    .bind(expires_at)
                    .bind(&grant.session_id)
                    .bind(grant.token_expires_at)
                    .execute(self.writer())
                    .await?;
                    Ok(())
                }

                async fn consume_ws_ticket(&self, ticket_hash: &str, now: i64) -> $crate::store::Result<Option<TicketGrant>> {
                    // DELETE … RETURNING makes the ticket single-use even when two upgrades race.
                    let row: Option<(String, i64, Option<String>, Option<i64>)> = sqlx::query_as(
                        "DELETE FROM ws_tickets WHERE ticket_hash = $1 RETURNING user_id, expires_at, session_id, token_expires_at",
                    )
                    .bind(ticket_hash)
                    .fetch_optional(self.writer())
                    .await?;
                    // Expired tickets of others are swept here too, so the table stays small.
                    sqlx::query("DELETE FROM ws_tickets WHERE expires_at <= $1").bind(now).execute(self.writer()).await?;
                    Ok(row.and_then(|(user_id, exp, session_id, token_expires_at)| {
                        // Tickets from before sessions were records name none: refused.
                        (exp > now).then_some(TicketGrant {
                            user_id,
                            session_id: session_id?,
                            token_expires_at: token_expires_at?,
                        })
                    }))
                }
            }
        };
    };
}

pub(crate) use impl_sessions_sql;
