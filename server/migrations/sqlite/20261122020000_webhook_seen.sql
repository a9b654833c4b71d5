-- Ids of webhook deliveries already handled: channels redeliver, and each must count once.
create table webhook_seen (
    key text primary key not null,
    created_at integer not null
);
