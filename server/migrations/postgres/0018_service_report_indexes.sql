-- Service reports (issue 24, docs/reports.md): each figure is one indexed scan over the
-- period, not a walk of the whole table. Indexes only; no new data.
CREATE INDEX conversations_support_created ON conversations(created_at) WHERE kind = 'support';
-- A young person's first support chat (first-time or returning).
CREATE INDEX conversations_support_owner ON conversations(owner_id, created_at) WHERE kind = 'support';
CREATE INDEX escalations_created ON escalations(created_at);
CREATE INDEX moderation_items_created ON moderation_items(created_at);
-- Flagged messages only (most are not), for the risk categories.
CREATE INDEX messages_flagged_sent ON messages(sent_at) WHERE severity <> 'none';
CREATE INDEX audit_events_action_at ON audit_events(action, at);
