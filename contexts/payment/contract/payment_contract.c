/*
 * payment_contract.c - the contract tables of the events
 * payment publishes (see payment_contract.h).
 */
#include "payment_contract.h"

#define ROW(m) CONTRACT_AT(struct payment_payment_succeeded, m)
static const struct contract_field payment_payment_succeeded_fields[] = {
    {"payment_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the payment",
     ROW(payment_id)},
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0,
     "the booking paid for", ROW(booking_id)},
    {"amount_cents", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 100000000000,
     "amount charged, in cents", ROW(amount_cents)},
};
#undef ROW
const struct contract_event PAYMENT_PAYMENT_SUCCEEDED = {
    PAYMENT_PAYMENT_SUCCEEDED_TYPE,
    PAYMENT_PAYMENT_SUCCEEDED_VERSION,
    "payment",
    "the amount of a booking was charged",
    payment_payment_succeeded_fields,
    CONTRACT_COUNT(payment_payment_succeeded_fields),
    sizeof(struct payment_payment_succeeded)};

#define ROW(m) CONTRACT_AT(struct payment_payment_failed, m)
static const struct contract_field payment_payment_failed_fields[] = {
    {"payment_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the payment",
     ROW(payment_id)},
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the booking",
     ROW(booking_id)},
    {"amount_cents", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 100000000000,
     "amount asked, in cents", ROW(amount_cents)},
    {"reason", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_NAME, 1, 64,
     "why, e.g. 'limit_exceeded'", ROW(reason)},
};
#undef ROW
const struct contract_event PAYMENT_PAYMENT_FAILED = {PAYMENT_PAYMENT_FAILED_TYPE,
                                                      PAYMENT_PAYMENT_FAILED_VERSION,
                                                      "payment",
                                                      "the charge for a booking was declined",
                                                      payment_payment_failed_fields,
                                                      CONTRACT_COUNT(payment_payment_failed_fields),
                                                      sizeof(struct payment_payment_failed)};

#define ROW(m) CONTRACT_AT(struct payment_payment_refunded, m)
static const struct contract_field payment_payment_refunded_fields[] = {
    {"payment_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0, "the payment",
     ROW(payment_id)},
    {"booking_id", CONTRACT_STRING, CONTRACT_REQUIRED, CONTRACT_FORMAT_UUID, 0, 0,
     "the expired booking", ROW(booking_id)},
    {"amount_cents", CONTRACT_INTEGER, CONTRACT_REQUIRED, CONTRACT_FORMAT_NONE, 1, 100000000000,
     "amount given back, in cents", ROW(amount_cents)},
};
#undef ROW
const struct contract_event PAYMENT_PAYMENT_REFUNDED = {
    PAYMENT_PAYMENT_REFUNDED_TYPE,
    PAYMENT_PAYMENT_REFUNDED_VERSION,
    "payment",
    "a charge was given back because its booking expired unconfirmed",
    payment_payment_refunded_fields,
    CONTRACT_COUNT(payment_payment_refunded_fields),
    sizeof(struct payment_payment_refunded)};

const struct contract_event *const payment_contract_events[] = {
    &PAYMENT_PAYMENT_SUCCEEDED,
    &PAYMENT_PAYMENT_FAILED,
    &PAYMENT_PAYMENT_REFUNDED,
    NULL,
};
