-- Privacy by design: safeguarding holds keep a conversation past retention and through a young
-- person's deletion request, with who placed the hold and why.
ALTER TABLE conversations ADD COLUMN hold_reason TEXT;
ALTER TABLE conversations ADD COLUMN hold_by TEXT;
ALTER TABLE conversations ADD COLUMN hold_at BIGINT;

-- Access tokens issued before this moment are refused (sign-out everywhere, password change).
ALTER TABLE users ADD COLUMN tokens_valid_after BIGINT;
