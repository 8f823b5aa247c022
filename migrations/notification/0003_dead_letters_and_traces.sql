-- Dead letters, the exact bodies retries read (SPEC §4: Poison, Dead letters are recorded)
-- and the trace context of every event (SPEC §2: traceparent, kept in the outbox row).
-- Every context has an identical copy of this file as its migration 0003; tests/arch checks
-- the copies stay identical. Columns are only ever added.

-- The W3C traceparent the event carries (also inside payload), so the relay sets the AMQP
-- header and the operations tools show the trace without parsing payloads. NULL when the
-- event was written outside any request or delivery.
ALTER TABLE outbox ADD COLUMN traceparent text;

-- The exact text the consumer accepted, for retries and requeues. payload (jsonb) is
-- PostgreSQL's normalised form: numbers and whitespace come back differently (1e19 as a
-- 20-digit integer, spaces after every comma), so a retry parsing payload::text would not
-- read what the first attempt read. NULL on rows that never wait for a retry (a first
-- delivery handled at once); readers take coalesce(body, payload::text).
ALTER TABLE inbox ADD COLUMN body text;

-- Every message taken off <context>.events without ever entering the inbox: poison (not
-- JSON, not a CloudEvent, an unknown type or version, data that breaks its contract, a
-- routing key or source that is not the type's, content the database refuses, too large).
-- It is written and committed before the broker ack, so a crash between the two finds the
-- same letter again (fingerprint) instead of losing or doubling it. The copy in the broker's
-- <context>.dead-letter queue is published from here afterwards, as for dead inbox rows.
--
--   (poison delivery) ─▶ recorded ──(copy confirmed by the broker)──▶ dead_lettered_at set
--        ▲    │
--        └────┘ the same letter again: deliveries + 1, last_seen_at
--   any ──(eventctl purge)──▶ deleted
CREATE TABLE dead_letter (
    id               bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    fingerprint      text        NOT NULL UNIQUE,        -- md5 of message id and body: one row per letter
    message_id       text        NOT NULL,               -- the AMQP message_id as received ('' when none)
    routing_key      text        NOT NULL,
    type             text,                               -- the CloudEvent type, when the body had a readable one
    correlation_id   text,
    headers          jsonb       NOT NULL DEFAULT '{}',  -- AMQP properties and headers as received
    body             bytea       NOT NULL,               -- the raw body as received, cut after body_max bytes
    body_size        bigint      NOT NULL,               -- its full size
    reason           text        NOT NULL,
    attempts         integer     NOT NULL DEFAULT 0,     -- handler starts (0: poison never reaches a handler)
    deliveries       integer     NOT NULL DEFAULT 1,     -- times the broker brought it
    first_seen_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_seen_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    copy_due_at      timestamptz NOT NULL DEFAULT clock_timestamp(), -- the copy's lease while published
    dead_lettered_at timestamptz                         -- its copy reached <context>.dead-letter
);
-- Letters whose copy still has to reach the dead-letter queue.
CREATE INDEX dead_letter_copy_idx ON dead_letter (copy_due_at) WHERE dead_lettered_at IS NULL;
