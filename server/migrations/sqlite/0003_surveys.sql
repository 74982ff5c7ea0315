-- Feedback surveys on YOT interventions (docs/surveys.md). Children's data: every table
-- below holds pseudonymous records only (no names, no contact details). Retention: survey
-- answers and participant records are kept for the life of the intervention plus the
-- council's YOT retention period (deleting a participant deletes its assignments and
-- answers through ON DELETE CASCADE); definitions and the release log are kept while the
-- survey exists. All times are milliseconds since the Unix epoch; dates are `YYYY-MM-DD`.

-- Purpose: the managed list of intervention types participants are recorded against.
-- Retention: kept while referenced; retired types stay so old records keep their meaning.
CREATE TABLE intervention_types (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    retired     BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);
INSERT INTO intervention_types (id, name, created_at) VALUES
    ('referral_order', 'Referral order', 0),
    ('youth_rehabilitation_order', 'Youth rehabilitation order', 0),
    ('triage', 'Triage', 0),
    ('community_resolution', 'Community resolution', 0),
    ('youth_caution', 'Youth caution', 0),
    ('youth_conditional_caution', 'Youth conditional caution', 0),
    ('reparation', 'Reparation', 0),
    ('restorative_justice', 'Restorative justice', 0),
    ('prevention_programme', 'Prevention programme', 0),
    ('junior_attendance_centre', 'Junior attendance centre', 0),
    ('fire_safety_day', 'Fire safety day', 0);

-- Purpose: a survey and its editable draft (title, audience, wording and questions as JSON).
-- Publishing copies the draft into `survey_versions`, which never change.
-- Retention: while the survey is in use; no personal data.
CREATE TABLE surveys (
    id          TEXT PRIMARY KEY,
    draft       TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);

-- Purpose: frozen, numbered versions of a survey; every assignment and answer points at one.
-- Retention: as long as any answer refers to it.
CREATE TABLE survey_versions (
    id            TEXT PRIMARY KEY,
    survey_id     TEXT NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    version       BIGINT NOT NULL,
    definition    TEXT NOT NULL,
    published_by  TEXT NOT NULL,
    published_at  BIGINT NOT NULL,
    UNIQUE (survey_id, version)
);

-- Purpose: one young person on one intervention, under a pseudonymous reference (never a
-- name). Equality fields are optional and used only for aggregate, suppressed reports.
-- Retention: the YOT's case-record retention period, then deleted with its answers.
CREATE TABLE survey_participants (
    id                    TEXT PRIMARY KEY,
    reference             TEXT NOT NULL UNIQUE,
    intervention_type_id  TEXT NOT NULL REFERENCES intervention_types(id),
    start_date            TEXT NOT NULL,
    end_date              TEXT,
    age_band              TEXT,
    gender                TEXT,
    ethnicity             TEXT,
    looked_after          TEXT,
    created_by            TEXT NOT NULL,
    created_at            BIGINT NOT NULL
);

-- Purpose: a survey version sent to one respondent (a young person's account, or a
-- parent/carer holding a single-use access code) about one participant at one stage.
-- The access code is stored only as a SHA-256 hash with a short lookup selector.
-- Retention: with the participant.
CREATE TABLE survey_assignments (
    id                 TEXT PRIMARY KEY,
    survey_id          TEXT NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    survey_version_id  TEXT NOT NULL REFERENCES survey_versions(id),
    participant_id     TEXT NOT NULL REFERENCES survey_participants(id) ON DELETE CASCADE,
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
    completed_at       BIGINT
);
CREATE INDEX survey_assignments_user ON survey_assignments(respondent_user_id, status);
CREATE INDEX survey_assignments_code ON survey_assignments(code_selector);
CREATE INDEX survey_assignments_version ON survey_assignments(survey_version_id);

-- Purpose: the one response to an assignment (saved part-way, then final). `answers` is JSON
-- validated against the version's questions; `submission_id` makes a retried final
-- submission return the same response. Retention: with the participant.
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

-- Purpose: the disclosure log. Each report released (JSON, CSV or chart) records who ran it
-- and the exact population it covered, so that a later report whose population differs
-- from an earlier one by fewer than the threshold is suppressed (differencing attacks).
-- Retention: while the survey exists (it is also the record of who looked at what).
CREATE TABLE survey_report_releases (
    id           TEXT PRIMARY KEY,
    scope        TEXT NOT NULL,
    population   TEXT NOT NULL,
    digest       TEXT NOT NULL,
    released_by  TEXT NOT NULL,
    released_at  BIGINT NOT NULL,
    UNIQUE (scope, digest)
);
