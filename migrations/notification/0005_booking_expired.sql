-- notification: the kind 'booking_expired', sent on booking.booking.expired (SPEC §1: a
-- booking still pending at its deadline expires, "notification tells the customer").
ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check;
ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check
    CHECK (kind IN ('welcome', 'booking_confirmed', 'booking_rejected', 'booking_cancelled',
                    'booking_expired'));
