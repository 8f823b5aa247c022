-- payment: one row per booking, the payment aggregate (contexts/payment/domain/payment.c).
-- A row starts as the intent recorded from booking.booking.created and is decided once,
-- on inventory.stock.reserved:
--
--   intent ──(amount ≤ PAYMENT_LIMIT_CENTS)──▶ succeeded
--      └────(amount > PAYMENT_LIMIT_CENTS)───▶ failed (reason 'limit_exceeded')
--
-- UNIQUE booking_id is what makes "one payment per booking" hold even if two
-- deliveries race; the CHECKs repeat the domain's invariants so no writer can break them.
CREATE TABLE payments (
    id           uuid        PRIMARY KEY,
    booking_id   uuid        NOT NULL UNIQUE,
    amount_cents bigint      NOT NULL CHECK (amount_cents BETWEEN 1 AND 100000000000),
    status       text        NOT NULL DEFAULT 'intent'
                 CHECK (status IN ('intent', 'succeeded', 'failed')),
    reason       text,                                   -- why it failed, e.g. 'limit_exceeded'
    created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),  -- the intent arrived
    decided_at   timestamptz,                            -- succeeded or failed at
    intent_event_id   uuid   NOT NULL,                   -- the booking.booking.created that opened it
    decision_event_id uuid,                              -- the inventory.stock.reserved that decided it
    CHECK ((status = 'failed') = (reason IS NOT NULL)),
    CHECK ((status = 'intent') = (decided_at IS NULL)),
    CHECK ((status = 'intent') = (decision_event_id IS NULL))
);
