//! Conversations: support chats and their queue, rooms, participants, tags and staff notes.

use async_trait::async_trait;

use super::{
    AbuseMarked, AcceptOutcome, AuditEvent, ChatSource, ConversationFilter, ConversationRecord, Handover,
    MessageRecord, NewMessage, NewRoom, NoteRecord, OpenOutcome, Result, SilentChat,
};

pub(crate) const CONVERSATION_SELECT: &str = "SELECT c.id, c.kind, c.state, c.topic, c.owner_id, \
    o.display_name AS owner_name, c.assigned_to, w.display_name AS assigned_name, \
    w.role AS assigned_role, c.created_at, c.assigned_at, c.closed_at, c.last_seq, c.risk, \
    c.age_band, c.moderation_mode, c.pii_mode, c.risk_rank, c.requeued_at, c.first_reply_at, c.outcome, c.tags, c.hold_reason, c.closed_reason \
    FROM conversations c LEFT JOIN users o ON o.id = c.owner_id \
    LEFT JOIN users w ON w.id = c.assigned_to";

/// The support queue's order: every source's first waiting chat before anyone's second (so that
/// one address opening many chats cannot push anyone else down: `source_turn`), then risk, then
/// chats handed back to the queue (ahead of new arrivals), then waiting time. One definition
/// for positions and lists.
pub(crate) const QUEUE_ORDER: &str = "c.source_turn ASC, c.risk_rank DESC, (c.requeued_at IS NULL) ASC, \
    COALESCE(c.requeued_at, c.created_at) ASC, c.id ASC";

