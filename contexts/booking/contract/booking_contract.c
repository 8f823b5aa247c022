/*
 * booking_contract.c - the contract tables of the events
 * booking publishes (see booking_contract.h).
 */
#include "booking_contract.h"

/* The bounds of a booking's amount, in every event that carries it. */
#define AMOUNT(s, doc) CONTRACT_INT(s, amount_cents, 1, 100000000000, doc)

/* The ids every booking event after its creation carries, with the same words. */
#define IDS(s)                                                                                     \
    CONTRACT_UUID(s, booking_id, "the booking"), CONTRACT_UUID(s, user_id, "who booked"),          \
        CONTRACT_UUID(s, offering_id, "what was booked")

static const struct contract_field created[] = {
    CONTRACT_UUID(booking_booking_created, booking_id, "the new booking"),
    CONTRACT_UUID(booking_booking_created, user_id, "who books"),
    CONTRACT_UUID(booking_booking_created, offering_id, "what is booked"),
    CONTRACT_INT(booking_booking_created, quantity, 1, 1000, "units asked for"),
    AMOUNT(booking_booking_created, "quantity × unit price, in cents"),
};
CONTRACT_EVENT(BOOKING_BOOKING_CREATED, "booking", "a customer asked to book units of an offering",
               created, booking_booking_created);

static const struct contract_field confirmed[] = {
    IDS(booking_booking_confirmed),
    CONTRACT_INT(booking_booking_confirmed, quantity, 1, 1000, "units sold"),
    AMOUNT(booking_booking_confirmed, "amount paid, in cents"),
};
CONTRACT_EVENT(BOOKING_BOOKING_CONFIRMED, "booking",
               "stock was reserved, paid and debited: the booking holds", confirmed,
               booking_booking_confirmed);

static const struct contract_field rejected[] = {
    IDS(booking_booking_rejected),
    CONTRACT_NAME(booking_booking_rejected, reason, 64, "why, e.g. 'insufficient_stock'"),
};
CONTRACT_EVENT(BOOKING_BOOKING_REJECTED, "booking",
               "not enough stock: the booking failed before payment", rejected,
               booking_booking_rejected);

static const struct contract_field cancelled[] = {
    IDS(booking_booking_cancelled),
    CONTRACT_NAME(booking_booking_cancelled, reason, 64, "why, e.g. 'payment_declined'"),
};
CONTRACT_EVENT(BOOKING_BOOKING_CANCELLED, "booking",
               "payment failed: the booking was cancelled and its stock released", cancelled,
               booking_booking_cancelled);

static const struct contract_field expired[] = {
    IDS(booking_booking_expired),
    CONTRACT_INT(booking_booking_expired, quantity, 1, 1000,
                 "units to give back if reserved or sold"),
    AMOUNT(booking_booking_expired, "amount to give back if charged, in cents"),
};
CONTRACT_EVENT(BOOKING_BOOKING_EXPIRED, "booking",
               "the booking was still pending at its deadline: stock and money it holds go back",
               expired, booking_booking_expired);

const struct contract_event *const booking_contract_events[] = {
    &BOOKING_BOOKING_CREATED,   &BOOKING_BOOKING_CONFIRMED, &BOOKING_BOOKING_REJECTED,
    &BOOKING_BOOKING_CANCELLED, &BOOKING_BOOKING_EXPIRED,   NULL,
};
