-- The notification context's own tables (schema "notification"; the runner
-- sets search_path, so names are unqualified). Two tables: the replica of
-- the users it may write to, filled by usermanagement.user.registered, and
-- the notifications it has sent. A row in notifications IS the sending, so
-- UNIQUE (kind, reference_id) is what makes "one welcome per user, one
-- notification per final booking" hold across redeliveries and instances.

-- Replica of usermanagement's users: who can be notified, at which address.
-- Written only by on_usermanagement_user_registered (INSERT ... ON CONFLICT
-- DO NOTHING), never by a request.
CREATE TABLE recipients (
    user_id       uuid        PRIMARY KEY,
    email         text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    registered_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Notifications sent. reference_id is the user (kind 'welcome') or the
-- booking (kinds 'booking_*'). email is the address it went to at the time;
-- the body is kept for the record but never logged or published.
CREATE TABLE notifications (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL REFERENCES recipients (user_id),
    kind         text        NOT NULL
                 CHECK (kind IN ('welcome', 'booking_confirmed', 'booking_rejected', 'booking_cancelled')),
    reference_id uuid        NOT NULL,
    channel      text        NOT NULL DEFAULT 'email' CHECK (channel IN ('email')),
    email        text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    subject      text        NOT NULL CHECK (length(subject) BETWEEN 1 AND 200),
    body         text        NOT NULL CHECK (length(body) BETWEEN 1 AND 1000),
    event_id     uuid        NOT NULL,  -- the integration event that caused it
    sent_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT notifications_once UNIQUE (kind, reference_id)
);
-- GET /notifications?user_id=: a user's notifications, newest first.
CREATE INDEX notifications_user_idx ON notifications (user_id, sent_at DESC, id DESC);
