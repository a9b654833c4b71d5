-- A token may belong to a person: it then acts as them, with their role and bots, and stops
-- working when they are deactivated. A token of nobody keeps its own name and scope.
alter table api_tokens add column user_id integer references users(id);
