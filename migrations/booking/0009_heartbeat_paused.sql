-- Whether the instance's consumer has paused itself (its circuit breaker is open:
-- a dependency failed BREAKER_THRESHOLD times in a row), as of its last beat, so
-- the dashboard's Endpoints shows it beside /health and the consumer_paused
-- metric. Identical in every context (tests/arch/check_layers.sh).
ALTER TABLE heartbeat ADD COLUMN paused boolean NOT NULL DEFAULT false;
