-- Data paths a safeguarding service can defend (issue 22): deletion that finishes when a
-- safeguarding hold ends, and what one source of traffic may put in the support queue.

-- When the account's owner asked for it to be deleted while some of its chats were kept under a
-- safeguarding hold (by a supervisor, or automatically for an escalation nobody had resolved).
-- Lifting the last hold then deletes what was kept, and the account. NULL: no such request.
ALTER TABLE users ADD COLUMN erasure_requested_at BIGINT;

-- Where a support chat came from: a keyed hash (HMAC-SHA-256 under a key derived from the
-- signing key, 128 bits, hex) of the client's address (IPv6: its /64), never the address. Used
-- only to bound how many chats one source has waiting and to keep a blocked source out; set
-- while the chat is open and cleared when it closes.
ALTER TABLE conversations ADD COLUMN source_key TEXT;
-- How many of the same source's chats were already waiting when this one opened (0: none).
-- The queue serves every source's first waiting chat before anyone's second.
ALTER TABLE conversations ADD COLUMN source_turn BIGINT NOT NULL DEFAULT 0;
CREATE INDEX conversations_source ON conversations(source_key) WHERE source_key IS NOT NULL;

-- Purpose: sources a supervisor marked as abusive (the chat marked, why, by whom), kept out of
-- new sign-ups and chats until `blocked_until`. Holds the keyed hash only, never an address.
-- Retention: deleted by the retention job once the block has ended.
CREATE TABLE blocked_sources (
    source_key      TEXT PRIMARY KEY,
    blocked_until   BIGINT NOT NULL,
    conversation_id TEXT,
    blocked_by      TEXT,
    reason          TEXT NOT NULL,
    created_at      BIGINT NOT NULL
);
