-- Support chats the young person stopped answering (docs/duty-desk.md, "Inactive chats").

-- Why a support chat closed, for staff: `staff` (closed with an outcome), `ended` (the young
-- person ended it), `quick_exit` (they left with the quick exit: maybe not safe to talk),
-- `no_response` (no answer for the configured time). NULL for chats closed before this column.
ALTER TABLE conversations ADD COLUMN closed_reason TEXT;
-- When the worker was told the young person had not answered (once per silence).
ALTER TABLE conversations ADD COLUMN inactive_prompted_at BIGINT;
