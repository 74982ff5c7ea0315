-- The texts the whole service runs on, by version: the moderation policy (TOML) and the
-- monitoring notice young people are shown. Every node reads the latest version from here
-- (the database is the truth; a broker event only makes them look sooner), and earlier
-- versions stay listed and restorable. Purpose: operating the service; holds no personal data
-- (created_by is a staff id). Retention: kept for the life of the service.
CREATE TABLE policy_versions (
    kind TEXT NOT NULL,
    version BIGINT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    created_by TEXT,
    note TEXT,
    PRIMARY KEY (kind, version)
);
