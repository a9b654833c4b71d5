-- Human ownership of a conversation: a handoff is open (queued, then assigned) exactly while the
-- bot is paused for it, and closed with a reason. Its version grows with every change, so a
-- change decided on an older view (two agents claiming at once) is refused.
create table handoffs (
    id integer primary key,
    session_id integer not null references sessions(id) on delete cascade,
    bot_id text not null,
    state text not null check (state in ('queued', 'assigned', 'closed')),
    version integer not null default 1,
    assignee_id integer,
    assignee_name text,
    opened_by_kind text not null,
    opened_by_id integer,
    queued_at integer not null,
    assigned_at integer,
    closed_at integer,
    close_reason text
);

-- At most one open handoff per conversation.
create unique index handoffs_open on handoffs (session_id) where state <> 'closed';
-- The queue of a bot, oldest first (positions are counted over it).
create index handoffs_queue on handoffs (bot_id, queued_at, id) where state = 'queued';

-- Conversations paused before handoffs existed wait in the queue from when they were paused.
insert into handoffs (session_id, bot_id, state, opened_by_kind, opened_by_id, queued_at)
select id, bot_id, 'queued', coalesce(paused_by_kind, 'system'), paused_by_id,
       coalesce(paused_at, last_event_on)
from sessions where paused = 1;
