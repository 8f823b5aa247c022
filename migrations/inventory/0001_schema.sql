-- inventory: the stock of each offering, the reservations bookings hold, and
-- the audit trail of every stock movement (SPEC §1). Applied with
-- search_path = inventory, so names are unqualified.
--
-- Never oversell: the handlers lock the stock row (SELECT … FOR UPDATE) and
-- let the domain decide; the CHECK below is the last line of defence, so
-- even a buggy writer cannot commit a stock that breaks the invariant.

-- One row per offering, created from servicecatalog.offering.published.
CREATE TABLE stock (
    offering_id uuid        PRIMARY KEY,
    capacity    bigint      NOT NULL CHECK (capacity >= 1),
    available   bigint      NOT NULL,
    reserved    bigint      NOT NULL DEFAULT 0,
    sold        bigint      NOT NULL DEFAULT 0,
    -- Bumped by every movement; the movement carries the new value as its seq,
    -- so the audit trail of an offering has one gap-free order.
    version     bigint      NOT NULL DEFAULT 0,
    event_id    uuid        NOT NULL,              -- the offering.published that created it
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT stock_invariant CHECK (
        capacity = available + reserved + sold
        AND available >= 0 AND reserved >= 0 AND sold >= 0)
);

-- A booking's hold on units (domain/reservation.c):
--   reserved ──(payment.succeeded)──▶ sold
--      └─────(payment.failed)──────▶ released
CREATE TABLE reservations (
    booking_id  uuid        PRIMARY KEY,           -- one reservation per booking
    offering_id uuid        NOT NULL REFERENCES stock (offering_id),
    quantity    bigint      NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    status      text        NOT NULL CHECK (status IN ('reserved', 'sold', 'released')),
    event_id    uuid        NOT NULL,              -- the booking.created that reserved it
    settled_by  uuid,                              -- the payment event that sold or released it
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK ((status = 'reserved') = (settled_by IS NULL))
);
CREATE INDEX reservations_offering_idx ON reservations (offering_id);

-- Bookings refused for insufficient stock: no stock moved, but the decision is
-- kept, so a second booking.created of the same booking (another event id)
-- gets no second, possibly different, answer.
CREATE TABLE refusals (
    booking_id  uuid        PRIMARY KEY,
    offering_id uuid        NOT NULL REFERENCES stock (offering_id),
    quantity    bigint      NOT NULL CHECK (quantity BETWEEN 1 AND 1000),
    reason      text        NOT NULL,
    available   bigint      NOT NULL,              -- what was available at the decision
    event_id    uuid        NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- The audit trail: every reserve, release and sale with the levels before and
-- after it, the booking and the event that caused it.
CREATE TABLE movements (
    id               uuid        PRIMARY KEY,
    offering_id      uuid        NOT NULL REFERENCES stock (offering_id),
    seq              bigint      NOT NULL,         -- stock.version after this movement
    kind             text        NOT NULL CHECK (kind IN ('reserve', 'release', 'sale')),
    quantity         bigint      NOT NULL CHECK (quantity >= 1),
    booking_id       uuid        NOT NULL,
    event_id         uuid        NOT NULL,
    available_before bigint      NOT NULL,
    reserved_before  bigint      NOT NULL,
    sold_before      bigint      NOT NULL,
    available_after  bigint      NOT NULL,
    reserved_after   bigint      NOT NULL,
    sold_after       bigint      NOT NULL,
    at               timestamptz NOT NULL DEFAULT clock_timestamp(),
    UNIQUE (offering_id, seq),
    UNIQUE (booking_id, kind),                     -- each stock effect of a booking once
    CHECK (available_before + reserved_before + sold_before
           = available_after + reserved_after + sold_after)
);
