-- booking: the deadline of a pending booking (SPEC §1: BOOKING_TIMEOUT_MS) and the
-- final state 'expired' it leads to (contexts/booking/domain/booking.c, booking_expire):
--
--   pending ──(deadline passed: the tick, contexts/booking/expiry.c)──▶ expired
--
-- deadline is set at creation (created_at + BOOKING_TIMEOUT_MS); bookings older than this
-- migration get created_at + 60 s, the default. correlation_id is the booking's saga
-- (the one booking.booking.created carried), so booking.booking.expired, written by the
-- tick outside any request, continues the same trace of events.
ALTER TABLE bookings ADD COLUMN deadline timestamptz;
UPDATE bookings SET deadline = created_at + interval '60 seconds';
ALTER TABLE bookings ALTER COLUMN deadline SET NOT NULL;
ALTER TABLE bookings ADD COLUMN correlation_id text;

ALTER TABLE bookings DROP CONSTRAINT bookings_status_check;
ALTER TABLE bookings ADD CONSTRAINT bookings_status_check
    CHECK (status IN ('pending', 'confirmed', 'rejected', 'cancelled', 'expired'));
ALTER TABLE booking_history DROP CONSTRAINT booking_history_status_check;
ALTER TABLE booking_history ADD CONSTRAINT booking_history_status_check
    CHECK (status IN ('pending', 'confirmed', 'rejected', 'cancelled', 'expired'));

-- The tick's claim: pending bookings by deadline.
CREATE INDEX bookings_pending_deadline_idx ON bookings (deadline) WHERE status = 'pending';
