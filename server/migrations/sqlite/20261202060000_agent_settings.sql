-- What each person chose for themselves as an agent: their status (online, busy, away, offline)
-- and, when set, how many conversations they own at once before automatic assignment passes
-- them over (else their bot's capacity).
create table agent_settings (
    user_id integer primary key references users(id) on delete cascade,
    status text not null default 'online' check (status in ('online', 'busy', 'away', 'offline')),
    capacity integer check (capacity is null or capacity between 1 and 1000)
);

-- Round robin asks who was given a conversation of a bot longest ago.
create index handoffs_assigned on handoffs (bot_id, assignee_id, assigned_at);
