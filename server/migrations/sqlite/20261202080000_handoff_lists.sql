-- The console's lists by owner: the conversations each agent owns, and those closed lately.
create index handoffs_owned on handoffs (bot_id, assignee_id) where state = 'assigned';
create index handoffs_closed on handoffs (bot_id, closed_at) where state = 'closed';
create index handoffs_closed_of on handoffs (session_id, closed_at, id) where state = 'closed';
