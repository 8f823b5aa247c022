-- inventory: what booking.booking.expired does to stock (SPEC §1: "inventory releases any
-- reservation"; contexts/inventory/handlers.c, on_booking_booking_expired).
--
--   reserved ──(booking.booking.expired)──▶ released   movement 'release'
--   sold     ──(booking.booking.expired)──▶ released   movement 'return' (sold → available:
--                                                      the sale is reversed, payment refunds)
--
-- One row per expired booking, written under the offering's stock lock whether or not the
-- booking holds stock, so events that arrive after it know the booking is over: a late
-- booking.booking.created reserves nothing, a late payment.payment.succeeded sells nothing.
CREATE TABLE expirations (
    booking_id  uuid        PRIMARY KEY,
    offering_id uuid        NOT NULL,
    event_id    uuid        NOT NULL,              -- the booking.booking.expired
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);

ALTER TABLE movements DROP CONSTRAINT movements_kind_check;
ALTER TABLE movements ADD CONSTRAINT movements_kind_check
    CHECK (kind IN ('reserve', 'release', 'sale', 'return'));
