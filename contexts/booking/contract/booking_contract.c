/*
 * booking_contract.c - the contract tables of the events
 * booking publishes (see booking_contract.h).
 */
#include "booking_contract.h"

#define ROW(m) CONTRACT_AT(struct booking_booking_created, m)
static const struct contract_field booking_booking_created_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0,
     "the new booking", ROW(booking_id)},
    {"user_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "who books",
     ROW(user_id)},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0,
     "what is booked", ROW(offering_id)},
    {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000,
     "units asked for", ROW(quantity)},
    {"amount_cents", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 100000000000,
     "quantity × unit price, in cents", ROW(amount_cents)},
};
#undef ROW
const struct contract_event BOOKING_BOOKING_CREATED = {
    BOOKING_BOOKING_CREATED_TYPE,
    BOOKING_BOOKING_CREATED_VERSION,
    "booking",
    "a customer asked to book units of an offering",
    booking_booking_created_fields,
    CONTRACT_COUNT(booking_booking_created_fields),
    sizeof(struct booking_booking_created)};

#define ROW(m) CONTRACT_AT(struct booking_booking_confirmed, m)
static const struct contract_field booking_booking_confirmed_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking",
     ROW(booking_id)},
    {"user_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "who booked",
     ROW(user_id)},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0,
     "what was booked", ROW(offering_id)},
    {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000, "units sold",
     ROW(quantity)},
    {"amount_cents", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 100000000000,
     "amount paid, in cents", ROW(amount_cents)},
};
#undef ROW
const struct contract_event BOOKING_BOOKING_CONFIRMED = {
    BOOKING_BOOKING_CONFIRMED_TYPE,
    BOOKING_BOOKING_CONFIRMED_VERSION,
    "booking",
    "stock was reserved, paid and debited: the booking holds",
    booking_booking_confirmed_fields,
    CONTRACT_COUNT(booking_booking_confirmed_fields),
    sizeof(struct booking_booking_confirmed)};

#define ROW(m) CONTRACT_AT(struct booking_booking_rejected, m)
static const struct contract_field booking_booking_rejected_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking",
     ROW(booking_id)},
    {"user_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "who booked",
     ROW(user_id)},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0,
     "what was booked", ROW(offering_id)},
    {"reason", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NAME, 1, 64,
     "why, e.g. 'insufficient_stock'", ROW(reason)},
};
#undef ROW
const struct contract_event BOOKING_BOOKING_REJECTED = {
    BOOKING_BOOKING_REJECTED_TYPE,
    BOOKING_BOOKING_REJECTED_VERSION,
    "booking",
    "not enough stock: the booking failed before payment",
    booking_booking_rejected_fields,
    CONTRACT_COUNT(booking_booking_rejected_fields),
    sizeof(struct booking_booking_rejected)};

#define ROW(m) CONTRACT_AT(struct booking_booking_cancelled, m)
static const struct contract_field booking_booking_cancelled_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking",
     ROW(booking_id)},
    {"user_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "who booked",
     ROW(user_id)},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0,
     "what was booked", ROW(offering_id)},
    {"reason", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NAME, 1, 64,
     "why, e.g. 'payment_declined'", ROW(reason)},
};
#undef ROW
const struct contract_event BOOKING_BOOKING_CANCELLED = {
    BOOKING_BOOKING_CANCELLED_TYPE,
    BOOKING_BOOKING_CANCELLED_VERSION,
    "booking",
    "payment failed: the booking was cancelled and its stock released",
    booking_booking_cancelled_fields,
    CONTRACT_COUNT(booking_booking_cancelled_fields),
    sizeof(struct booking_booking_cancelled)};

#define ROW(m) CONTRACT_AT(struct booking_booking_expired, m)
static const struct contract_field booking_booking_expired_fields[] = {
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking",
     ROW(booking_id)},
    {"user_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "who booked",
     ROW(user_id)},
    {"offering_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0,
     "what was booked", ROW(offering_id)},
    {"quantity", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 1000,
     "units to give back if reserved or sold", ROW(quantity)},
    {"amount_cents", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 100000000000,
     "amount to give back if charged, in cents", ROW(amount_cents)},
};
#undef ROW
const struct contract_event BOOKING_BOOKING_EXPIRED = {
    BOOKING_BOOKING_EXPIRED_TYPE,
    BOOKING_BOOKING_EXPIRED_VERSION,
    "booking",
    "the booking was still pending at its deadline: stock and money it holds go back",
    booking_booking_expired_fields,
    CONTRACT_COUNT(booking_booking_expired_fields),
    sizeof(struct booking_booking_expired)};

const struct contract_event *const booking_contract_events[] = {
    &BOOKING_BOOKING_CREATED,   &BOOKING_BOOKING_CONFIRMED, &BOOKING_BOOKING_REJECTED,
    &BOOKING_BOOKING_CANCELLED, &BOOKING_BOOKING_EXPIRED,   NULL,
};
