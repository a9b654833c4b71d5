-- The place in line a queued user was last told on a channel that pushes, and when (their next
-- notice waits for a change of it and for the bot's interval).
alter table handoffs add column told_position integer;
alter table handoffs add column told_at integer;
