-- History review: full-text search over messages, who handed a conversation over or back, an
-- audit log that covers conversations too, and events that can be purged with their session.

-- The text lives once, in `messages`; the index follows it through triggers, so every write of
-- the engine keeps it in sync inside the same transaction. `source` and `author` are indexed too,
-- so a search for a rare kind of message (an agent's) intersects word lists instead of reading
-- every match.
create virtual table messages_fts using fts5(
    text,
    source,
    author,
    content = 'messages',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);
create trigger messages_fts_insert after insert on messages begin
    insert into messages_fts (rowid, text, source, author)
        values (new.id, new.text, new.source, new.author);
end;
create trigger messages_fts_delete after delete on messages begin
    insert into messages_fts (messages_fts, rowid, text, source, author)
        values ('delete', old.id, old.text, old.source, old.author);
end;
create trigger messages_fts_update after update of text, source, author on messages begin
    insert into messages_fts (messages_fts, rowid, text, source, author)
        values ('delete', old.id, old.text, old.source, old.author);
    insert into messages_fts (rowid, text, source, author)
        values (new.id, new.text, new.source, new.author);
end;
insert into messages_fts (messages_fts) values ('rebuild');

-- What kind of actor paused or resumed: 'bot' (its rules or an external bot), 'user' (the
-- user's own "cancel" reached the rules), 'agent' (a person), 'api' (a token), 'system'.
alter table pause_history add column actor_kind text;
update pause_history set actor_kind = case
    when actor = 'bot' and paused = 1 then 'bot'
    when actor = 'bot' then 'user'
    when actor = 'api' then 'api'
    else 'agent' end;
create index pause_history_by_time on pause_history (created_at);

-- Audit lines about a conversation name it, so they can be filtered by bot and session.
alter table audit_log add column bot_id text;
alter table audit_log add column session_id integer;
create index audit_log_by_action on audit_log (action, id);
create index audit_log_by_bot on audit_log (bot_id, id);

-- Events name their session, so deleting a conversation deletes what the log held of it.
alter table events add column session_id integer;
update events set session_id = coalesce(
    json_extract(data, '$.message.sessionId'),
    json_extract(data, '$.session.id'),
    json_extract(data, '$.notification.sessionId'));
create index events_by_session on events (session_id) where session_id is not null;

-- Per-bot settings admins change in the console (retention).
create table bot_settings (
    bot_id text primary key not null references bots(id),
    retention_days integer
);

-- Filters of the history: messages by author (agent), sessions by channel.
create index messages_by_author on messages (author, id) where author is not null;
create index sessions_by_channel on sessions (bot_id, channel, last_event_on desc);
-- Analytics read a range of days: by time, with what they count in the index itself.
create index messages_by_time on messages (created_at, source, session_id);
