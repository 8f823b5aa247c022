-- The outbox and the inbox of one context (SPEC §4). Every context has an
-- identical copy of this file as its migration 0002; the migrations runner
-- applies it with search_path set to the context's own schema, so the tables
-- land in <context>.outbox and <context>.inbox. tests/arch checks the copies
-- stay identical. Both tables are an operations contract: eventctl and people
-- query them, so columns are only ever added.

-- Outbox: events written in the business transaction, published by the relay.
--
--   pending ──(broker ack)──▶ published ──(RETENTION_HOURS)──▶ deleted
--      │  ▲
--      │  └─(nack, return, lost connection: attempts+1, next_attempt_at = backoff)
--      └──(RELAY_MAX_ATTEMPTS failed publishes)──▶ failed ──(eventctl requeue)──▶ pending
CREATE TABLE outbox (
    id              uuid        PRIMARY KEY,            -- the event id (CloudEvent id)
    type            text        NOT NULL,               -- the event type, also the routing key
    correlation_id  text        NOT NULL,
    causation_id    text        NOT NULL,
    payload         jsonb       NOT NULL,               -- the full CloudEvent
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    status          text        NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'published', 'failed')),
    attempts        integer     NOT NULL DEFAULT 0,     -- failed publishes so far
    next_attempt_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    locked_by       text,                               -- relay instance holding the lease
    locked_until    timestamptz,                        -- the lease: free again after this
    published_at    timestamptz,
    last_error      text
);
-- The relay's claim: pending rows due now, oldest first.
CREATE INDEX outbox_pending_idx ON outbox (next_attempt_at) WHERE status = 'pending';
-- Retention: published rows by age.
CREATE INDEX outbox_published_idx ON outbox (published_at) WHERE status = 'published';
CREATE INDEX outbox_correlation_idx ON outbox (correlation_id);

-- Inbox: one row per (event, consumer) this context has seen; the key makes a
-- second delivery of the same event a no-op.
--
--   (delivery) ─▶ processing ──(handler ok, same transaction)──▶ processed ─▶ deleted
--                    │   ▲                                                (RETENTION_HOURS)
--                    │   └─(crash: redelivered, attempts+1)
--                    ├──(transient error)──▶ failed ──(next_attempt_at: retried from the
--                    │                          │       stored payload)──▶ processed
--                    │                          └──(attempts exhausted)──▶ dead
--                    └──(permanent error / attempts exhausted)──▶ dead ─(requeue)─▶ failed
CREATE TABLE inbox (
    id                uuid        NOT NULL,             -- the event id
    consumer          text        NOT NULL,             -- the consuming context (one handler per type)
    type              text        NOT NULL,
    correlation_id    text        NOT NULL,
    causation_id      text        NOT NULL,
    payload           jsonb       NOT NULL,             -- the full CloudEvent, for retries and requeue
    created_at        timestamptz NOT NULL DEFAULT clock_timestamp(),
    status            text        NOT NULL DEFAULT 'processing'
                      CHECK (status IN ('processing', 'processed', 'failed', 'dead')),
    attempts          integer     NOT NULL DEFAULT 0,   -- handler starts, recorded before each run
    next_attempt_at   timestamptz,                      -- failed: when to retry; also the lease of a retry in progress
    processed_at      timestamptz,
    last_error        text,
    dead_lettered_at  timestamptz,                      -- dead: when the copy reached <context>.dead-letter
    requeued          integer     NOT NULL DEFAULT 0,   -- times an operator sent it back from dead
    PRIMARY KEY (id, consumer)
);
-- The retry sweep: failed rows due now.
CREATE INDEX inbox_due_idx ON inbox (next_attempt_at) WHERE status = 'failed';
-- Dead rows whose copy still has to reach the dead-letter queue.
CREATE INDEX inbox_dead_pending_idx ON inbox (created_at) WHERE status = 'dead' AND dead_lettered_at IS NULL;
-- Retention: processed rows by age.
CREATE INDEX inbox_processed_idx ON inbox (processed_at) WHERE status = 'processed';
CREATE INDEX inbox_correlation_idx ON inbox (correlation_id);
