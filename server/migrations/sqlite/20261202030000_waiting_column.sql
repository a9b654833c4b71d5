-- "Waiting" is decided by the engine on every change of a session and stored, so the list's
-- filter and the kept counts read a column instead of repeating the rule. Existing rows get
-- what the rule said of them until now.
alter table sessions add column waiting integer not null default 0;
update sessions set waiting = 1
where paused = 1 and coalesce(last_heard_on, 0) > coalesce(last_agent_reply_on, 0);

drop trigger session_counts_insert;
drop trigger session_counts_delete;
drop trigger session_counts_update;

create trigger session_counts_insert after insert on sessions begin
    insert into session_counts (bot_id) values (new.bot_id) on conflict(bot_id) do nothing;
    update session_counts set
        total = total + 1,
        paused = paused + (new.paused = 1),
        waiting = waiting + (new.waiting = 1)
    where bot_id = new.bot_id;
end;

create trigger session_counts_delete after delete on sessions begin
    update session_counts set
        total = total - 1,
        paused = paused - (old.paused = 1),
        waiting = waiting - (old.waiting = 1)
    where bot_id = old.bot_id;
end;

create trigger session_counts_update after update of paused, waiting on sessions
when (old.paused = 1) is not (new.paused = 1) or (old.waiting = 1) is not (new.waiting = 1)
begin
    update session_counts set
        paused = paused - (old.paused = 1) + (new.paused = 1),
        waiting = waiting - (old.waiting = 1) + (new.waiting = 1)
    where bot_id = new.bot_id;
end;

update session_counts set waiting = (
    select count(*) from sessions s where s.bot_id = session_counts.bot_id and s.waiting = 1
);