/// Support chats and rooms: opening, the queue, accepting, handing over and closing, who takes
/// part, tags and staff notes.
#[async_trait]
pub trait Conversations: Send + Sync + 'static {
    /// Creates a queued support conversation, or returns the owner's open one
    /// (`false` = it already existed). No source is kept.
    async fn open_support_conversation(
        &self,
        id: &str,
        owner_id: &str,
        topic: Option<&str>,
        now: i64,
    ) -> Result<(ConversationRecord, bool)> {
        match self.open_sourced_conversation(id, owner_id, topic, now, None).await? {
            OpenOutcome::Opened(c) => Ok((c, true)),
            OpenOutcome::Existing(c) => Ok((c, false)),
            OpenOutcome::SourceBlocked { .. } | OpenOutcome::SourceFull => {
                Err(super::StoreError::Conflict("a chat without a source cannot be refused for it"))
            }
        }
    }
    /// As [`open_support_conversation`](Self::open_support_conversation), from `source`: a new
    /// chat is refused while the source is blocked or has `max_waiting` chats queued already,
    /// and otherwise keeps the source and its turn among the source's waiting chats.
    async fn open_sourced_conversation(
        &self,
        id: &str,
        owner_id: &str,
        topic: Option<&str>,
        now: i64,
        source: Option<&ChatSource>,
    ) -> Result<OpenOutcome>;
    /// Until when the source is blocked, if it is.
    async fn source_blocked_until(&self, source_key: &str, now: i64) -> Result<Option<i64>>;
    /// Closes an open support chat as abuse (outcome `marked_as_abuse`, its source forgotten),
    /// blocks its source until `block_until` (with why and by whom), and resolves its
    /// unresolved escalations, each with the entry `resolved_audit` makes; with the system
    /// message `announcement` and `audit`, in one transaction. `None` if it is not an open
    /// support chat.
    #[allow(clippy::too_many_arguments)]
    async fn mark_abuse(
        &self,
        conversation_id: &str,
        by: &str,
        reason: &str,
        block_until: i64,
        announcement: NewMessage,
        audit: AuditEvent,
        resolved_audit: &(dyn for<'k> Fn(&'k str) -> AuditEvent + Sync),
        now: i64,
    ) -> Result<Option<AbuseMarked>>;
    /// Whether the two users are both current members of some room.
    async fn share_a_room(&self, a: &str, b: &str) -> Result<bool>;
    /// Forgets blocks that ended before `now`; returns how many.
    async fn forget_ended_blocks(&self, now: i64) -> Result<u64>;
    async fn conversation(&self, id: &str) -> Result<Option<ConversationRecord>>;
    async fn conversations_of_owner(&self, owner_id: &str) -> Result<Vec<ConversationRecord>>;
    async fn conversations_for_staff(&self, filter: &ConversationFilter) -> Result<Vec<ConversationRecord>>;

    /// 1-based position of a queued conversation (by waiting time).
    async fn queue_position(&self, conversation_id: &str) -> Result<Option<u32>>;
    /// The mean time from assignment to close of support chats closed since `since`.
    async fn mean_handling_ms(&self, since: i64) -> Result<Option<i64>>;

    /// Atomically assigns a queued conversation; exactly one of racing callers wins.
    async fn accept_conversation(
        &self,
        conversation_id: &str,
        worker_id: &str,
        announcement: NewMessage,
        audit: AuditEvent,
        now: i64,
    ) -> Result<AcceptOutcome>;
    /// Requeues, transfers or closes an assigned (or, for close, queued) conversation, with its
    /// system message and its audit entry, in one transaction. `None` if its state did not
    /// allow it (nothing stored).
    async fn hand_over(
        &self,
        conversation_id: &str,
        from_worker: Option<&str>,
        handover: Handover,
        announcement: NewMessage,
        audit: AuditEvent,
        now: i64,
    ) -> Result<Option<(ConversationRecord, MessageRecord)>>;
    /// Records the assigned worker's first reply (ends the assignment timeout).
    async fn mark_first_reply(&self, conversation_id: &str, worker_id: &str, now: i64) -> Result<()>;
    /// Assigned conversations whose worker has not replied since `assigned_before`.
    async fn unanswered_assignments(&self, assigned_before: i64) -> Result<Vec<ConversationRecord>>;
    /// Assigned chats whose worker has been gone (not connected since `seen_before`) or off
    /// duty (since `off_duty_before`).
    async fn stranded_assignments(&self, seen_before: i64, off_duty_before: i64) -> Result<Vec<ConversationRecord>>;
    /// Assigned support chats whose last message (not a system one) is staff's, sent at or
    /// before `silent_since`: the young person has not answered since.
    async fn silent_chats(&self, silent_since: i64) -> Result<Vec<SilentChat>>;
    /// Records that the worker was told of the silence that began at `silence_began`; `false`
    /// if they were told already (by another node) or the chat is no longer assigned.
    async fn mark_silence_prompted(&self, conversation_id: &str, silence_began: i64, now: i64) -> Result<bool>;

    /// Replaces a support chat's tags, with `audit` in the same transaction; when `assigned_to`
    /// is given, only while the chat is still assigned to that worker. `false` (and no entry)
    /// if nothing changed hands.
    async fn set_tags(
        &self,
        conversation_id: &str,
        tags: &[String],
        assigned_to: Option<&str>,
        audit: AuditEvent,
    ) -> Result<bool>;
    async fn add_note(&self, note: NoteRecord) -> Result<()>;
    async fn notes(&self, conversation_id: &str) -> Result<Vec<NoteRecord>>;

    /// Creates a room, with `audit` in the same transaction.
    async fn create_room(&self, room: NewRoom, audit: AuditEvent) -> Result<ConversationRecord>;
    async fn rooms(&self) -> Result<Vec<ConversationRecord>>;
    /// The caller's role in a conversation if they are a current participant.
    async fn membership(&self, conversation_id: &str, user_id: &str) -> Result<Option<String>>;
    /// Makes the user a current participant, with `audit` (if any) in the same transaction:
    /// a supervisor's access to a child's chat is never without its record.
    async fn join(
        &self,
        conversation_id: &str,
        user_id: &str,
        role: &str,
        now: i64,
        audit: Option<AuditEvent>,
    ) -> Result<()>;
    async fn leave(&self, conversation_id: &str, user_id: &str, now: i64) -> Result<()>;
    /// The current participants who joined as `role` (e.g. supervisors who joined a chat).
    async fn participants_as(&self, conversation_id: &str, role: &str) -> Result<Vec<String>>;
}

