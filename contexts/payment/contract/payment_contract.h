/*
 * payment_contract.h - the integration events payment PUBLISHES: its public
 * contract, and the only header of payment another context may include.
 *
 * Each event has a type name, a major version, its data as a C struct, an
 * encoder and a decoder, and a contract table (common/contract.h) that
 * validates incoming data and generates docs/events.md. Names follow the type:
 * payment.payment.succeeded → PAYMENT_PAYMENT_SUCCEEDED, struct payment_payment_succeeded.
 * Adding a field: optional and backwards compatible, or a new major version.
 */
#ifndef PAYMENT_CONTRACT_H
#define PAYMENT_CONTRACT_H

#include "common/contract.h"
#include "common/err.h"

#include <jansson.h>
#include <stdint.h>

/* payment.payment.succeeded (v1): the amount of a booking was charged. */
#define PAYMENT_PAYMENT_SUCCEEDED_TYPE "payment.payment.succeeded"
#define PAYMENT_PAYMENT_SUCCEEDED_VERSION 1
extern const struct contract_event PAYMENT_PAYMENT_SUCCEEDED;

struct payment_payment_succeeded {
    char payment_id[37];
    char booking_id[37];
    int64_t amount_cents;
};

/* The event data as a new JSON object (NULL when out of memory). */
json_t *payment_payment_succeeded_encode(const struct payment_payment_succeeded *ev);

/* Reads data that passed the contract into *out. Returns 0 or ERR_INVALID. */
int payment_payment_succeeded_decode(const json_t *data, struct payment_payment_succeeded *out, struct err *err);

/* payment.payment.failed (v1): the charge for a booking was declined. */
#define PAYMENT_PAYMENT_FAILED_TYPE "payment.payment.failed"
#define PAYMENT_PAYMENT_FAILED_VERSION 1
extern const struct contract_event PAYMENT_PAYMENT_FAILED;

struct payment_payment_failed {
    char payment_id[37];
    char booking_id[37];
    int64_t amount_cents;
    char reason[65];
};

/* The event data as a new JSON object (NULL when out of memory). */
json_t *payment_payment_failed_encode(const struct payment_payment_failed *ev);

/* Reads data that passed the contract into *out. Returns 0 or ERR_INVALID. */
int payment_payment_failed_decode(const json_t *data, struct payment_payment_failed *out, struct err *err);

/* payment.payment.refunded (v1): a charge was given back because its booking expired unconfirmed. */
#define PAYMENT_PAYMENT_REFUNDED_TYPE "payment.payment.refunded"
#define PAYMENT_PAYMENT_REFUNDED_VERSION 1
extern const struct contract_event PAYMENT_PAYMENT_REFUNDED;

struct payment_payment_refunded {
    char payment_id[37];
    char booking_id[37];
    int64_t amount_cents;
};

/* The event data as a new JSON object (NULL when out of memory). */
json_t *payment_payment_refunded_encode(const struct payment_payment_refunded *ev);

/* Reads data that passed the contract into *out. Returns 0 or ERR_INVALID. */
int payment_payment_refunded_decode(const json_t *data, struct payment_payment_refunded *out, struct err *err);

/* Every event payment publishes, NULL-terminated (for the catalog). */
extern const struct contract_event *const payment_contract_events[];

#endif
