-- Staff telling the service its moderation verdict on a message was wrong: it missed a risk
-- (`missed`) or saw one that was not there (`wrong`), with the category and severity they
-- would have chosen. The marked messages, classified again with the rules in force, are a
-- labelled evaluation set of real traffic. Purpose: improving the classifier. The text is the
-- message's own (no copy): a mark goes with its message, so it lasts no longer than the chat's
-- retention, a deletion or an erasure allows. Retention: as the message.
CREATE TABLE verdict_marks (
    id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    marked_by TEXT NOT NULL,
    marked_at BIGINT NOT NULL,
    kind TEXT NOT NULL,
    category TEXT NOT NULL,
    severity TEXT NOT NULL,
    UNIQUE (message_id, marked_by)
);
CREATE INDEX verdict_marks_at ON verdict_marks (marked_at);
