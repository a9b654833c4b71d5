-- The hitl schema: bots, sessions, messages, pause history, notifications, the event log, tokens.
-- Times are unix milliseconds (integers sort and index well).

create table bots (
    id text primary key not null,
    name text not null,
    paused integer not null default 0,
    created_at integer not null
);

create table sessions (
    id integer primary key autoincrement,
    bot_id text not null references bots(id),
    channel text not null,
    user_id text not null,
    -- '' when the channel has no threads, so the unique key below treats it as a value.
    thread_id text not null default '',
    full_name text,
    avatar_url text,
    paused integer not null default 0,
    paused_by text,
    paused_reason text,
    paused_at integer,
    created_at integer not null,
    last_event_on integer not null,
    last_heard_on integer,
    last_message_id integer,
    unread_count integer not null default 0
);
-- The lookup every incoming message makes.
create unique index sessions_by_user on sessions(bot_id, channel, user_id, thread_id);
-- The session list, newest activity first, all or paused only.
create index sessions_by_activity on sessions(bot_id, last_event_on desc, id desc);
create index sessions_paused_by_activity on sessions(bot_id, paused, last_event_on desc, id desc);

create table messages (
    id integer primary key autoincrement,
    session_id integer not null references sessions(id) on delete cascade,
    kind text not null,
    source text not null check (source in ('user', 'bot', 'agent', 'system')),
    direction text not null check (direction in ('in', 'out')),
    text text not null,
    payload text not null,
    author text,
    created_at integer not null
);
-- A session's history, paged by id.
create index messages_by_session on messages(session_id, id);

create table pause_history (
    id integer primary key autoincrement,
    session_id integer not null references sessions(id) on delete cascade,
    paused integer not null,
    actor text not null,
    reason text,
    created_at integer not null
);
create index pause_history_by_session on pause_history(session_id, id);

create table notifications (
    id integer primary key autoincrement,
    bot_id text not null references bots(id),
    session_id integer references sessions(id) on delete set null,
    message text not null,
    level text not null check (level in ('info', 'success', 'warning', 'error')),
    url text,
    read_at integer,
    created_at integer not null
);
create index notifications_unread on notifications(read_at, id);

-- Every published event, so a client that reconnects gets what it missed.
create table events (
    seq integer primary key autoincrement,
    bot_id text not null,
    kind text not null,
    data text not null,
    created_at integer not null
);
create index events_by_bot on events(bot_id, seq);

create table api_tokens (
    id integer primary key autoincrement,
    name text not null,
    token_hash text not null unique,
    created_at integer not null,
    last_used_at integer
);

-- Server-wide values that must survive a restart (the console's key).
create table settings (
    key text primary key not null,
    value text not null
);
