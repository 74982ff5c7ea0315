-- Push notifications (docs/privacy.md, "Push notifications").

-- Purpose: where to send a content-free "New message" notification for a young person's device
-- (a browser's push endpoint and its keys, or an FCM/APNs token). The session that registered
-- it is kept so that signing out of that session removes it.
-- Retention: until the device is removed, its session signs out, the push service answers
-- that it is gone (404/410), or the account is deleted.
CREATE TABLE push_subscriptions (
    id              TEXT PRIMARY KEY,
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    session_id      TEXT,
    kind            TEXT NOT NULL,
    address         TEXT NOT NULL,
    p256dh          TEXT,
    auth_secret     TEXT,
    device_label    TEXT,
    created_at      BIGINT NOT NULL,
    last_success_at BIGINT,
    UNIQUE (user_id, kind, address)
);
CREATE INDEX push_subscriptions_session ON push_subscriptions(session_id);

-- Purpose: at most one notification per chat in a short window (the time the last one was
-- sent). Retention: as long as the chat.
CREATE TABLE push_windows (
    conversation_id TEXT PRIMARY KEY REFERENCES conversations(id) ON DELETE CASCADE,
    last_sent_at    BIGINT NOT NULL
);
