//! Messages: the group-commit writer's SQL and the reads.
//!
//! Why `seq` is gap-free and commits in order: a batch of messages locks its conversations'
//! rows (`SELECT … FOR UPDATE` on PostgreSQL; SQLite's one writer, taken by `BEGIN
//! IMMEDIATE`) before it reads their `last_seq`, and holds them until commit; a message that is
//! refused (closed chat, resend, stale access) takes no `seq`. A `seq` is therefore visible only
//! after every smaller one is committed.

use async_trait::async_trait;

use super::{InsertOutcome, MessageRecord, NewMessage, Result};

pub(crate) const MESSAGE_COLUMNS: &str = "id, conversation_id, seq, status, sender_id, sender_role, \
    sender_name, client_msg_id, body, kind, sent_at, severity, verdict";

/// The columns a new message row is written with, in the order both writers bind them.
pub(crate) const MESSAGE_INSERT_COLUMNS: &str = "id, conversation_id, seq, status, original_body, sender_id, \
    sender_role, sender_name, client_msg_id, body, kind, sent_at, severity, verdict";

/// Messages: storing them (one at a time or by group commit), reading them back, read markers.
#[async_trait]
pub trait Messages: Send + Sync + 'static {
    /// Stores a message with the next `seq`, idempotent on `(sender, client_msg_id)`.
    async fn insert_message(&self, message: NewMessage) -> Result<InsertOutcome>;
    /// Stores several messages in one transaction (group commit): one durable commit for
    /// the lot, in a fixed handful of statements whatever its size. Resends (earlier in the
    /// database or in the batch) come back as duplicates. Any error fails the whole batch
    /// (nothing stored) and the caller stores them one by one instead.
    async fn insert_messages(&self, batch: &[NewMessage]) -> Result<Vec<InsertOutcome>>;
    /// The message a sender already sent with this `client_msg_id`, if any.
    async fn message_by_client_id(&self, sender_id: &str, client_msg_id: &str) -> Result<Option<MessageRecord>>;

    /// Concurrent writers of messages that do not contend with each other: 1 for SQLite
    /// (one writer connection), several for PostgreSQL (row locks per conversation).
    fn message_writers(&self) -> usize;
    /// Whether a batch of messages blocks the thread it runs on until it is durable (SQLite:
    /// its commit waits for `fsync` in place); such writers get a thread of their own.
    fn message_batches_block(&self) -> bool;

    /// Messages with `seq > after_seq`, in order, at most `limit`.
    async fn messages_after(&self, conversation_id: &str, after_seq: i64, limit: u32) -> Result<Vec<MessageRecord>>;
    /// The last `limit` messages `sender_id` sent in a conversation, oldest first (the young
    /// person's earlier messages, for the risk that builds across a chat).
    async fn recent_from_sender(
        &self,
        conversation_id: &str,
        sender_id: &str,
        limit: u32,
    ) -> Result<Vec<MessageRecord>>;
    /// Raises the user's read marker to `seq` (never lowers it); returns the stored marker.
    async fn mark_read(&self, conversation_id: &str, user_id: &str, seq: i64, now: i64) -> Result<i64>;
    async fn message(&self, id: &str) -> Result<Option<MessageRecord>>;
    /// Each conversation's first delivered text from its young person, as `(conversation id,
    /// body)` (for the queue's previews).
    async fn first_messages(&self, conversation_ids: &[&str]) -> Result<Vec<(String, String)>>;
    /// The last `limit` delivered messages sent at or before `at`, in `seq` order.
    async fn messages_sent_before(&self, conversation_id: &str, at: i64, limit: u32) -> Result<Vec<MessageRecord>>;
}

