-- When an agent last answered: a paused session whose user spoke after it is "waiting".
alter table sessions add column last_agent_reply_on integer;
