//! Accounts: creating them, finding them, and their lifecycle (suspension, offboarding, role,
//! password), each of which ends the account's sessions in the same transaction.

use async_trait::async_trait;

use super::{AccountChange, AuditEvent, NewUser, Result, UserRecord};

pub(crate) const USER_COLUMNS: &str = "id, role, username, password_hash, display_name, created_at, suspended_at, \
     muted_until, on_duty, capacity, tokens_valid_after, offboarded_at, totp_secret, totp_last_step, oidc_subject";

/// Accounts: creation, look-up, mute, suspension, and the staff lifecycle.
#[async_trait]
pub trait Users: Send + Sync + 'static {
    /// Creates an account, with `audit` (if any) in the same transaction.
    async fn create_user(&self, user: NewUser, audit: Option<AuditEvent>) -> Result<UserRecord>;
    async fn user(&self, id: &str) -> Result<Option<UserRecord>>;
    async fn user_by_username(&self, username: &str) -> Result<Option<UserRecord>>;
    /// The account bound to an identity provider's subject (single sign-on).
    async fn user_by_oidc_subject(&self, subject: &str) -> Result<Option<UserRecord>>;
    /// Binds a new account to an identity provider's subject (its first single sign-on).
    async fn bind_oidc_subject(&self, user_id: &str, subject: &str) -> Result<()>;
    /// Every staff account (duty workers, supervisors, moderators, YOT admins), by name.
    async fn staff_accounts(&self) -> Result<Vec<UserRecord>>;

    async fn set_muted_until(&self, user_id: &str, until: Option<i64>) -> Result<()>;
    /// Suspends (or lifts) an account; suspending also ends every session and takes the
    /// account off duty.
    async fn set_suspended(&self, user_id: &str, at: Option<i64>) -> Result<()>;
    /// Ends every session of a user: refresh tokens revoked, access tokens issued before `now`
    /// refused; optionally with a new password hash, and `audit` in the same transaction.
    async fn end_sessions(
        &self,
        user_id: &str,
        new_password_hash: Option<&str>,
        now: i64,
        reason: &str,
        audit: Option<AuditEvent>,
    ) -> Result<()>;
    /// Changes a staff account's state or role (see [`AccountChange`]), ending every session
    /// of it and taking it off duty (except on reactivation), with `audit`, in one
    /// transaction. False when there is no such account, or it is offboarded.
    async fn change_account(&self, user_id: &str, change: AccountChange, now: i64, audit: AuditEvent) -> Result<bool>;
    /// Active (neither suspended nor offboarded) YOT admins.
    async fn active_admins(&self) -> Result<i64>;
    /// Stores a one-time password reset code (hashed) for the account, replacing any earlier
    /// one, with `audit`.
    async fn create_password_reset(
        &self,
        user_id: &str,
        token_hash: &str,
        now: i64,
        expires_at: i64,
        created_by: Option<&str>,
        audit: AuditEvent,
    ) -> Result<()>;
    /// The account a live password reset code is for (the code is not spent).
    async fn password_reset_for(&self, token_hash: &str, now: i64) -> Result<Option<String>>;
    /// Spends a password reset code: the account it was for, if it existed, had not expired and
    /// the account is active.
    async fn take_password_reset(&self, token_hash: &str, now: i64) -> Result<Option<String>>;
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

                async fn user_by_oidc_subject(&self, subject: &str) -> $crate::store::Result<Option<UserRecord>> {
                    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE oidc_subject = $1");
                    Ok(sqlx::query_as::<_, UserRecord>(&sql).bind(subject).fetch_optional(self.reader()).await?)
                }

                async fn bind_oidc_subject(&self, user_id: &str, subject: &str) -> $crate::store::Result<()> {
                    let res = sqlx::query("UPDATE users SET oidc_subject = $1 WHERE id = $2")
                        .bind(subject)
                        .bind(user_id)
                        .execute(self.writer())
                        .await;
                    match res {
                        Ok(_) => Ok(()),
                        Err(e) if is_unique_violation(&e) => Err(StoreError::Conflict("subject already bound")),
                        Err(e) => Err(e.into()),
                    }
                }

                async fn staff_accounts(&self) -> $crate::store::Result<Vec<UserRecord>> {
                    let sql = format!(
                        "SELECT {USER_COLUMNS} FROM users WHERE role IN ('duty_worker', 'supervisor', 'moderator', 'yot_admin') \
                         ORDER BY display_name, id"
                    );
                    Ok(sqlx::query_as::<_, UserRecord>(&sql).fetch_all(self.reader()).await?)
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
                        sqlx::query("UPDATE users SET on_duty = FALSE, tokens_valid_after = $2 WHERE id = $1")
                            .bind(user_id)
                            .bind(at)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query(
                            "UPDATE refresh_families SET revoked_at = $2, end_reason = 'suspended' \
                             WHERE user_id = $1 AND revoked_at IS NULL",
                        )
                        .bind(user_id)
                        .bind(at)
                        .execute(&mut *tx)
                        .await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn end_sessions(
                    &self,
                    user_id: &str,
                    new_password_hash: Option<&str>,
                    now: i64,
                    reason: &str,
                    audit: Option<AuditEvent>,
                ) -> $crate::store::Result<()> {
                    let mut tx = self.writer().begin().await?;
                    sqlx::query("UPDATE users SET tokens_valid_after = $2, password_hash = COALESCE($3, password_hash) WHERE id = $1")
                        .bind(user_id)
                        .bind(now)
                        .bind(new_password_hash)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "UPDATE refresh_families SET revoked_at = $2, end_reason = $3 WHERE user_id = $1 AND revoked_at IS NULL",
                    )
                    .bind(user_id)
                    .bind(now)
                    .bind(reason)
                    .execute(&mut *tx)
                    .await?;
                    if let Some(audit) = audit {
                        insert_audit_rows(&mut *tx, std::slice::from_ref(&audit)).await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn change_account(&self, user_id: &str, change: AccountChange, now: i64, audit: AuditEvent)
                    -> $crate::store::Result<bool> {
                    let mut tx = self.writer().begin().await?;
                    let (sql, reason) = match change {
                        AccountChange::Suspend => (
                            "UPDATE users SET suspended_at = $2, on_duty = FALSE, tokens_valid_after = $2 \
                             WHERE id = $1 AND offboarded_at IS NULL",
                            Some("suspended"),
                        ),
                        // Every session already ended with the suspension; none issued before now
                        // comes back with the account.
                        AccountChange::Reactivate => (
                            "UPDATE users SET suspended_at = NULL, tokens_valid_after = $2 WHERE id = $1 AND offboarded_at IS NULL",
                            None,
                        ),
                        // The name stays (on the records the account made); every way in goes.
                        AccountChange::Offboard => (
                            "UPDATE users SET offboarded_at = $2, on_duty = FALSE, tokens_valid_after = $2, \
                             password_hash = NULL, totp_secret = NULL, totp_last_step = NULL, oidc_subject = NULL \
                             WHERE id = $1 AND offboarded_at IS NULL",
                            Some("offboarded"),
                        ),
                        AccountChange::Role(_) => (
                            "UPDATE users SET role = $3, on_duty = FALSE, tokens_valid_after = $2 \
                             WHERE id = $1 AND offboarded_at IS NULL",
                            Some("role_changed"),
                        ),
                        AccountChange::ResetSecondFactor => (
                            "UPDATE users SET totp_secret = NULL, totp_last_step = NULL, tokens_valid_after = $2 \
                             WHERE id = $1 AND offboarded_at IS NULL",
                            Some("second_factor_reset"),
                        ),
                    };
                    let mut query = sqlx::query(sql).bind(user_id).bind(now);
                    if let AccountChange::Role(role) = change {
                        query = query.bind(role.as_str());
                    }
                    if query.execute(&mut *tx).await?.rows_affected() == 0 {
                        return Ok(false);
                    }
                    if matches!(change, AccountChange::Offboard | AccountChange::ResetSecondFactor) {
                        sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                        // Passkeys are second factors too: a reset (or a leaver) forgets them.
                        sqlx::query("DELETE FROM passkeys WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                        sqlx::query("DELETE FROM passkey_ceremonies WHERE user_id = $1")
                            .bind(user_id)
                            .execute(&mut *tx)
                            .await?;
                        sqlx::query("DELETE FROM sign_in_challenges WHERE user_id = $1")
                            .bind(user_id)
                            .execute(&mut *tx)
                            .await?;
                    }
                    if change == AccountChange::Offboard {
                        sqlx::query("DELETE FROM password_resets WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
                    }
                    if let Some(reason) = reason {
                        sqlx::query(
                            "UPDATE refresh_families SET revoked_at = $2, end_reason = $3 \
                             WHERE user_id = $1 AND revoked_at IS NULL",
                        )
                        .bind(user_id)
                        .bind(now)
                        .bind(reason)
                        .execute(&mut *tx)
                        .await?;
                    }
                    insert_audit_rows(&mut *tx, std::slice::from_ref(&audit)).await?;
                    tx.commit().await?;
                    Ok(true)
                }

                async fn active_admins(&self) -> $crate::store::Result<i64> {
                    let (n,): (i64,) = sqlx::query_as(
                        "SELECT COUNT(*) FROM users WHERE role = 'yot_admin' AND suspended_at IS NULL AND offboarded_at IS NULL",
                    )
                    .fetch_one(self.reader())
                    .await?;
                    Ok(n)
                }

                async fn create_password_reset(
                    &self,
                    user_id: &str,
                    token_hash: &str,
                    now: i64,
                    expires_at: i64,
                    created_by: Option<&str>,
                    audit: AuditEvent,
                ) -> $crate::store::Result<()> {
                    let mut tx = self.writer().begin().await?;
                    sqlx::query("DELETE FROM password_resets WHERE user_id = $1 OR expires_at <= $2")
                        .bind(user_id)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    sqlx::query(
                        "INSERT INTO password_resets (token_hash, user_id, created_at, expires_at, created_by) \
                         VALUES ($1, $2, $3, $4, $5)",
                    )
                    .bind(token_hash)
                    .bind(user_id)
                    .bind(now)
                    .bind(expires_at)
                    .bind(created_by)
                    .execute(&mut *tx)
                    .await?;
                    insert_audit_rows(&mut *tx, std::slice::from_ref(&audit)).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn password_reset_for(&self, token_hash: &str, now: i64) -> $crate::store::Result<Option<String>> {
                    Ok(sqlx::query_as::<_, (String,)>(
                        "SELECT user_id FROM password_resets WHERE token_hash = $1 AND expires_at > $2",
                    )
                    .bind(token_hash)
                    .bind(now)
                    .fetch_optional(self.reader())
                    .await?
                    .map(|(u,)| u))
                }

                async fn take_password_reset(&self, token_hash: &str, now: i64) -> $crate::store::Result<Option<String>> {
                    // DELETE … RETURNING: a code is good once, even when two requests race.
                    let row: Option<(String, i64)> =
                        sqlx::query_as("DELETE FROM password_resets WHERE token_hash = $1 RETURNING user_id, expires_at")
                            .bind(token_hash)
                            .fetch_optional(self.writer())
                            .await?;
                    let Some((user_id, expires_at)) = row else { return Ok(None) };
                    if expires_at <= now {
                        return Ok(None);
                    }
                    Ok(self.user(&user_id).await?.filter(|u| u.is_active()).map(|u| u.id))
                }
            }
        };
    };
}

pub(crate) use impl_users_sql;
