-- Who did something is a kind (user, bot, agent, token, system, retention) and, where there is
-- one, an account or token id; the name stays for showing. Decisions read the kind.

alter table messages add column author_kind text;
alter table messages add column author_id integer;
alter table sessions add column paused_by_kind text;
alter table sessions add column paused_by_id integer;
alter table pause_history add column actor_id integer;
alter table audit_log add column actor_kind text;
alter table audit_log add column actor_id integer;

-- Tokens acted as "api"; they are tokens now.
update pause_history set actor_kind = 'token' where actor_kind = 'api';

-- The user's and the bot's messages are theirs; an agent's are a person's, or a token's when
-- written through the API.
update messages set author_kind = 'user' where source = 'user';
update messages set author_kind = 'bot' where source = 'bot';
update messages set author_kind = case when author = 'api' then 'token' else 'agent' end
where source = 'agent';
-- A pause or resume line is its pause history row's (written with the same time and name);
-- other system lines are hitl's.
update messages set author_kind = coalesce(
    (select p.actor_kind from pause_history p
     where p.session_id = messages.session_id and p.created_at = messages.created_at
       and p.actor = messages.author
     order by p.id limit 1),
    'system')
where source = 'system';

-- A person is found by their name only where exactly one account has it.
update messages set author_id = (select u.id from users u where u.name = messages.author)
where author_kind = 'agent'
  and (select count(*) from users u where u.name = messages.author) = 1;
update pause_history set actor_id = (select u.id from users u where u.name = pause_history.actor)
where actor_kind = 'agent'
  and (select count(*) from users u where u.name = pause_history.actor) = 1;

-- Who paused a session that is paused now: its newest pause.
update sessions set
    paused_by_kind = (select p.actor_kind from pause_history p
                      where p.session_id = sessions.id and p.paused = 1
                      order by p.id desc limit 1),
    paused_by_id = (select p.actor_id from pause_history p
                    where p.session_id = sessions.id and p.paused = 1
                    order by p.id desc limit 1)
where paused = 1;

-- Audit lines named a person by email and a token as "token <name>".
update audit_log set actor_kind = 'token' where actor like 'token %';
update audit_log set actor_kind = 'agent', actor_id = (select u.id from users u where u.email = audit_log.actor)
where actor_kind is null and exists (select 1 from users u where u.email = audit_log.actor);
update audit_log set actor_kind = 'retention' where actor = 'retention';
create index audit_log_by_actor on audit_log(actor_kind, actor_id, id);

-- Stored events carry the version of their format; a reader upgrades older ones.
alter table events add column version integer not null default 1;
