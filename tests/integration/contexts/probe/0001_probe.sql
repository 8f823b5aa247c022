-- The probe: a test-only context (not one of the six) whose handler can be
-- told to succeed, fail, or crash, so the reliability tests can watch the
-- event core under every outcome. 'effects' is what "exactly once" is
-- measured on: it has no unique key, so a second effect would show.
CREATE TABLE effects (
    event_id   uuid        NOT NULL,
    item       text        NOT NULL,
    kind       text        NOT NULL,   -- 'created' or 'handled'
    attempt    integer     NOT NULL,
    handled_by text        NOT NULL,
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    tx         bigint      NOT NULL DEFAULT txid_current() -- the top-level transaction, savepoints or not
);
CREATE INDEX effects_item_idx ON effects (item);

-- Items whose 'switch' behaviour is turned on: their handler succeeds.
CREATE TABLE switches (
    item text PRIMARY KEY
);
