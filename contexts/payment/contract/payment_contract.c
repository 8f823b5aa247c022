/*
 * payment_contract.c - the contract tables of the events
 * payment publishes (see payment_contract.h).
 */
#include "payment_contract.h"

/* The payment, and its amount within the bounds of a booking's. */
#define PAYMENT_ID(s)  CONTRACT_UUID(s, payment_id, "the payment")
#define AMOUNT(s, doc) CONTRACT_INT(s, amount_cents, 1, 100000000000, doc)

static const struct contract_field succeeded[] = {
    PAYMENT_ID(payment_payment_succeeded),
    CONTRACT_UUID(payment_payment_succeeded, booking_id, "the booking paid for"),
    AMOUNT(payment_payment_succeeded, "amount charged, in cents"),
};
CONTRACT_EVENT(PAYMENT_PAYMENT_SUCCEEDED, "payment", "the amount of a booking was charged",
               succeeded, payment_payment_succeeded);

static const struct contract_field failed[] = {
    PAYMENT_ID(payment_payment_failed),
    CONTRACT_UUID(payment_payment_failed, booking_id, "the booking"),
    AMOUNT(payment_payment_failed, "amount asked, in cents"),
    CONTRACT_NAME(payment_payment_failed, reason, CONTRACT_NAME_MAX, "why, e.g. 'limit_exceeded'"),
};
CONTRACT_EVENT(PAYMENT_PAYMENT_FAILED, "payment", "the charge for a booking was declined", failed,
               payment_payment_failed);

static const struct contract_field refunded[] = {
    PAYMENT_ID(payment_payment_refunded),
    CONTRACT_UUID(payment_payment_refunded, booking_id, "the expired booking"),
    AMOUNT(payment_payment_refunded, "amount given back, in cents"),
};
CONTRACT_EVENT(PAYMENT_PAYMENT_REFUNDED, "payment",
               "a charge was given back because its booking expired unconfirmed", refunded,
               payment_payment_refunded);

const struct contract_event *const payment_contract_events[] = {
    &PAYMENT_PAYMENT_SUCCEEDED,
    &PAYMENT_PAYMENT_FAILED,
    &PAYMENT_PAYMENT_REFUNDED,
    NULL,
};
