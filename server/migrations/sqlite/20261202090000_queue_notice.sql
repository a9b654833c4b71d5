-- The place in line a queued user was last told on a channel that pushes, and when (their next
-- notice waits for a change of it and for the bot's interval).
alter table handoffs add column told_position integer;
alter table handoffs add column told_at integer;

-- Analytics reads a bot's handoffs by when they were queued.
create index handoffs_by_time on handoffs (bot_id, queued_at);
