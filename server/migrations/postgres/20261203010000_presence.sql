-- Who is there, across instances: each instance counts a person's open consoles and notes when
-- it last saw them (refreshed while a console is open); a person is there while any instance
-- saw them within the grace period.
create table presence (
    instance_id text not null,
    user_id bigint not null references users(id) on delete cascade,
    consoles bigint not null check (consoles >= 0),
    seen_at bigint not null,
    primary key (instance_id, user_id)
);
create index presence_of_user on presence (user_id);

-- What the person's bots were last told of them, and since when: the instance that changes it
-- tells them, once.
alter table agent_settings add column shown_status text not null default 'offline'
    check (shown_status in ('online', 'busy', 'away', 'offline'));
alter table agent_settings add column shown_at bigint;
