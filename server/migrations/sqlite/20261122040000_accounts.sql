-- People who use the console. Passwords are argon2id hashes (PHC strings).
create table users (
    id integer primary key autoincrement,
    email text not null unique collate nocase,
    name text not null,
    password_hash text not null,
    role text not null check (role in ('admin', 'agent')),
    active integer not null default 1,
    created_at integer not null
);

-- The bots an agent works on (admins work on every bot).
create table user_bots (
    user_id integer not null references users(id) on delete cascade,
    bot_id text not null,
    primary key (user_id, bot_id)
);

-- Signed-in browsers. The cookie holds the token; we keep only its SHA-256.
create table login_sessions (
    token_hash text primary key not null,
    user_id integer not null references users(id) on delete cascade,
    csrf_token text not null,
    created_at integer not null,
    last_seen_at integer not null
);
create index login_sessions_by_user on login_sessions (user_id);

-- Security-relevant events (logins, failures, token and role changes), newest last.
create table audit_log (
    id integer primary key autoincrement,
    created_at integer not null,
    actor text,
    action text not null,
    detail text not null default '',
    address text
);
