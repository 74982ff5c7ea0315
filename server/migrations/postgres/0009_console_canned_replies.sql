-- Canned replies: short texts the YOT admin keeps for staff to put into chats (with variables
-- such as {worker_name}, filled in by the console before sending). Purpose: consistent, quick
-- replies on a busy desk. Holds no personal data; kept until an admin deletes one.
CREATE TABLE canned_replies (
    id         TEXT PRIMARY KEY,
    title      TEXT NOT NULL UNIQUE,
    body       TEXT NOT NULL,
    created_by TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
