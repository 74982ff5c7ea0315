-- Staff identity (issue 21): sessions as records, the account lifecycle, sign-in throttling,
-- second factors and single sign-on. Times are milliseconds since the Unix epoch.

-- Sessions: a refresh-token family is one sign-in. What a person (or an admin) needs to
-- recognise it: when it began and was last used, the device's user agent and the source
-- address (staff and registered accounts only: anonymous young people's sessions keep
-- neither), how it signed in, and why it ended.
ALTER TABLE refresh_families ADD COLUMN last_seen_at BIGINT;
ALTER TABLE refresh_families ADD COLUMN user_agent TEXT;
ALTER TABLE refresh_families ADD COLUMN source_ip TEXT;
ALTER TABLE refresh_families ADD COLUMN method TEXT;
ALTER TABLE refresh_families ADD COLUMN end_reason TEXT;
-- Every node looks for sessions ended in the last seconds, to close their sockets.
CREATE INDEX refresh_families_revoked ON refresh_families(revoked_at) WHERE revoked_at IS NOT NULL;

-- A WebSocket ticket belongs to the session, and the socket lives as long as the access token
-- that asked for it.
ALTER TABLE ws_tickets ADD COLUMN session_id TEXT;
ALTER TABLE ws_tickets ADD COLUMN token_expires_at BIGINT;

-- Offboarded: can never sign in again; the account (and so the name on what it did) stays.
ALTER TABLE users ADD COLUMN offboarded_at BIGINT;

-- Purpose: one-time password reset codes an admin makes for a staff account (stored hashed,
-- one live code per account).
CREATE TABLE password_resets (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_by TEXT
);
CREATE INDEX password_resets_user ON password_resets(user_id);

-- Purpose: failed sign-ins (and password checks, second-factor codes), counted per account
-- and source together so that one source's failures never refuse another's right password.
-- `subject` is the account as typed (lower case) or its id; `source` the client address
-- bucket, or `*` for the account as a whole. Forgotten a day after the last failure.
CREATE TABLE auth_failures (
    scope           TEXT NOT NULL,
    subject         TEXT NOT NULL,
    source          TEXT NOT NULL,
    failures        BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    blocked_until   BIGINT,
    PRIMARY KEY (scope, subject, source)
);
CREATE INDEX auth_failures_last ON auth_failures(last_failure_at);

-- Second factor: a TOTP secret (RFC 6238) once enrolled, and the last time step used (a code
-- is good once). Recovery codes are kept only as hashes.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_enrolled_at BIGINT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT;

CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash TEXT NOT NULL,
    used_at   BIGINT,
    PRIMARY KEY (user_id, code_hash)
);

-- Purpose: the first step of a two-step sign-in (password right, second factor to come), or
-- an enrolment under way (with the secret offered). Short-lived, stored hashed, a few tries.
CREATE TABLE sign_in_challenges (
    token_hash     TEXT PRIMARY KEY,
    user_id        TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose        TEXT NOT NULL,
    pending_secret TEXT,
    attempts       BIGINT NOT NULL DEFAULT 0,
    created_at     BIGINT NOT NULL,
    expires_at     BIGINT NOT NULL,
    method         TEXT NOT NULL
);
CREATE INDEX sign_in_challenges_expires ON sign_in_challenges(expires_at);

-- Single sign-on: the identity provider's subject an account is bound to, and the sign-ins
-- under way (state, nonce and PKCE verifier; single use).
ALTER TABLE users ADD COLUMN oidc_subject TEXT;
CREATE UNIQUE INDEX users_oidc_subject ON users(oidc_subject) WHERE oidc_subject IS NOT NULL;

CREATE TABLE oidc_logins (
    state_hash    TEXT PRIMARY KEY,
    nonce         TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    expires_at    BIGINT NOT NULL
);
CREATE INDEX oidc_logins_expires ON oidc_logins(expires_at);
