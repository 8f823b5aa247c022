-- payment: what booking.booking.expired does to a booking's payment (SPEC §1: "payment voids
-- the intent or refunds a charge"; contexts/payment/domain/payment.c, payment_expire):
--
--   intent    ──(booking.booking.expired)──▶ voided    never charged, publishes nothing
--   succeeded ──(booking.booking.expired)──▶ refunded  publishes payment.payment.refunded
--   failed: nothing was taken, nothing changes
--
-- The expiry is recorded on the booking's join row (0004), under the same lock as both
-- halves of the join, so whichever half arrives after it finds it: an intent arriving
-- then is voided at once, a reservation arriving then is recorded but never charged.
ALTER TABLE charge_joins ADD COLUMN expired_event_id uuid;  -- the booking.booking.expired
ALTER TABLE charge_joins ADD COLUMN expired_at timestamptz;
ALTER TABLE charge_joins ADD CONSTRAINT charge_joins_expired_check
    CHECK ((expired_event_id IS NULL) = (expired_at IS NULL));

-- A voided payment is decided (decided_at, decision_event_id: the event that voided it);
-- a refunded one keeps its charge's decision and adds when and why it was refunded.
ALTER TABLE payments ADD COLUMN refunded_at timestamptz;
ALTER TABLE payments ADD COLUMN refund_event_id uuid;
ALTER TABLE payments DROP CONSTRAINT payments_status_check;
ALTER TABLE payments ADD CONSTRAINT payments_status_check
    CHECK (status IN ('intent', 'succeeded', 'failed', 'voided', 'refunded'));
ALTER TABLE payments ADD CONSTRAINT payments_refund_check
    CHECK ((status = 'refunded') = (refunded_at IS NOT NULL)
           AND (refunded_at IS NULL) = (refund_event_id IS NULL));
