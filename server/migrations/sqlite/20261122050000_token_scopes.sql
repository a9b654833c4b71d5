-- API tokens get a scope (one bot, or every bot when null), a creator, and can be revoked.
alter table api_tokens add column bot_id text;
alter table api_tokens add column created_by text;
alter table api_tokens add column revoked_at integer;
