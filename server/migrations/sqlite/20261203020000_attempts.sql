-- Sign-in failures and new chats, by account or address: counted within a window by every
-- instance alike, so a throttle holds however many instances answer.
create table attempts (
    key text not null,
    at integer not null
);
create index attempts_by_key on attempts (key, at);
create index attempts_by_time on attempts (at);
