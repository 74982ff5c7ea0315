-- The escalation chain: an open escalation is alerted again, step after step, until someone
-- acknowledges it (step 1 at its deadline, then again every deadline's length). `steps` counts
-- the re-escalations fired (each step fires once across nodes: the update that takes it
-- requires the step count it saw); `next_step_at` is when the next one is due (NULL once it is
-- acknowledged or resolved, or for escalations that never re-escalate).
ALTER TABLE escalations ADD COLUMN steps BIGINT NOT NULL DEFAULT 0;
ALTER TABLE escalations ADD COLUMN next_step_at BIGINT;
UPDATE escalations SET steps = 1 WHERE reescalated_at IS NOT NULL;
UPDATE escalations SET next_step_at = deadline_at WHERE state = 'open' AND reescalated_at IS NULL;
UPDATE escalations SET next_step_at = reescalated_at + (deadline_at - created_at)
    WHERE state = 'open' AND reescalated_at IS NOT NULL;
CREATE INDEX escalations_next_step ON escalations (next_step_at);
