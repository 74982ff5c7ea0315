-- Privacy by design: safeguarding holds keep a conversation past retention and through a young
-- person's deletion request, with who placed the hold and why.
ALTER TABLE conversations ADD COLUMN hold_reason TEXT;
ALTER TABLE conversations ADD COLUMN hold_by TEXT;
ALTER TABLE conversations ADD COLUMN hold_at BIGINT;
