-- What leaves hitl, written in the transaction of the change that causes it and sent by a task
-- that retries: a crash between the commit and the send loses nothing.
create table outbox (
    id integer primary key autoincrement,
    bot_id text not null,
    channel text not null,
    -- A deleted conversation takes its unsent messages with it.
    session_id integer not null references sessions(id) on delete cascade,
    message_id integer not null,
    recipient text not null,
    -- The message's content (JSON), as the channel turns it into its own format.
    content text not null,
    attempts integer not null default 0,
    next_attempt_at integer not null,
    created_at integer not null,
    sent_at integer,
    failed_at integer,
    last_error text
);
create index outbox_pending on outbox(next_attempt_at, id) where sent_at is null and failed_at is null;
create index outbox_pending_by_session on outbox(session_id, id)
where sent_at is null and failed_at is null;
