-- A notification for one person ("assigned to you", "taken over") names them; one without a
-- recipient is for every agent of its bot, as before.
alter table notifications add column recipient_id integer references users(id) on delete cascade;
