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
    on_duty       BOOLEAN NOT NULL DEFAULT FALSE,
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
    risk        TEXT NOT NULL DEFAULT 'none'
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
CREATE TABLE messages (
    id              TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq             BIGINT NOT NULL,
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
