-- Feedback after a support chat, the chat-feedback setting and cell-level differencing
-- (docs/surveys.md). SQLite cannot drop NOT NULL from a column, so `survey_assignments` (and
-- `survey_responses`, which references it) are rebuilt: both old tables are renamed first, so
-- that dropping them at the end cascades into nothing, and every row is copied unchanged.

ALTER TABLE survey_responses RENAME TO survey_responses_0005;
ALTER TABLE survey_assignments RENAME TO survey_assignments_0005;

-- Purpose: a survey version sent to one respondent (a young person's account, or a
-- parent/carer holding a single-use access code) about one participant at one stage, or
-- (`conversation_id` set, no participant) the feedback survey offered to the young person
-- after that support chat closed: no participant record, so an anonymous young person stays
-- anonymous. The access code is stored only as a SHA-256 hash with a short lookup selector.
-- Retention: with the participant; chat feedback with its conversation (deleting the chat
-- deletes it); either way at most the survey retention period (`survey_retention_days`)
-- unless the conversation is under a safeguarding hold.
CREATE TABLE survey_assignments (
    id                 TEXT PRIMARY KEY,
    survey_id          TEXT NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    survey_version_id  TEXT NOT NULL REFERENCES survey_versions(id),
    participant_id     TEXT REFERENCES survey_participants(id) ON DELETE CASCADE,
    respondent_kind    TEXT NOT NULL,
    respondent_user_id TEXT,
    code_selector      TEXT,
    code_hash          TEXT,
    code_expires_at    BIGINT,
    stage              TEXT NOT NULL,
    due_date           TEXT NOT NULL,
    status             TEXT NOT NULL,
    created_by         TEXT NOT NULL,
    created_at         BIGINT NOT NULL,
    completed_at       BIGINT,
    conversation_id    TEXT REFERENCES conversations(id) ON DELETE CASCADE
);
INSERT INTO survey_assignments (id, survey_id, survey_version_id, participant_id, respondent_kind, respondent_user_id,
    code_selector, code_hash, code_expires_at, stage, due_date, status, created_by, created_at, completed_at)
SELECT id, survey_id, survey_version_id, participant_id, respondent_kind, respondent_user_id,
    code_selector, code_hash, code_expires_at, stage, due_date, status, created_by, created_at, completed_at
FROM survey_assignments_0005;

-- Purpose: the one response to an assignment (saved part-way, then final). `answers` is JSON
-- validated against the version's questions; `submission_id` makes a retried final
-- submission return the same response. Retention: with its assignment.
CREATE TABLE survey_responses (
    id                 TEXT PRIMARY KEY,
    assignment_id      TEXT NOT NULL UNIQUE REFERENCES survey_assignments(id) ON DELETE CASCADE,
    survey_version_id  TEXT NOT NULL REFERENCES survey_versions(id),
    submission_id      TEXT,
    answers            TEXT NOT NULL,
    is_final           BIGINT NOT NULL DEFAULT 0,
    revision           BIGINT NOT NULL DEFAULT 0,
    created_at         BIGINT NOT NULL,
    updated_at         BIGINT NOT NULL,
    submitted_at       BIGINT
);
INSERT INTO survey_responses (id, assignment_id, survey_version_id, submission_id, answers, is_final, revision,
    created_at, updated_at, submitted_at)
SELECT id, assignment_id, survey_version_id, submission_id, answers, is_final, revision, created_at, updated_at, submitted_at
FROM survey_responses_0005;

DROP TABLE survey_responses_0005;
DROP TABLE survey_assignments_0005;
CREATE INDEX survey_assignments_user ON survey_assignments(respondent_user_id, status);
CREATE INDEX survey_assignments_code ON survey_assignments(code_selector);
CREATE INDEX survey_assignments_version ON survey_assignments(survey_version_id);
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
