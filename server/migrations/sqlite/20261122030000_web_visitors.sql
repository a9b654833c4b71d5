-- Anonymous visitors of the web chat. The browser keeps the secret; we keep only its SHA-256.
create table web_visitors (
    id text primary key not null,
    bot_id text not null references bots(id),
    secret_hash text not null,
    name text,
    created_at integer not null
);
