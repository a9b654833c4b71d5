-- What the timers of a handoff count from, and who let an offer lapse.
-- active_at: when it entered the queue or was given to its owner, or when its owner chose to
-- keep it (the inactivity count starts again from the latest of that and the last message).
-- offered: given by someone else (not taken by its owner), so it waits for the owner to answer.
-- lapses: how many owners let it go unanswered; excluded: their ids (a JSON array).
alter table handoffs add column active_at integer;
alter table handoffs add column offered integer not null default 0;
alter table handoffs add column lapses integer not null default 0;
alter table handoffs add column excluded text not null default '[]';
update handoffs set active_at = coalesce(assigned_at, queued_at);

-- Timers of handoffs, kept so that a restart loses none: each is armed for one version of its
-- handoff and one starting point, and fires at most once (then it is 'fired'; one that no
-- longer applies is 'cancelled').
create table timers (
    id integer primary key,
    kind text not null,
    bot_id text not null,
    session_id integer not null references sessions(id) on delete cascade,
    handoff_id integer not null references handoffs(id) on delete cascade,
    guard_version integer not null,
    basis integer not null,
    due_at integer not null,
    state text not null default 'pending' check (state in ('pending', 'fired', 'cancelled')),
    done_at integer
);

create unique index timers_pending on timers (handoff_id, kind) where state = 'pending';
create index timers_due on timers (due_at) where state = 'pending';
create index timers_of_handoff on timers (handoff_id, kind, guard_version, basis);
