-- The writer indexes, for search, the messages and sessions a transaction added at the end of that
-- transaction instead of row by row. Any statement with a trigger opens a statement savepoint, and
-- FTS5 writes its pending index to disk at every savepoint once it has been written to in the
-- transaction: indexing row by row made each message flush a tiny segment (a sixth of the writer's
-- time, plus merging those segments later).
--
-- While the writer's transaction holds a row here, the triggers below leave rows newer than the
-- marks to that end step. The row is deleted before the commit, so no other connection ever sees
-- one, and their writes (seeding scripts, tests) are indexed by the triggers as before. Ids are
-- AUTOINCREMENT, so a row added in the transaction always has an id above the marks.
create table index_deferral (
    messages_after integer not null,
    sessions_after integer not null
);

drop trigger messages_fts_insert;
create trigger messages_fts_insert after insert on messages
when not exists (select 1 from index_deferral)
begin
    insert into messages_fts (rowid, text, source, author)
        values (new.id, new.text, new.source, new.author);
end;

-- A row not indexed yet has nothing to remove (removing it would corrupt the index).
drop trigger messages_fts_delete;
create trigger messages_fts_delete after delete on messages
when not exists (select 1 from index_deferral where old.id > messages_after)
begin
    insert into messages_fts (messages_fts, rowid, text, source, author)
        values ('delete', old.id, old.text, old.source, old.author);
end;

drop trigger messages_fts_update;
create trigger messages_fts_update after update of text, source, author on messages
when not exists (select 1 from index_deferral where old.id > messages_after)
begin
    insert into messages_fts (messages_fts, rowid, text, source, author)
        values ('delete', old.id, old.text, old.source, old.author);
    insert into messages_fts (rowid, text, source, author)
        values (new.id, new.text, new.source, new.author);
end;

drop trigger session_names_insert;
create trigger session_names_insert after insert on sessions
when not exists (select 1 from index_deferral)
begin
    insert into session_names (rowid, full_name, user_id)
    values (new.id, new.full_name, new.user_id);
end;

drop trigger session_names_delete;
create trigger session_names_delete after delete on sessions
when not exists (select 1 from index_deferral where old.id > sessions_after)
begin
    insert into session_names (session_names, rowid, full_name, user_id)
    values ('delete', old.id, old.full_name, old.user_id);
end;

drop trigger session_names_update;
create trigger session_names_update after update of full_name, user_id on sessions
when (old.full_name is not new.full_name or old.user_id is not new.user_id)
    and not exists (select 1 from index_deferral where old.id > sessions_after)
begin
    insert into session_names (session_names, rowid, full_name, user_id)
    values ('delete', old.id, old.full_name, old.user_id);
    insert into session_names (rowid, full_name, user_id)
    values (new.id, new.full_name, new.user_id);
end;
