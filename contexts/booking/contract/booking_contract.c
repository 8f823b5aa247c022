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

/* The rows of an event that moves the booking's units and money: the ids, how many, how much. */
#define IDS_UNITS_AMOUNT(s, units, amount)                                                         \
    IDS(s), CONTRACT_INT(s, quantity, 1, 1000, units), AMOUNT(s, amount)

/* The rows of an event that ends the booking with a reason: the ids and why. */
#define IDS_REASON(s, why) IDS(s), CONTRACT_NAME(s, reason, CONTRACT_NAME_MAX, why)

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
    IDS_UNITS_AMOUNT(booking_booking_confirmed, "units sold", "amount paid, in cents")};
CONTRACT_EVENT(BOOKING_BOOKING_CONFIRMED, "booking",
               "stock was reserved, paid and debited: the booking holds", confirmed,
               booking_booking_confirmed);

static const struct contract_field rejected[] = {
    IDS_REASON(booking_booking_rejected, "why, e.g. 'insufficient_stock'")};
CONTRACT_EVENT(BOOKING_BOOKING_REJECTED, "booking",
               "not enough stock: the booking failed before payment", rejected,
               booking_booking_rejected);

static const struct contract_field cancelled[] = {
    IDS_REASON(booking_booking_cancelled, "why, e.g. 'payment_declined'")};
CONTRACT_EVENT(BOOKING_BOOKING_CANCELLED, "booking",
               "payment failed: the booking was cancelled and its stock released", cancelled,
               booking_booking_cancelled);

static const struct contract_field expired[] = {
    IDS_UNITS_AMOUNT(booking_booking_expired, "units to give back if reserved or sold",
                     "amount to give back if charged, in cents")};
CONTRACT_EVENT(BOOKING_BOOKING_EXPIRED, "booking",
               "the booking was still pending at its deadline: stock and money it holds go back",
               expired, booking_booking_expired);

const struct contract_event *const booking_contract_events[] = {
    &BOOKING_BOOKING_CREATED,   &BOOKING_BOOKING_CONFIRMED, &BOOKING_BOOKING_REJECTED,
    &BOOKING_BOOKING_CANCELLED, &BOOKING_BOOKING_EXPIRED,   NULL,
};
