-- The relay's claim reads pending rows "ORDER BY next_attempt_at, created_at
-- LIMIT n". With outbox_pending_idx on next_attempt_at alone the order needed
-- a sort, so PostgreSQL chose a bitmap scan of every pending index entry —
-- including the dead ones a published row leaves until vacuum, which a bitmap
-- scan never marks dead — and the claim grew to milliseconds under load: the
-- largest single cost of the booking saga (docs/benchmark.md). An index in the
-- claim's own order lets it stop after n live rows and prune dead entries as
-- it passes them. Identical in every context (tests/arch).
CREATE INDEX outbox_due_idx ON outbox (next_attempt_at, created_at) WHERE status = 'pending';
DROP INDEX outbox_pending_idx;
