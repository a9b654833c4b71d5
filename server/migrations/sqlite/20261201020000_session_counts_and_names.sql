-- The console's counts (all, paused, waiting) of each bot, kept by triggers, so the page does
-- not count 100,000 sessions on every render.
create table session_counts (
    bot_id text primary key,
    total integer not null default 0,
    paused integer not null default 0,
    waiting integer not null default 0
);

insert into session_counts (bot_id, total, paused, waiting)
select bot_id, count(*), coalesce(sum(paused = 1), 0),
       coalesce(sum(paused = 1 and coalesce(last_heard_on, 0) > coalesce(last_agent_reply_on, 0)), 0)
from sessions group by bot_id;

create trigger session_counts_insert after insert on sessions begin
    insert into session_counts (bot_id) values (new.bot_id) on conflict(bot_id) do nothing;
    update session_counts set
        total = total + 1,
        paused = paused + (new.paused = 1),
        waiting = waiting + (new.paused = 1
            and coalesce(new.last_heard_on, 0) > coalesce(new.last_agent_reply_on, 0))
    where bot_id = new.bot_id;
end;

create trigger session_counts_delete after delete on sessions begin
    update session_counts set
        total = total - 1,
        paused = paused - (old.paused = 1),
        waiting = waiting - (old.paused = 1
            and coalesce(old.last_heard_on, 0) > coalesce(old.last_agent_reply_on, 0))
    where bot_id = old.bot_id;
end;

-- Fires on every message, but its `when` lets only real changes of the counts through.
create trigger session_counts_update after update of paused, last_heard_on, last_agent_reply_on
on sessions
when (old.paused = 1) is not (new.paused = 1)
  or (old.paused = 1 and coalesce(old.last_heard_on, 0) > coalesce(old.last_agent_reply_on, 0))
     is not (new.paused = 1 and coalesce(new.last_heard_on, 0) > coalesce(new.last_agent_reply_on, 0))
begin
    update session_counts set
        paused = paused - (old.paused = 1) + (new.paused = 1),
        waiting = waiting
            - (old.paused = 1
               and coalesce(old.last_heard_on, 0) > coalesce(old.last_agent_reply_on, 0))
            + (new.paused = 1
               and coalesce(new.last_heard_on, 0) > coalesce(new.last_agent_reply_on, 0))
    where bot_id = new.bot_id;
end;

-- Names and user ids by trigram, for the session list's search: a substring that few sessions
-- have is found without reading every session.
create virtual table session_names using fts5(
    full_name, user_id, content = 'sessions', content_rowid = 'id', tokenize = 'trigram'
);
insert into session_names (session_names) values ('rebuild');

create trigger session_names_insert after insert on sessions begin
    insert into session_names (rowid, full_name, user_id)
    values (new.id, new.full_name, new.user_id);
end;

create trigger session_names_delete after delete on sessions begin
    insert into session_names (session_names, rowid, full_name, user_id)
    values ('delete', old.id, old.full_name, old.user_id);
end;

create trigger session_names_update after update of full_name, user_id on sessions
when old.full_name is not new.full_name or old.user_id is not new.user_id
begin
    insert into session_names (session_names, rowid, full_name, user_id)
    values ('delete', old.id, old.full_name, old.user_id);
    insert into session_names (rowid, full_name, user_id)
    values (new.id, new.full_name, new.user_id);
end;
