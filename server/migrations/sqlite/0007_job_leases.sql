-- Jobs that must run on one node at a time (retention): the node holding an unexpired lease
-- runs it. Purpose: coordination only; holds no personal data. Retention: one row per job.
CREATE TABLE job_leases (
    name TEXT PRIMARY KEY,
    holder TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