/// The SQL of [`Messages`], the same for both databases; instantiated for each store type by
/// `impl_sql_store!` (`sql.rs`).
macro_rules! impl_messages_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::store::messages::MESSAGE_COLUMNS;

            #[async_trait::async_trait]
            impl $crate::store::Messages for $store {
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

                async fn recent_from_sender(
                    &self,
                    conversation_id: &str,
                    sender_id: &str,
                    limit: u32,
                ) -> $crate::store::Result<Vec<MessageRecord>> {
                    let sql = format!(
                        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND sender_id = $2 \
                         AND seq IS NOT NULL ORDER BY seq DESC LIMIT $3"
                    );
                    let mut rows = sqlx::query_as::<_, MessageRecord>(&sql)
                        .bind(conversation_id)
                        .bind(sender_id)
                        .bind(i64::from(limit))
                        .fetch_all(self.reader())
                        .await?;
                    rows.reverse();
                    Ok(rows)
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

                async fn first_messages(&self, conversation_ids: &[&str]) -> $crate::store::Result<Vec<(String, String)>> {
                    use $crate::store::{backend::Backend, batch_plan::pow2_chunks};
                    let mut out = Vec::new();
                    for part in pow2_chunks(conversation_ids, 128) {
                        let params = (1..=part.len()).map(<$store as Backend>::param).collect::<Vec<_>>().join(", ");
                        // `(conversation_id, seq)` is unique and indexed: one short probe a chat.
                        let sql = format!(
                            "SELECT m.conversation_id, m.body FROM messages m WHERE m.conversation_id IN ({params}) \
                             AND m.seq = (SELECT MIN(f.seq) FROM messages f WHERE f.conversation_id = m.conversation_id \
                             AND f.sender_role = 'young_person' AND f.kind = 'text' AND f.status = 'visible')"
                        );
                        let mut q = sqlx::query_as::<_, (String, String)>(&sql);
                        for id in part {
                            q = q.bind(*id);
                        }
                        out.extend(q.fetch_all(self.reader()).await?);
                    }
                    Ok(out)
                }

                async fn messages_sent_before(
                    &self,
                    conversation_id: &str,
                    at: i64,
                    limit: u32,
                ) -> $crate::store::Result<Vec<MessageRecord>> {
                    let sql = format!(
                        "SELECT {MESSAGE_COLUMNS} FROM messages WHERE conversation_id = $1 AND seq IS NOT NULL \
                         AND sent_at <= $2 ORDER BY seq DESC LIMIT $3"
                    );
                    let mut rows = sqlx::query_as::<_, MessageRecord>(&sql)
                        .bind(conversation_id)
                        .bind(at)
                        .bind(i64::from(limit))
                        .fetch_all(self.reader())
                        .await?;
                    rows.reverse();
                    Ok(rows)
                }
            }

            /// The message's `seq`: the next one of its conversation, or none while held for
            /// moderation (a held message takes no lock on the counter until approved). `None`
            /// when the conversation is closed or gone.
            async fn find_by_client_id(
                pool: &sqlx::Pool<<$store as $crate::store::backend::Backend>::Db>,
                sender: &str,
                client_id: &str,
            ) -> $crate::store::Result<Option<MessageRecord>> {
                let sql = format!("SELECT {MESSAGE_COLUMNS} FROM messages WHERE sender_id = $1 AND client_msg_id = $2");
                Ok(sqlx::query_as::<_, MessageRecord>(&sql).bind(sender).bind(client_id).fetch_optional(pool).await?)
            }
        };

        /// A batch of messages in one transaction of its own, through sqlx (PostgreSQL keeps
        /// its connections and calls `write_batch_on`).
        #[allow(dead_code)]
        async fn write_batch_in_tx(
            pool: &sqlx::Pool<<$store as $crate::store::backend::Backend>::Db>,
            batch: &[NewMessage],
        ) -> $crate::store::Result<Vec<InsertOutcome>> {
            write_batch_on(&mut *pool.acquire().await?, batch).await
        }

        /// The same, on a connection the caller holds.
        async fn write_batch_on(conn: &mut Conn, batch: &[NewMessage]) -> $crate::store::Result<Vec<InsertOutcome>> {
            let mut tx = sqlx::Connection::begin_with(conn, <$store as $crate::store::backend::Backend>::BEGIN_WRITE).await?;
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
            tx: &mut sqlx::Transaction<'_, <$store as $crate::store::backend::Backend>::Db>,
            batch: &[NewMessage],
        ) -> $crate::store::Result<Vec<InsertOutcome>> {
            use std::collections::HashMap;
            use $crate::store::batch_plan::{plan_batch, pow2_chunks, BatchConversation, BatchPlan};
            use $crate::store::messages::MESSAGE_COLUMNS;
            use $crate::store::backend::Backend;

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
                    let state = state
                        .parse()
                        .map_err(|e: $crate::model::UnknownVariant| $crate::store::StoreError::Corrupt(e.to_string()))?;
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
                    $crate::store::messages::MESSAGE_INSERT_COLUMNS
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
            tx: &mut sqlx::Transaction<'_, <$store as $crate::store::backend::Backend>::Db>,
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
            use $crate::store::backend::Backend;
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

        /// Binds a message row's 14 values, in the order of `MESSAGE_INSERT_COLUMNS`.
        fn bind_message_row<'q>(
            q: Query<'q>,
            m: &'q NewMessage,
            seq: Option<i64>,
        ) -> Query<'q> {
            q.bind(&m.id)
                .bind(&m.conversation_id)
                .bind(seq)
                .bind($crate::store::batch_plan::message_status(m).as_str())
                .bind(&m.original_body)
                .bind(&m.sender_id)
                .bind(m.sender_role.map(|r| r.as_str()))
                .bind(&m.sender_name)
                .bind(&m.client_msg_id)
                .bind(&m.body)
                .bind(m.kind.as_str())
                .bind(m.sent_at)
                .bind(m.severity.as_str())
                .bind(&m.verdict)
        }

        /// Message rows with their `seq`; up to 64 rows a statement (see [`pow2_chunks`]).
        async fn insert_message_rows(conn: &mut Conn, rows: &[(&NewMessage, Option<i64>)]) -> $crate::store::Result<()> {
            use $crate::store::{backend::Backend, batch_plan::pow2_chunks};
            let p = <$store as Backend>::param;
            for part in pow2_chunks(rows, 64) {
                let values = $crate::store::batch_plan::row_placeholders(part.len(), 14, p);
                let sql = format!("INSERT INTO messages ({}) VALUES {values}", $crate::store::messages::MESSAGE_INSERT_COLUMNS);
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
            Ok($crate::store::batch_plan::message_record(m, seq))
        }

        /// In the message's transaction: the conversation's risk rises to the message's
        /// (or to the risk built across the chat), and its escalation, if any, is raised.
        async fn raise_risk(
            tx: &mut sqlx::Transaction<'_, <$store as $crate::store::backend::Backend>::Db>,
            m: &NewMessage,
        ) -> $crate::store::Result<()> {
            let risk = m.severity.max(m.conversation_risk);
            let rank = risk.rank();
            if rank > 0 {
                sqlx::query("UPDATE conversations SET risk = $2, risk_rank = $3 WHERE id = $1 AND risk_rank < $3")
                    .bind(&m.conversation_id)
                    .bind(risk.as_str())
                    .bind(rank)
                    .execute(&mut **tx)
                    .await?;
            }
            if let Some(e) = &m.escalation {
                insert_escalation_row(&mut **tx, e).await?;
            }
            Ok(())
        }
    };
}

pub(crate) use impl_messages_sql;
