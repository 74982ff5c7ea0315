//! Accounts and their sessions (refresh tokens, WebSocket tickets).

use async_trait::async_trait;

use super::{AuditEvent, NewUser, Result, RotateOutcome, UserRecord};

pub(crate) const USER_COLUMNS: &str =
    "id, role, username, password_hash, display_name, created_at, suspended_at, muted_until, on_duty, capacity, tokens_valid_after";

/// Accounts and their sessions: refresh-token families, WebSocket tickets, suspension and mute.
#[async_trait]
pub trait Users: Send + Sync + 'static {
    /// Creates an account, with `audit` (if any) in the same transaction.
    async fn create_user(&self, user: NewUser, audit: Option<AuditEvent>) -> Result<UserRecord>;
    async fn user(&self, id: &str) -> Result<Option<UserRecord>>;
    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>>;
    /// Every staff account (duty workers, supervisors, moderators, YOT admins), by name.
    async fn staff_accounts(&self) -> Result<Vec<UserRecord>>;

    async fn create_refresh_token(
        &self,
        family_id: Option<&str>,
        user_id: &str,
        token_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<()>;
    /// Spends `old_hash` and stores `new_hash` in its family, or detects reuse.
    async fn rotate_refresh_token(
        &self,
        old_hash: &str,
        new_hash: &str,
        now: i64,
        expires_at: i64,
    ) -> Result<RotateOutcome>;
    /// Revokes the family of a token (logout). Returns the user it belonged to.
    async fn revoke_refresh_family(&self, token_hash: &str, now: i64) -> Result<Option<String>>;

    async fn create_ws_ticket(&self, ticket_hash: &str, user_id: &str, expires_at: i64) -> Result<()>;
    /// Deletes the ticket and returns its user if it existed and had not expired.
    async fn consume_ws_ticket(&self, ticket_hash: &str, now: i64) -> Result<Option<String>>;

    async fn set_muted_until(&self, user_id: &str, until: Option<i64>) -> Result<()>;
    /// Suspends (or lifts) an account; suspending also revokes every refresh token.
    async fn set_suspended(&self, user_id: &str, at: Option<i64>) -> Result<()>;
    /// Ends every session of a user: refresh tokens revoked, access tokens issued before `now`
    /// refused; optionally with a new password hash, and `audit` in the same transaction.
    async fn end_sessions(
        &self,
        user_id: &str,
        new_password_hash: Option<&str>,
        now: i64,
        audit: Option<AuditEvent>,
    ) -> Result<()>;
}

/// The SQL of [`Users`], the same for both databases; instantiated for each store type by
/// `impl_sql_store!` (`sql.rs`).
macro_rules! impl_users_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::store::users::USER_COLUMNS;

            #[async_trait::async_trait]
            impl $crate::store::Users for $store {
                async fn create_user(&self, u: NewUser, audit: Option<AuditEvent>) -> $crate::store::Result<UserRecord> {
                    let mut tx = self.writer().begin().await?;
                    let res = sqlx::query(
                        "INSERT INTO users (id, role, username, password_hash, display_name, created_at) \
                         VALUES ($1, $2, $3, $4, $5, $6)",
                    )
                    .bind(&u.id)
                    .bind(u.role.as_str())
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

                async fn staff_accounts(&self) -> $crate::store::Result<Vec<UserRecord>> {
                    let sql = format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE role IN ('duty_worker', 'supervisor', 'moderator', 'yot_admin') \
                         ORDER BY display_name, id"
                    );
                    Ok(sqlx::query_as::<_, UserRecord>(&sql).fetch_all(self.reader()).await?)
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
            }
        };
    };
}

pub(crate) use impl_users_sql;
