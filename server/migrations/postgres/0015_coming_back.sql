-- Coming back to an anonymous chat (docs/privacy.md, "Coming back").

-- Purpose: a device-bound credential, so an anonymous young person can sign in again on the
-- device that keeps it (the app's secure storage, or the web chat's localStorage when they say
-- the device is their own). Only a SHA-256 hash of the secret (256 random bits) is kept.
-- Retention: until forgotten (by the young person, on any device), unused for the configured
-- number of days, or the account is deleted.
CREATE TABLE device_credentials (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    secret_hash  TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL
);
CREATE INDEX device_credentials_user ON device_credentials(user_id);

-- Purpose: an optional recovery phrase the young person writes down to continue on another
-- device. Kept only as an argon2id hash of the phrase (one phrase per account; a new one
-- replaces it). Retention: until replaced or removed, or the account is deleted.
CREATE TABLE recovery_phrases (
    user_id      TEXT PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
    phrase_hash  TEXT NOT NULL UNIQUE,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT
);
