-- The booking context's own tables (schema "booking", set as search_path by
-- the migrations runner). The CHECKs repeat the domain's invariants
-- (contexts/booking/domain/booking.c), so even a bug in the code cannot store
-- a booking the state machine would not allow.

-- Replica of offering prices, filled by servicecatalog.offering.published.
-- Offerings never change price, so a row is written once and never updated.
CREATE TABLE offerings (
    offering_id uuid        PRIMARY KEY,
    price_cents bigint      NOT NULL CHECK (price_cents BETWEEN 1 AND 100000000),
    learnt_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Bookings and their state:
--
--   pending ──(inventory.stock.debited)──────────────▶ confirmed
--      ├─────(inventory.stock.reservation_failed)─────▶ rejected  (reason)
--      └─────(payment.payment.failed)─────────────────▶ cancelled (reason)
CREATE TABLE bookings (
    id           uuid        PRIMARY KEY,
    user_id      uuid        NOT NULL,
    offering_id  uuid        NOT NULL REFERENCES offerings (offering_id),
    quantity     integer     NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    amount_cents bigint      NOT NULL CHECK (amount_cents BETWEEN 1 AND 100000000000),
    status       text        NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'confirmed', 'rejected', 'cancelled')),
    reason       text        CHECK (char_length(reason) BETWEEN 1 AND 64),
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- A reason exactly when the booking failed.
    CONSTRAINT bookings_reason_iff_failed
        CHECK ((status IN ('rejected', 'cancelled')) = (reason IS NOT NULL))
);
CREATE INDEX bookings_offering_idx ON bookings (offering_id);

-- History: one row per domain event of a booking, written in the same
-- transaction as the change (or fact) it records. seq orders the rows as they
-- were written; event_id is the integration event named in 'event' (the one
-- consumed, or for the creation the booking.booking.created published), and
-- UNIQUE (booking_id, event_id) keeps one event from being recorded twice.
CREATE TABLE booking_history (
    seq        bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_id uuid        NOT NULL REFERENCES bookings (id),
    at         timestamptz NOT NULL DEFAULT clock_timestamp(),
    status     text        NOT NULL
               CHECK (status IN ('pending', 'confirmed', 'rejected', 'cancelled')),
    event      text        NOT NULL CHECK (char_length(event) BETWEEN 1 AND 128),
    event_id   uuid        NOT NULL,
    CONSTRAINT booking_history_event_once UNIQUE (booking_id, event_id)
);
CREATE INDEX booking_history_booking_idx ON booking_history (booking_id, seq);
