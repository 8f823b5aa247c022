-- usermanagement's business table (SPEC §1: users, roles). Applied with
-- search_path = usermanagement, so the name is unqualified.
--
-- One row per user. Roles sit in the row as a sorted text[] rather than in a
-- table of their own so that a CHECK can hold the aggregate's invariant I1
-- (domain/user.c): the role 'provider' is held iff provider_status is not
-- 'none'. Roles and provider_status change only through domain/user.c.
CREATE TABLE users (
    id              uuid        PRIMARY KEY,                -- a uuid7 made by POST /users
    email           text        NOT NULL,                   -- normalised: ASCII letters lowercased
    name            text        NOT NULL,                   -- the display name
    roles           text[]      NOT NULL DEFAULT '{}',      -- sorted, each at most once
    provider_status text        NOT NULL DEFAULT 'none',
    created_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- Duplicate e-mails are refused case-insensitively because every address
    -- is stored lowercased (the domain lowercases ASCII only, as does
    -- lower() under the "C" collation), so plain UNIQUE is enough.
    CONSTRAINT users_email_key UNIQUE (email),
    CONSTRAINT users_email_lowercase CHECK (email = lower(email COLLATE "C")),
    CONSTRAINT users_email_length CHECK (octet_length(email) BETWEEN 3 AND 254),
    CONSTRAINT users_name_length CHECK (octet_length(name) BETWEEN 1 AND 200),
    CONSTRAINT users_roles_known CHECK (roles <@ ARRAY['provider']::text[]),
    CONSTRAINT users_provider_status_known
        CHECK (provider_status IN ('none', 'pending', 'active')),
    -- I1: a provider's owner holds the role, and only they have a provider status.
    CONSTRAINT users_provider_role_matches_status
        CHECK (('provider' = ANY (roles)) = (provider_status <> 'none'))
);
