-- servicecatalog's business tables (SPEC §1): the replica of known user ids,
-- providers and their offerings. Applied with search_path = servicecatalog,
-- so names are unqualified. The CHECKs repeat the domain's rules
-- (contexts/servicecatalog/domain/) so that no code path, not even a bug,
-- can store what the domain would refuse.

-- Replica of usermanagement's users, filled by usermanagement.user.registered:
-- only a known user may own a provider. Rows are never deleted.
CREATE TABLE known_users (
    user_id     uuid        PRIMARY KEY,          -- ON CONFLICT DO NOTHING makes the handler idempotent
    event_id    uuid        NOT NULL,             -- the event that told us (the first one)
    recorded_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Providers:  registered ──(POST /providers/{id}/activate)──▶ active
-- (the state machine is domain/provider.c; activated_at is set iff active).
CREATE TABLE providers (
    id            uuid        PRIMARY KEY,
    owner_id      uuid        NOT NULL REFERENCES known_users (user_id),
    business_name text        NOT NULL CHECK (octet_length(business_name) BETWEEN 1 AND 200),
    provider_type text        NOT NULL CHECK (provider_type ~ '^[a-z][a-z0-9_]{0,63}$'),
    status        text        NOT NULL DEFAULT 'registered'
                  CHECK (status IN ('registered', 'active')),
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp(),
    activated_at  timestamptz,
    CHECK ((status = 'active') = (activated_at IS NOT NULL))
);
CREATE INDEX providers_owner_idx ON providers (owner_id);

-- Offerings: published once, never changed (booking and inventory copy the
-- price and the capacity from the event).
CREATE TABLE offerings (
    id          uuid        PRIMARY KEY,
    provider_id uuid        NOT NULL REFERENCES providers (id),
    name        text        NOT NULL CHECK (octet_length(name) BETWEEN 1 AND 200),
    price_cents bigint      NOT NULL CHECK (price_cents BETWEEN 1 AND 100000000),
    capacity    bigint      NOT NULL CHECK (capacity BETWEEN 1 AND 1000000),
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX offerings_provider_idx ON offerings (provider_id);
