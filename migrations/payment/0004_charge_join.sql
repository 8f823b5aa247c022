-- payment: the join of the two events a charge needs (SPEC §1 step 4, §4 Ordering;
-- contexts/payment/domain/payment.c, payment_join_*). booking.booking.created (the
-- intent, a row of payments) and inventory.stock.reserved come from different producers
-- and arrive in either order; the first is recorded, the second charges at once.
--
-- One row per booking payment has heard of by either event. Both handlers create it if
-- absent (INSERT … ON CONFLICT DO NOTHING) and lock it (SELECT … FOR UPDATE) before
-- anything else, so the deliveries of one booking are serialised on this row, in one
-- instance or in several: the one that commits second sees the first one's half and
-- charges. Never both (the lock), never neither (the second waits for the first's commit).
-- Lock order: this row, then the payments row, always.
CREATE TABLE charge_joins (
    booking_id           uuid        PRIMARY KEY,
    created_at           timestamptz NOT NULL DEFAULT clock_timestamp(),  -- the first half arrived
    reservation_event_id uuid,                   -- the inventory.stock.reserved; NULL until it arrives
    reserved_at          timestamptz,            -- when it arrived
    CHECK ((reservation_event_id IS NULL) = (reserved_at IS NULL))
);
