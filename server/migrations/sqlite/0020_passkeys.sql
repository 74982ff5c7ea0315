-- Passkeys (WebAuthn) as a staff second factor (docs/security.md, "Passkeys").

-- Purpose: a staff member's passkey: its credential id, the public key and state as the
-- WebAuthn library keeps them (JSON; no secret: the private key never leaves the
-- authenticator), and the authenticator's last signature counter, for clone detection.
-- Retention: until its person or an admin removes it, or the account is deleted.
CREATE TABLE passkeys (
    id            TEXT PRIMARY KEY,
    user_id       TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    credential_id TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    passkey       TEXT NOT NULL,
    sign_count    BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL,
    last_used_at  BIGINT
);
CREATE INDEX passkeys_user ON passkeys(user_id);

-- Purpose: a WebAuthn ceremony under way (a registration, or the passkey step of a sign-in,
-- keyed by that sign-in's challenge, hashed): the challenge it sent, kept to check the answer.
-- Single use (taken as it is read), five minutes. Retention: until used or expired (expired
-- rows go at the next ceremony).
CREATE TABLE passkey_ceremonies (
    token_hash TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    state      TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
