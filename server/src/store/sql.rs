//! The SQL both backends share. SQLite (3.35+) and PostgreSQL accept the same statements
//! here (`$n` parameters, `RETURNING`, `ON CONFLICT`, partial indexes), so the [`Store`]
//! implementation is written once as a macro and instantiated for each concrete store type,
//! which provides `reader()`, `writer()`, `backend_name()` and `run_migrations()`.
//!
//! Why `seq` is gap-free: a message's transaction increments `conversations.last_seq` first,
//! which takes that row's write lock (PostgreSQL) or the database's single writer (SQLite)
//! until commit. A `seq` is therefore visible only after every smaller one is committed.

pub(crate) const CONVERSATION_SELECT: &str = "SELECT c.id, c.kind, c.state, c.topic, c.owner_id, \
    o.display_name AS owner_name, c.assigned_to, w.display_name AS assigned_name, \
    w.role AS assigned_role, c.created_at, c.assigned_at, c.closed_at, c.last_seq, c.risk \
    FROM conversations c LEFT JOIN users o ON o.id = c.owner_id \
    LEFT JOIN users w ON w.id = c.assigned_to";

pub(crate) const MESSAGE_COLUMNS: &str = "id, conversation_id, seq, sender_id, sender_role, \
    sender_name, client_msg_id, body, kind, sent_at, severity";

