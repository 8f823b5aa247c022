-- Every running instance of the context says it is alive (common/src/heartbeat.c): one row
-- per INSTANCE_ID, upserted every HEARTBEAT_INTERVAL_MS by the instance's heartbeat thread,
-- so the operations dashboard lists the endpoints and how long ago each was last seen. The
-- same DDL in every context (tests/arch/check_layers.sh keeps the copies identical).
-- An instance that stopped keeps its row (last_seen shows when) for HEARTBEAT_FORGET
-- (a day): each beat deletes the context's rows silent for longer.
CREATE TABLE heartbeat (
    instance_id text        PRIMARY KEY,
    context     text        NOT NULL,
    pid         integer     NOT NULL,
    started_at  timestamptz NOT NULL,   -- when this run of the instance started
    last_seen   timestamptz NOT NULL DEFAULT clock_timestamp()
);
