-- Every failed attempt's error, not only the last: the dashboard's message view
-- and eventctl show how a message failed over its retries (a database that
-- was down, then a constraint, then a handler bug). inbox.c appends one entry
-- {attempt, at, error} per failure and keeps the last 20. Adding a column with
-- a constant default rewrites nothing. Identical in every context (tests/arch).
ALTER TABLE inbox ADD COLUMN errors jsonb NOT NULL DEFAULT '[]'::jsonb;
