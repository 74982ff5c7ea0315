-- Core schema: accounts, sessions, support conversations and their messages.
-- Times are milliseconds since the Unix epoch (BIGINT) so that both backends agree exactly.

-- Purpose: who can sign in and with which role. Anonymous young people have no username,
-- no password and no personal data: only a random friendly display name.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    role          TEXT NOT NULL,
    username      TEXT UNIQUE,
    password_hash TEXT,
    display_name  TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    suspended_at  BIGINT,
    muted_until   BIGINT,
    on_duty       BOOLEAN NOT NULL DEFAULT 0,
    capacity      BIGINT NOT NULL DEFAULT 3
);

-- Purpose: rotating refresh tokens. A family is one sign-in; reusing a token that was
-- already rotated revokes the whole family (a stolen token is then useless).
CREATE TABLE refresh_families (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX refresh_families_user ON refresh_families(user_id);

CREATE TABLE refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family_id  TEXT NOT NULL REFERENCES refresh_families(id) ON DELETE CASCADE,
    issued_at  BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at    BIGINT
);
CREATE INDEX refresh_tokens_family ON refresh_tokens(family_id);

-- Purpose: single-use WebSocket tickets for browsers (30 s). Kept in the database so that a
-- ticket issued by one node is accepted by another.
CREATE TABLE ws_tickets (
    ticket_hash TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    expires_at  BIGINT NOT NULL
);

-- Purpose: support chats (and later peer rooms). `last_seq` is the per-conversation message
-- counter; incrementing it inside the message's transaction makes `seq` gap-free.
CREATE TABLE conversations (
    id          TEXT PRIMARY KEY,
    kind        TEXT NOT NULL,
    state       TEXT NOT NULL,
    topic       TEXT,
    owner_id    TEXT REFERENCES users(id) ON DELETE CASCADE,
    assigned_to TEXT REFERENCES users(id),
    created_at  BIGINT NOT NULL,
    assigned_at BIGINT,
    closed_at   BIGINT,
    last_seq    BIGINT NOT NULL DEFAULT 0,
    risk        TEXT NOT NULL DEFAULT 'none',
    -- Peer rooms only: who it is for, and how messages are moderated.
    age_band        TEXT,
    moderation_mode TEXT,
    pii_mode        TEXT,
    created_by      TEXT
);
-- At most one open support conversation per young person.
CREATE UNIQUE INDEX conversations_one_open_support
    ON conversations(owner_id) WHERE kind = 'support' AND state <> 'closed';
CREATE INDEX conversations_state_created ON conversations(state, created_at);
CREATE INDEX conversations_assigned ON conversations(assigned_to) WHERE assigned_to IS NOT NULL;

CREATE TABLE participants (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role            TEXT NOT NULL,
    joined_at       BIGINT NOT NULL,
    left_at         BIGINT,
    PRIMARY KEY (conversation_id, user_id)
);

-- Purpose: the chat itself. `(sender_id, client_msg_id)` makes a resend idempotent.
-- The sender's role and display name are copied so history reads need no join.
-- `seq` is NULL while a message is held for moderation; it gets the next one on approval.
-- `status`: visible, held, rejected (never shown), removed (shown as removed; the original
-- text is kept in `original_body` as evidence).
CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq             BIGINT,
    status          TEXT NOT NULL DEFAULT 'visible',
    original_body   TEXT,
    sender_id       TEXT,
    sender_role     TEXT,
    sender_name     TEXT,
    client_msg_id   TEXT,
    body            TEXT NOT NULL,
    kind            TEXT NOT NULL,
    sent_at         BIGINT NOT NULL,
    severity        TEXT NOT NULL DEFAULT 'none',
    verdict         TEXT,
    UNIQUE (conversation_id, seq),
    UNIQUE (sender_id, client_msg_id)
);

CREATE TABLE read_markers (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
    updated_at      BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, user_id)
);

-- Purpose: append-only record of what staff and the system did (who, what, when, why).
CREATE TABLE audit_events (
    id          TEXT PRIMARY KEY,
    at          BIGINT NOT NULL,
    actor_id    TEXT,
    action      TEXT NOT NULL,
    target_type TEXT NOT NULL,
    target_id   TEXT NOT NULL,
    details     TEXT
);
CREATE INDEX audit_events_target ON audit_events(target_type, target_id, at);

-- Purpose: the human moderation queue: messages held from rooms and reports by users.
-- `evidence` keeps the reported text as it was, whatever later happens to the message.
CREATE TABLE moderation_items (
    id                TEXT PRIMARY KEY,
    kind              TEXT NOT NULL,
    conversation_id   TEXT REFERENCES conversations(id) ON DELETE CASCADE,
    message_id        TEXT REFERENCES messages(id) ON DELETE CASCADE,
    subject_user_id   TEXT REFERENCES users(id) ON DELETE CASCADE,
    reporter_id       TEXT REFERENCES users(id) ON DELETE SET NULL,
    reason            TEXT NOT NULL,
    severity          TEXT NOT NULL,
    severity_rank     BIGINT NOT NULL,
    evidence          TEXT,
    state             TEXT NOT NULL,
    claimed_by        TEXT,
    claim_expires_at  BIGINT,
    decision          TEXT,
    decision_reason   TEXT,
    decided_by        TEXT,
    decided_at        BIGINT,
    appeal_state      TEXT,
    appeal_reason     TEXT,
    appealed_at       BIGINT,
    appeal_decided_by TEXT,
    created_at        BIGINT NOT NULL
);
CREATE INDEX moderation_items_open ON moderation_items(state, severity_rank, created_at);
CREATE INDEX moderation_items_message ON moderation_items(message_id);

-- Purpose: every moderation decision (who, what, when, why), append-only.
CREATE TABLE moderation_log (
    id              TEXT PRIMARY KEY,
    at              BIGINT NOT NULL,
    moderator_id    TEXT,
    action          TEXT NOT NULL,
    item_id         TEXT,
    subject_user_id TEXT,
    reason          TEXT,
    expires_at      BIGINT
);
CREATE INDEX moderation_log_at ON moderation_log(at);
