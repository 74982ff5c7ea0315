-- The duty desk: risk-first queue order, escalations with deadlines, the outbox for on-call
-- alerts, staff notes, and how a conversation ended.

-- Queue order: risk first (`risk_rank`: none 0 … critical 4, the highest severity seen),
-- chats handed back to the queue before new arrivals (`requeued_at`), then waiting time.
ALTER TABLE conversations ADD COLUMN risk_rank BIGINT NOT NULL DEFAULT 0;
ALTER TABLE conversations ADD COLUMN requeued_at BIGINT;
ALTER TABLE conversations ADD COLUMN first_reply_at BIGINT;
ALTER TABLE conversations ADD COLUMN outcome TEXT;
ALTER TABLE conversations ADD COLUMN tags TEXT;

-- Presence for the duty desk, shared by every node: when a worker was last connected
-- (refreshed every few seconds while they are), when they last went on or off duty, and when
-- they were last given a chat (for fair auto-assignment).
ALTER TABLE users ADD COLUMN seen_at BIGINT;
ALTER TABLE users ADD COLUMN duty_changed_at BIGINT;
ALTER TABLE users ADD COLUMN last_assigned_at BIGINT;

-- Purpose: safeguarding escalations (raised by a worker, or by the moderation step on high or
-- critical risk in the same transaction as the message). Kept with the conversation.
-- `deadline_at`: acknowledge by then or it re-escalates; `reescalated_at` makes that happen once.
CREATE TABLE escalations (
    id               TEXT PRIMARY KEY,
    conversation_id  TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    message_id       TEXT,
    severity         TEXT NOT NULL,
    reason           TEXT NOT NULL,
    source           TEXT NOT NULL,
    raised_by        TEXT,
    state            TEXT NOT NULL,
    created_at       BIGINT NOT NULL,
    deadline_at      BIGINT NOT NULL,
    reescalated_at   BIGINT,
    acknowledged_by  TEXT,
    acknowledged_at  BIGINT,
    resolved_by      TEXT,
    resolved_at      BIGINT,
    outcome          TEXT
);
CREATE INDEX escalations_due ON escalations(state, deadline_at);
CREATE INDEX escalations_conversation ON escalations(conversation_id);

-- Purpose: what supervisors did about an escalation (called 999, MASH referral, …).
CREATE TABLE escalation_actions (
    id            TEXT PRIMARY KEY,
    escalation_id TEXT NOT NULL REFERENCES escalations(id) ON DELETE CASCADE,
    at            BIGINT NOT NULL,
    actor_id      TEXT NOT NULL,
    action        TEXT NOT NULL,
    note          TEXT
);
CREATE INDEX escalation_actions_escalation ON escalation_actions(escalation_id, at);

-- Purpose: messages to other systems (the on-call contact's webhook), written in the same
-- transaction as what caused them and delivered with retries until they succeed.
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      BIGINT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    locked_until    BIGINT,
    delivered_at    BIGINT,
    last_error      TEXT
);
CREATE INDEX outbox_pending ON outbox(delivered_at, next_attempt_at);

-- Purpose: private notes by staff on a conversation. Never delivered to the young person,
-- never in their export.
CREATE TABLE notes (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    author_id       TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
CREATE INDEX notes_conversation ON notes(conversation_id, created_at);

-- Purpose: the duty rota (who is expected when), managed by yot_admin.
CREATE TABLE shifts (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    starts_at  BIGINT NOT NULL,
    ends_at    BIGINT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX shifts_starts ON shifts(starts_at);

-- Purpose: time on duty, for the workers' wellbeing caps (hours per day and per week).
CREATE TABLE duty_sessions (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    started_at BIGINT NOT NULL,
    ended_at   BIGINT
);
CREATE INDEX duty_sessions_user ON duty_sessions(user_id, started_at);
