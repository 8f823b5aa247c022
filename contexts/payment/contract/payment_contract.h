/*
 * payment_contract.h - the integration events payment PUBLISHES: its public
 * contract, and the only header of payment another context may include.
 *
 * Each event has a type name, a major version, its data as a C struct and a
 * contract table (common/contract.h) whose rows say where each field lives in
 * the struct: the table encodes, validates, decodes and generates
 * docs/events.md; there is no code per event. Names follow the type:
 * payment.payment.succeeded → PAYMENT_PAYMENT_SUCCEEDED, struct payment_payment_succeeded.
 * Adding a field: optional and backwards compatible, or a new major version.
 */
#ifndef PAYMENT_CONTRACT_H
#define PAYMENT_CONTRACT_H

#include "common/contract.h"
#include "common/uuid7.h"

#include <stdint.h>

/* payment.payment.succeeded (v1): the amount of a booking was charged. */
#define PAYMENT_PAYMENT_SUCCEEDED_TYPE    "payment.payment.succeeded"
#define PAYMENT_PAYMENT_SUCCEEDED_VERSION 1
extern const struct contract_event PAYMENT_PAYMENT_SUCCEEDED;

struct payment_payment_succeeded {
    char payment_id[UUID7_STR_LEN];
    char booking_id[UUID7_STR_LEN];
    int64_t amount_cents;
};

/* payment.payment.failed (v1): the charge for a booking was declined. */
#define PAYMENT_PAYMENT_FAILED_TYPE    "payment.payment.failed"
#define PAYMENT_PAYMENT_FAILED_VERSION 1
extern const struct contract_event PAYMENT_PAYMENT_FAILED;

struct payment_payment_failed {
    char payment_id[UUID7_STR_LEN];
    char booking_id[UUID7_STR_LEN];
    int64_t amount_cents;
    char reason[CONTRACT_NAME_MAX + 1];
};

/* payment.payment.refunded (v1): a charge was given back because its booking expired unconfirmed. */
#define PAYMENT_PAYMENT_REFUNDED_TYPE    "payment.payment.refunded"
#define PAYMENT_PAYMENT_REFUNDED_VERSION 1
extern const struct contract_event PAYMENT_PAYMENT_REFUNDED;

struct payment_payment_refunded {
    char payment_id[UUID7_STR_LEN];
    char booking_id[UUID7_STR_LEN];
    int64_t amount_cents;
};

/* Every event payment publishes, NULL-terminated (for the catalog). */
extern const struct contract_event *const payment_contract_events[];

#endif
