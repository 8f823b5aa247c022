-- Applied twice this would fail on the primary key; applied by two runners at
-- once, seed_log would hold two rows. The pause keeps this file running long
-- enough for a second runner to be waiting on the lock meanwhile.
INSERT INTO item (id, name) VALUES (1, 'first'), (2, 'it''s quoted; DROP TABLE item; --');
INSERT INTO seed_log (note) VALUES ('seeded');
SELECT pg_sleep(0.2);