/// The SQL of [`Conversations`], the same for both databases; instantiated for each store type by
/// `impl_sql_store!` (`sql.rs`).
macro_rules! impl_conversations_sql {
    ($store:ty) => {
        const _: () = {
            use $crate::store::conversations::{CONVERSATION_SELECT, QUEUE_ORDER};

            #[async_trait::async_trait]
            impl $crate::store::Conversations for $store {
                async fn open_sourced_conversation(
                    &self,
                    id: &str,
                    owner_id: &str,
                    topic: Option<&str>,
                    now: i64,
                    source: Option<&ChatSource>,
                ) -> $crate::store::Result<OpenOutcome> {
                    let open_sql = format!(
                        "{CONVERSATION_SELECT} WHERE c.owner_id = $1 AND c.kind = 'support' AND c.state <> 'closed'"
                    );
                    if let Some(open) =
                        sqlx::query_as::<_, ConversationRecord>(&open_sql).bind(owner_id).fetch_optional(self.writer()).await?
                    {
                        return Ok(OpenOutcome::Existing(open));
                    }
                    let mut tx = self.writer().begin().await?;
                    let mut turn = 0i64;
                    if let Some(src) = source {
                        if let Some(lock) = <$store as $crate::store::backend::Backend>::LOCK_KEY {
                            sqlx::query(lock).bind(&src.key).execute(&mut *tx).await?;
                        }
                        let blocked: Option<(i64,)> = sqlx::query_as(
                            "SELECT blocked_until FROM blocked_sources WHERE source_key = $1 AND blocked_until > $2",
                        )
                        .bind(&src.key)
                        .bind(now)
                        .fetch_optional(&mut *tx)
                        .await?;
                        if let Some((until,)) = blocked {
                            tx.rollback().await?;
                            return Ok(OpenOutcome::SourceBlocked { until });
                        }
                        let (waiting,): (i64,) = sqlx::query_as(
                            "SELECT COUNT(*) FROM conversations WHERE source_key = $1 AND state = 'queued' AND kind = 'support'",
                        )
                        .bind(&src.key)
                        .fetch_one(&mut *tx)
                        .await?;
                        if waiting >= i64::from(src.max_waiting) {
                            tx.rollback().await?;
                            return Ok(OpenOutcome::SourceFull);
                        }
                        turn = waiting;
                    }
                    let inserted = sqlx::query(
                        "INSERT INTO conversations (id, kind, state, topic, owner_id, created_at, source_key, source_turn) \
                         VALUES ($1, 'support', 'queued', $2, $3, $4, $5, $6)",
                    )
                    .bind(id)
                    .bind(topic)
                    .bind(owner_id)
                    .bind(now)
                    .bind(source.map(|s| s.key.as_str()))
                    .bind(turn)
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
                            return Ok(OpenOutcome::Existing(open));
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
                    Ok(OpenOutcome::Opened(conv))
                }

                async fn source_blocked_until(&self, source_key: &str, now: i64) -> $crate::store::Result<Option<i64>> {
                    let row: Option<(i64,)> = sqlx::query_as(
                        "SELECT blocked_until FROM blocked_sources WHERE source_key = $1 AND blocked_until > $2",
                    )
                    .bind(source_key)
                    .bind(now)
                    .fetch_optional(self.reader())
                    .await?;
                    Ok(row.map(|r| r.0))
                }

                async fn mark_abuse(
                    &self,
                    conversation_id: &str,
                    by: &str,
                    reason: &str,
                    block_until: i64,
                    announcement: NewMessage,
                    audit: AuditEvent,
                    resolved_audit: &(dyn for<'k> Fn(&'k str) -> AuditEvent + Sync),
                    now: i64,
                ) -> $crate::store::Result<Option<AbuseMarked>> {
                    let mut tx = self.writer().begin().await?;
                    let source: Option<(Option<String>,)> = sqlx::query_as(&format!(
                        "SELECT source_key FROM conversations WHERE id = $1 AND kind = 'support' AND state <> 'closed'{}",
                        <$store as $crate::store::backend::Backend>::LOCK_ROWS
                    ))
                    .bind(conversation_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                    let Some((source_key,)) = source else {
                        tx.rollback().await?;
                        return Ok(None);
                    };
                    let (seq,): (i64,) = sqlx::query_as(
                        "UPDATE conversations SET state = 'closed', closed_at = $2, outcome = 'marked_as_abuse', \
                         closed_reason = 'staff', source_key = NULL, last_seq = last_seq + 1 WHERE id = $1 RETURNING last_seq",
                    )
                    .bind(conversation_id)
                    .bind(now)
                    .fetch_one(&mut *tx)
                    .await?;
                    if let Some(key) = &source_key {
                        sqlx::query(
                            "INSERT INTO blocked_sources (source_key, blocked_until, conversation_id, blocked_by, reason, created_at) \
                             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (source_key) DO UPDATE SET \
                             blocked_until = excluded.blocked_until, conversation_id = excluded.conversation_id, \
                             blocked_by = excluded.blocked_by, reason = excluded.reason, created_at = excluded.created_at",
                        )
                        .bind(key)
                        .bind(block_until)
                        .bind(conversation_id)
                        .bind(by)
                        .bind(reason)
                        .bind(now)
                        .execute(&mut *tx)
                        .await?;
                    }
                    let resolved: Vec<(String,)> = sqlx::query_as(
                        "UPDATE escalations SET state = 'resolved', resolved_by = $2, resolved_at = $3, outcome = 'marked as abuse', next_step_at = NULL \
                         WHERE conversation_id = $1 AND state <> 'resolved' RETURNING id",
                    )
                    .bind(conversation_id)
                    .bind(by)
                    .bind(now)
                    .fetch_all(&mut *tx)
                    .await?;
                    let escalations_resolved: Vec<String> = resolved.into_iter().map(|r| r.0).collect();
                    let message = insert_message_row(&mut *tx, &announcement, Some(seq)).await?;
                    let mut entries = vec![audit];
                    entries.extend(escalations_resolved.iter().map(|id| resolved_audit(id)));
                    insert_audit_rows(&mut *tx, &entries).await?;
                    let sql = format!("{CONVERSATION_SELECT} WHERE c.id = $1");
                    let conversation =
                        sqlx::query_as::<_, ConversationRecord>(&sql).bind(conversation_id).fetch_one(&mut *tx).await?;
                    tx.commit().await?;
                    Ok(Some(AbuseMarked { conversation, message, source_blocked: source_key.is_some(), escalations_resolved }))
                }

                async fn forget_ended_blocks(&self, now: i64) -> $crate::store::Result<u64> {
                    let n = sqlx::query("DELETE FROM blocked_sources WHERE blocked_until <= $1")
                        .bind(now)
                        .execute(self.writer())
                        .await?
                        .rows_affected();
                    Ok(n)
                }

                async fn share_a_room(&self, a: &str, b: &str) -> $crate::store::Result<bool> {
                    let row: Option<(String,)> = sqlx::query_as(
                        "SELECT p.conversation_id FROM participants p JOIN participants q ON q.conversation_id = p.conversation_id \
                         JOIN conversations c ON c.id = p.conversation_id \
                         WHERE p.user_id = $1 AND q.user_id = $2 AND c.kind = 'room' AND p.left_at IS NULL AND q.left_at IS NULL \
                         LIMIT 1",
                    )
                    .bind(a)
                    .bind(b)
                    .fetch_optional(self.reader())
                    .await?;
                    Ok(row.is_some())
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
                        .bind(filter.state.map(|s| s.as_str()))
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
                        Handover::Close { outcome, tags, reason } => sqlx::query_as(
                            "UPDATE conversations SET state = 'closed', closed_at = $3, outcome = $4, tags = COALESCE($5, tags), \
                             closed_reason = $6, source_key = NULL, last_seq = last_seq + 1 \
                             WHERE id = $1 AND state <> 'closed' AND ($2 IS NULL OR assigned_to = $2) RETURNING last_seq",
                        )
                        .bind(conversation_id)
                        .bind(from_worker)
                        .bind(now)
                        .bind(outcome)
                        .bind(tags.as_ref().map(|t| t.join(",")))
                        .bind(reason.as_str())
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

                async fn silent_chats(&self, silent_since: i64) -> $crate::store::Result<Vec<SilentChat>> {
                    Ok(sqlx::query_as(
                        "SELECT c.id, c.assigned_to, o.display_name AS owner_name, m.sent_at AS silent_since, \
                         c.inactive_prompted_at AS prompted_at \
                         FROM conversations c JOIN messages m ON m.conversation_id = c.id \
                         LEFT JOIN users o ON o.id = c.owner_id \
                         WHERE c.kind = 'support' AND c.state = 'assigned' AND c.assigned_to IS NOT NULL \
                         AND m.seq = (SELECT MAX(m2.seq) FROM messages m2 WHERE m2.conversation_id = c.id AND m2.kind <> 'system') \
                         AND m.sender_id IS NOT NULL AND m.sender_id <> c.owner_id AND m.sent_at <= $1 \
                         ORDER BY m.sent_at LIMIT 100",
                    )
                    .bind(silent_since)
                    .fetch_all(self.reader())
                    .await?)
                }

                async fn mark_silence_prompted(&self, conversation_id: &str, silence_began: i64, now: i64) -> $crate::store::Result<bool> {
                    let done = sqlx::query(
                        "UPDATE conversations SET inactive_prompted_at = $3 WHERE id = $1 AND state = 'assigned' \
                         AND (inactive_prompted_at IS NULL OR inactive_prompted_at < $2)",
                    )
                    .bind(conversation_id)
                    .bind(silence_began)
                    .bind(now)
                    .execute(self.writer())
                    .await?;
                    Ok(done.rows_affected() == 1)
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
                    .bind(r.moderation_mode.as_str())
                    .bind(r.pii_mode.as_str())
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

                async fn participants_as(&self, conversation_id: &str, role: &str) -> $crate::store::Result<Vec<String>> {
                    let rows: Vec<(String,)> = sqlx::query_as(
                        "SELECT user_id FROM participants WHERE conversation_id = $1 AND role = $2 AND left_at IS NULL \
                         ORDER BY joined_at, user_id",
                    )
                    .bind(conversation_id)
                    .bind(role)
                    .fetch_all(self.reader())
                    .await?;
                    Ok(rows.into_iter().map(|(id,)| id).collect())
                }
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
                E: sqlx::Executor<'c, Database = <$store as $crate::store::backend::Backend>::Db>,
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
        };
    };
}

pub(crate) use impl_conversations_sql;
