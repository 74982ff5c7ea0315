-- Feedback after a support chat, the chat-feedback setting and cell-level differencing
-- (docs/surveys.md).

-- `survey_assignments` purpose and retention, as amended: a survey version sent to one
-- respondent about one participant at one stage, or (`conversation_id` set, no participant)
-- the feedback survey offered to the young person after that support chat closed: no
-- participant record, so an anonymous young person stays anonymous. Retention: with the
-- participant; chat feedback with its conversation (deleting the chat deletes it); either way
-- at most the survey retention period (`survey_retention_days`) unless the conversation is
-- under a safeguarding hold.
ALTER TABLE survey_assignments ALTER COLUMN participant_id DROP NOT NULL;
ALTER TABLE survey_assignments ADD COLUMN conversation_id TEXT REFERENCES conversations(id) ON DELETE CASCADE;
CREATE INDEX survey_assignments_conversation ON survey_assignments(conversation_id);
CREATE INDEX survey_assignments_created ON survey_assignments(created_at);

-- The cells each released report showed (JSON object of name → count), so that a later
-- report can be refused when one of its cells differs from a released one by 1 to k − 1.
-- NULL for releases made before this migration (those are still checked by population).
ALTER TABLE survey_report_releases ADD COLUMN cells TEXT;

-- Purpose: survey settings staff change at run time; today only `chat_feedback_survey` (the
-- id of the survey offered after a support chat closes; no row = none offered).
-- Retention: while set; no personal data.
CREATE TABLE survey_settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);