pub(crate) const USER_COLUMNS: &str =
    "id, role, username, password_hash, display_name, created_at, suspended_at, on_duty, capacity";

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

            async fn create_user(&self, u: NewUser) -> $crate::store::Result<UserRecord> {
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
                .execute(self.writer())
                .await;
                match res {
                    Ok(_) => {}
                    Err(e) if is_unique_violation(&e) => return Err(StoreError::Conflict("username taken")),
                    Err(e) => return Err(e.into()),
                }
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

            async fn set_on_duty(&self, user_id: &str, on_duty: bool) -> $crate::store::Result<()> {
                sqlx::query("UPDATE users SET on_duty = $2 WHERE id = $1")
                    .bind(user_id)
                    .bind(on_duty)
                    .execute(self.writer())
                    .await?;
                Ok(())
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
                     ORDER BY c.created_at ASC, c.id ASC LIMIT 500"
                );
                Ok(sqlx::query_as::<_, ConversationRecord>(&sql)
                    .bind(filter.state.as_deref())
                    .bind(filter.assigned_to.as_deref())
                    .fetch_all(self.reader())
                    .await?)
            }

            async fn queue_position(&self, conversation_id: &str) -> $crate::store::Result<Option<u32>> {
                let row: Option<(String, i64)> = sqlx::query_as("SELECT state, created_at FROM conversations WHERE id = $1")
                    .bind(conversation_id)
                    .fetch_optional(self.reader())
                    .await?;
                let Some((state, created_at)) = row else { return Ok(None) };
                if state != "queued" {
                    return Ok(None);
                }
                let (ahead,): (i64,) = sqlx::query_as(
                    "SELECT COUNT(*) FROM conversations WHERE state = 'queued' AND kind = 'support' \
                     AND (created_at < $1 OR (created_at = $1 AND id < $2))",
                )
                .bind(created_at)
                .bind(conversation_id)
                .fetch_one(self.reader())
                .await?;
                Ok(Some(u32::try_from(ahead).unwrap_or(u32::MAX).saturating_add(1)))
            }

            async fn accept_conversation(
                &self,
                conversation_id: &str,
                worker_id: &str,
                announcement: NewMessage,
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
                sqlx::query(
                    "INSERT INTO participants (conversation_id, user_id, role, joined_at) VALUES ($1, $2, 'worker', $3) \
                     ON CONFLICT (conversation_id, user_id) DO UPDATE SET left_at = NULL",
                )
                .bind(conversation_id)
                .bind(worker_id)
                .bind(now)
                .execute(&mut *tx)
                .await?;
                let message = insert_message_row(&mut *tx, &announcement, seq).await?;
                let sql = format!("{CONVERSATION_SELECT} WHERE c.id = $1");
                let conv = sqlx::query_as::<_, ConversationRecord>(&sql).bind(conversation_id).fetch_one(&mut *tx).await?;
                tx.commit().await?;
                Ok(AcceptOutcome::Accepted(conv, message))
            }

            async fn insert_message(&self, m: NewMessage) -> $crate::store::Result<InsertOutcome> {
                if let (Some(sender), Some(client_id)) = (&m.sender_id, &m.client_msg_id) {
                    if let Some(existing) = find_by_client_id(self.reader(), sender, client_id).await? {
                        return Ok(InsertOutcome::Duplicate(existing));
                    }
                }
                let mut tx = self.writer().begin().await?;
                let seq: Option<(i64,)> = sqlx::query_as(
                    "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = $1 AND state <> 'closed' RETURNING last_seq",
                )
                .bind(&m.conversation_id)
                .fetch_optional(&mut *tx)
                .await?;
                let Some((seq,)) = seq else {
                    tx.rollback().await?;
                    return Ok(InsertOutcome::ConversationClosed);
                };
                match insert_message_row(&mut *tx, &m, seq).await {
                    Ok(stored) => {
                        tx.commit().await?;
                        Ok(InsertOutcome::Stored(stored))
                    }
                    Err(StoreError::Database(e)) if is_unique_violation(&e) => {
                        // Two connections of one sender raced with the same client_msg_id.
                        tx.rollback().await?;
                        let (Some(sender), Some(client_id)) = (&m.sender_id, &m.client_msg_id) else {
                            return Err(StoreError::Database(e));
                        };
                        match find_by_client_id(self.writer(), sender, client_id).await? {
                            Some(existing) => Ok(InsertOutcome::Duplicate(existing)),
                            None => Err(StoreError::Database(e)),
                        }
                    }
                    Err(e) => Err(e),
                }
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

            async fn append_audit(&self, e: AuditEvent) -> $crate::store::Result<()> {
                sqlx::query(
                    "INSERT INTO audit_events (id, at, actor_id, action, target_type, target_id, details) \
                     VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(&e.id)
                .bind(e.at)
                .bind(&e.actor_id)
                .bind(&e.action)
                .bind(&e.target_type)
                .bind(&e.target_id)
                .bind(&e.details)
                .execute(self.writer())
                .await?;
                Ok(())
            }

            async fn audit_for_target(&self, target_type: &str, target_id: &str) -> $crate::store::Result<Vec<AuditEvent>> {
                let rows: Vec<(String, i64, Option<String>, String, String, String, Option<String>)> = sqlx::query_as(
                    "SELECT id, at, actor_id, action, target_type, target_id, details FROM audit_events \
                     WHERE target_type = $1 AND target_id = $2 ORDER BY at, id",
                )
                .bind(target_type)
                .bind(target_id)
                .fetch_all(self.reader())
                .await?;
                Ok(rows
                    .into_iter()
                    .map(|(id, at, actor_id, action, target_type, target_id, details)| AuditEvent {
                        id,
                        at,
                        actor_id,
                        action,
                        target_type,
                        target_id,
                        details,
                    })
                    .collect())
            }
        }

        async fn insert_message_row<'c, E>(
            executor: E,
            m: &NewMessage,
            seq: i64,
        ) -> $crate::store::Result<MessageRecord>
        where
            E: sqlx::Executor<'c, Database = <$store as $crate::store::sql::Backend>::Db>,
        {
            sqlx::query(
                "INSERT INTO messages (id, conversation_id, seq, sender_id, sender_role, sender_name, client_msg_id, \
                 body, kind, sent_at, severity, verdict) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            )
            .bind(&m.id)
            .bind(&m.conversation_id)
            .bind(seq)
            .bind(&m.sender_id)
            .bind(&m.sender_role)
            .bind(&m.sender_name)
            .bind(&m.client_msg_id)
            .bind(&m.body)
            .bind(&m.kind)
            .bind(m.sent_at)
            .bind(&m.severity)
            .bind(&m.verdict)
            .execute(executor)
            .await?;
            Ok(MessageRecord {
                id: m.id.clone(),
                conversation_id: m.conversation_id.clone(),
                seq,
                sender_id: m.sender_id.clone(),
                sender_role: m.sender_role.clone(),
                sender_name: m.sender_name.clone(),
                client_msg_id: m.client_msg_id.clone(),
                body: m.body.clone(),
                kind: m.kind.clone(),
                sent_at: m.sent_at,
                severity: m.severity.clone(),
            })
        }

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
}
