-- Transparency about monitoring (docs/privacy.md): a young person is told in plain words, at
-- the start of a support chat, that a supervisor may read it. The notice is versioned; this
-- table records which version each young person acknowledged and when, so that a new version
-- is shown again until it too is acknowledged.
--
-- Purpose: evidence that the young person was told, and whether to show the notice again.
-- Retention: with the account (deleted with it, and on a deletion request; see erase_user).
CREATE TABLE monitoring_notice_acks (
    user_id         TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    version         BIGINT NOT NULL,
    acknowledged_at BIGINT NOT NULL,
    PRIMARY KEY (user_id, version)
);
